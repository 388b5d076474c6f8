"""The help screen: every key, the filter language, what the columns mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]twtop[/b] — a top for TCP connection states

[b]Keys[/b]
  q, F10, ctrl+c quit
  ?, F1          this help
  /, F4          filter (Enter applies, Esc clears); errors point at the token
  s, F6          sort by the next column (peers and sockets);  r  reverse
  g              group peers by remote IP → IP:port → local port → process
  space, Z       pause the display (collection continues, history has no gap)
  + / -          slower / faster polling
  f              findings: evidence, why and what to do (Enter on the bar too)
  l              listeners: accept queue/backlog ("full"), SYN_RECV, owner
  c              kernel TCP counters with rates, the ones that moved first
  n              write an incident note (Markdown; the path is shown)
  Enter          drill down: peer → its sockets → one socket's explanation
  Esc            back
  e              export the current snapshot as JSON (the path is shown)
  ctrl+s         save an SVG screenshot
  ctrl+p         command palette

[b]Filter language[/b] (like ss)
  state time-wait            state established,close-wait
  dst 10.0.0.0/8             src [::1]       dst 10.1.2.3:443
  dport = :443   sport >= 1024   with and / or / not and parentheses

[b]Columns[/b]
  IN: sockets whose local port is a listening port (peers connected here)
  OUT: connections this host opened (they use ephemeral ports)
  TIME_W on OUT means this host closed first; CLOSE_W means the peer closed
  and the owning process has not called close().

twtop only reads: it never changes a sysctl or closes a socket.
"""


class HelpScreen(ModalScreen[None]):
    """Every binding, the filter language, what the columns mean."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close", id="close"),
    ]
    """Any of the keys that opened it closes it."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP)
