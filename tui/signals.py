"""SIGTERM, SIGHUP and SIGQUIT end the TUI like ``q`` does: the terminal restored, exit 128+N.

Their default actions kill the process on the spot, leaving the terminal in the alternate
screen with mouse reporting on and the cursor hidden. The handler asks the app to exit (Textual
then undoes everything it set up: alternate screen, mouse, cursor, keyboard protocol, tty
mode) with return code 128+N, as a shell reports a process killed by signal N. If the app has
not finished within ``GRACE_S`` (a hung loop, or a terminal gone after SIGHUP), or a second
signal arrives, the terminal is restored directly and the process exits at once with 128+N.
``q`` gets the same fallback after QUIT_S (``quit_soon``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
import threading
from types import FrameType, TracebackType
from typing import Any, Protocol

#: Signals that end the TUI with the terminal restored.
EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
#: Seconds the app gets to exit by itself before the terminal is restored directly.
GRACE_S = 2.0
#: After ``q``: seconds Textual's own teardown gets before the terminal is restored directly and
#: the process ends (issue 10: ``q`` < 1 s at any moment, also while a poll or a drill-down is
#: running Python on other threads).
QUIT_S = 0.6
#: The GIL switch interval once quitting (Python's default: 5 ms). The teardown passes many
#: messages, each a wait for the GIL while a worker thread holds it: up to 5 ms each, seconds in
#: all with a poll and a drill-down running.
QUIT_SWITCH_S = 0.0005
#: Kitty keyboard protocol off, mouse reporting off (all modes), bracketed paste off, focus
#: events off, leave the alternate screen, cursor visible.
RESTORE = (
    "\x1b[<u"
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l"
    "\x1b[?2004l\x1b[?1004l"
    "\x1b[?1049l\x1b[?25h"
)


class Exitable(Protocol):
    """What the guard needs of the app."""

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None:
        """Ask the app to exit with ``return_code``."""


def _fileno(stream: Any) -> int | None:
    try:
        fd = int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return fd if os.isatty(fd) else None


class TerminalGuard:
    """Installs the handlers around ``app.run()``; restores the previous ones afterwards."""

    def __init__(self, app: Exitable) -> None:
        self.app = app
        self.code: int | None = None
        self._out = _fileno(sys.__stderr__)  # Textual draws on stderr
        self._in = _fileno(sys.__stdin__)  # and sets the tty mode on stdin
        self._attrs: list[Any] | None = None
        self._previous: dict[int, Any] = {}
        self._quit: threading.Timer | None = None
        self._switch = sys.getswitchinterval()

    def __enter__(self) -> TerminalGuard:
        if self._in is not None:
            with contextlib.suppress(termios.error):
                self._attrs = termios.tcgetattr(self._in)  # the mode before Textual's raw mode
        for sig in EXIT_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
        if self._quit is not None:  # the app finished in time
            self._quit.cancel()
            self._quit = None
            sys.setswitchinterval(self._switch)

    def quit_soon(self, code: int) -> None:
        """The app was asked to exit with ``code`` (``q``): let its threads hand the GIL back
        sooner, and if it has not finished within QUIT_S, restore the terminal and exit."""
        if self._quit is None:
            sys.setswitchinterval(QUIT_SWITCH_S)
            self._quit = threading.Timer(QUIT_S, self.restore_and_exit, (code,))
            self._quit.daemon = True
            self._quit.start()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        code = 128 + signum
        if self.code is not None:  # a second signal: no more waiting
            self.restore_and_exit(self.code)
        self.code = code
        timer = threading.Timer(GRACE_S, self.restore_and_exit, (code,))
        timer.daemon = True
        timer.start()
        try:
            loop = asyncio.get_running_loop()  # the handler runs on the app's (main) thread
        except RuntimeError:
            self.restore_and_exit(code)
            return
        loop.call_soon_threadsafe(lambda: self.app.exit(return_code=code))

    def restore_and_exit(self, code: int) -> None:
        """Restore the terminal without the app's help and end the process with ``code``."""
        if self._out is not None:
            with contextlib.suppress(OSError):
                os.write(self._out, RESTORE.encode())
        if self._in is not None and self._attrs is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self._in, termios.TCSANOW, self._attrs)
        os._exit(code)


__all__ = ["EXIT_SIGNALS", "GRACE_S", "QUIT_S", "RESTORE", "TerminalGuard"]
