"""A tmux pane on a private server, with a shell in it, for end-to-end tests of the installed twtop.

A private socket (``tmux -L``) keeps the test away from other users' tmux servers, whose global
environment (COLUMNS=80, LINES=24 exported by whoever started the server) would leak into the
shell and pin Textual's size.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

_HERE = os.path.join(os.path.dirname(sys.executable), "twtop")
TWTOP = _HERE if os.path.exists(_HERE) else (shutil.which("twtop") or "")


class Pane:
    """``sh`` in a detached tmux session of the given size on a private server."""

    counter = 0

    def __init__(self, width: int = 80, height: int = 24) -> None:
        Pane.counter += 1
        self.socket = f"twtop-test-{os.getpid()}-{Pane.counter}"
        self.session = "t"
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
        env.update(TERM="xterm-256color", LANG="C.UTF-8")
        subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", "new-session", "-d", "-s", self.session,
             "-x", str(width), "-y", str(height), "sh"],
            check=True, env=env,
        )  # fmt: skip
        self.tmux("set-option", "-g", "remain-on-exit", "off")

    def tmux(self, *args: str) -> str:
        """Run a tmux command on this server; its stdout."""
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return out.stdout

    def type(self, line: str) -> None:
        """Type a line and press Enter."""
        self.tmux("send-keys", "-t", self.session, "-l", line)
        self.tmux("send-keys", "-t", self.session, "Enter")

    def screen(self) -> str:
        """The visible text of the pane."""
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def show(self, fmt: str) -> str:
        """A tmux format for the pane (``#{cursor_flag}``, ``#{pane_title}``...)."""
        return self.tmux("display", "-p", "-t", self.session, fmt).strip()

    def wait_for(self, needle: str, timeout: float = 15.0) -> str:
        """The screen once ``needle`` is on it; AssertionError with the screen otherwise."""
        return self.wait_re(re.escape(needle), timeout)

    def wait_re(self, pattern: str, timeout: float = 15.0) -> str:
        """The screen once ``pattern`` matches it; AssertionError with the screen otherwise."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if re.search(pattern, screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} never appeared; screen:\n{screen}")

    def run_status(self, timeout: float = 15.0) -> int:
        """The exit status a line typed as ``CMD; echo rc=$?`` printed."""
        m = re.search(r"rc=(\d+)", self.wait_re(r"rc=\d+", timeout))
        assert m is not None
        return int(m.group(1))

    def close(self) -> None:
        """Kill the private server (and whatever still runs in it)."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
