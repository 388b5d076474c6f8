"""The app's screens: main (the live overview), peer (a group's sockets), socket, findings, help."""
