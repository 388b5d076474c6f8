"""SIGTERM, SIGHUP and SIGQUIT leave the terminal as they found it, and twtop exits 128+N."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.tmuxpane import TWTOP, Pane
from tui.signals import GRACE_S, RESTORE


def _child_of(pid: int, timeout: float = 10.0) -> int:
    """The pid of the (single) child of ``pid``: twtop started by the pane's shell."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
        if kids:
            return int(kids[0])
        time.sleep(0.05)
    raise AssertionError("twtop did not start")


@pytest.mark.skipif(not TWTOP or not shutil.which("tmux"), reason="needs installed twtop and tmux")
@pytest.mark.parametrize(
    "sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT], ids=lambda s: s.name
)
def test_signal_restores_the_terminal(sig: signal.Signals) -> None:
    pane = Pane(80, 24)
    try:
        shell = int(pane.show("#{pane_pid}"))
        pane.type(f"TWTOP_CONFIG=/nonexistent {TWTOP}; echo rc=$?")  # mouse on, as by default
        twtop = _child_of(shell)
        pane.wait_for("TCP states")
        assert pane.show("#{alternate_on} #{cursor_flag}") == "1 0"  # what twtop set up
        assert pane.show("#{mouse_any_flag}") == "1"
        os.kill(twtop, sig)
        assert pane.run_status() == 128 + sig  # as a shell reports death by signal N
        assert pane.show("#{alternate_on}") == "0", "still in the alternate screen"
        assert pane.show("#{cursor_flag}") == "1", "cursor hidden"
        assert pane.show("#{mouse_any_flag} #{mouse_sgr_flag}") == "0 0", "mouse reporting on"
        pane.type("echo back-at-the-shell")  # the shell reads lines again (tty mode restored)
        pane.wait_for("\nback-at-the-shell")
    finally:
        pane.close()


HUNG_APP = r"""
import asyncio, os, signal
from tui.signals import TerminalGuard
class Hung:  # an app whose loop never gets to exit
    def exit(self, result=None, return_code=0, message=None):
        pass
guard = TerminalGuard(Hung())
guard._out = 1  # stdout is a pipe here: the test reads what would go to the terminal
async def main():
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.sleep(30)
with guard:
    asyncio.run(main())
"""


def test_a_hung_app_still_restores_the_terminal_and_exits() -> None:
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", HUNG_APP], capture_output=True, timeout=20)
    took = time.monotonic() - t0
    assert out.returncode == 128 + signal.SIGTERM, out.stderr
    assert out.stdout == RESTORE.encode()
    assert GRACE_S <= took < GRACE_S + 8  # after the grace period, not 30 s
