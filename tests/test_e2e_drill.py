"""End to end: the installed twtop in tmux at 80x24, drilled into a peer with 1,200 sockets
(ESTABLISHED pairs this test holds, built for real in a namespace the test creates: TIME_WAITs
would expire while a loaded machine runs the test): the count "of N" and the PROCESS column with
the owner's PID are on screen, PgDn past the page's last row shows the next range, End the
last, Home the first, `r` reverses the sort."""

from __future__ import annotations

import os
import re
import shutil
import time
from typing import Any

import pytest

from tests.helpers import Population, TestNetns
from tests.tmuxpane import TWTOP, Pane

pytestmark = pytest.mark.skipif(
    not TWTOP or not shutil.which("tmux"), reason="needs the installed twtop and tmux"
)


def _twtop_on_600_connections(netns: TestNetns, pop: Population, tmp_path: Any, tail: str) -> Pane:
    """600 ESTABLISHED connections (1,200 sockets) to 127.0.0.1:8080 and the installed twtop on
    them in tmux at 80x24 (``tail``: the rest of the shell command line)."""
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    with netns.inside():
        web = pop.listener("127.0.0.1", 8080, backlog=4096)
        pop.established(web, 600)
    pane = Pane(80, 24)
    try:
        env = f"TWTOP_CONFIG=/nonexistent XDG_STATE_HOME={tmp_path}"
        pane.type(f"env {env} {TWTOP} --netns {netns.name} {tail}")
    except BaseException:
        pane.close()
        raise
    return pane


def test_drill_down_pages_and_sorts_at_80x24(
    netns: TestNetns, pop: Population, tmp_path: Any
) -> None:
    pane = _twtop_on_600_connections(netns, pop, tmp_path, "--no-mouse")
    try:
        pane.wait_for("Peers by", 90)  # the first poll: slow on a loaded machine
        pane.tmux("send-keys", "-t", pane.session, "Enter")
        screen = pane.wait_re(r"1-500 of 1,2\d\d", 60)
        total = re.search(r"1-500 of (1,2\d\d)", screen)
        assert total is not None
        assert "PROCESS" in screen and "sorted by timer ▲" in screen
        row = next(ln for ln in screen.splitlines() if "ESTABLISHED" in ln)
        assert f"[{os.getpid()}]" in row  # the owner with its PID, at 80 columns
        for _ in range(60):  # PgDn scrolls the page; past its last row, the next page
            pane.tmux("send-keys", "-t", pane.session, "NPage")
            time.sleep(0.2)
            if "501-1,000 of" in pane.screen():
                break
        pane.wait_for(f"501-1,000 of {total.group(1)}")
        pane.tmux("send-keys", "-t", pane.session, "End")
        pane.wait_re(rf"\d+-{total.group(1)} of {total.group(1)} ─", 30)
        pane.tmux("send-keys", "-t", pane.session, "Home")
        pane.wait_re(rf"─ 1-500 of {total.group(1)} ─", 30)
        pane.tmux("send-keys", "-t", pane.session, "r")
        pane.wait_for("sorted by timer ▼")
        pane.wait_re(rf"─ 1-500 of {total.group(1)} ─", 30)
    finally:
        pane.close()


def test_q_while_a_drill_down_fetches_is_back_at_the_shell(
    netns: TestNetns, pop: Population, tmp_path: Any
) -> None:
    """Enter and q in one keystroke burst: q arrives while the first page is being read (a
    worker thread on its own netlink socket). twtop ends with 0, the terminal restored."""
    pane = _twtop_on_600_connections(netns, pop, tmp_path, "; echo rc=$?")
    try:
        pane.wait_for("Peers by", 90)
        pane.tmux("send-keys", "-t", pane.session, "Enter", "q")
        assert pane.run_status(60) == 0
        assert pane.show("#{alternate_on} #{cursor_flag}") == "0 1"
        pane.type("echo back-at-the-shell")
        pane.wait_for("\nback-at-the-shell")
    finally:
        pane.close()


HUNG_QUIT = r"""
import asyncio
from tui.signals import TerminalGuard
class Hung:  # an app whose teardown never ends (threads holding the GIL, a stuck loop)
    def exit(self, result=None, return_code=0, message=None):
        pass
guard = TerminalGuard(Hung())
guard._out = 1  # stdout is a pipe here: the test reads what would go to the terminal
async def main():
    guard.quit_soon(0)  # what `q` does (run_app wraps App.exit)
    await asyncio.sleep(60)
with guard:
    asyncio.run(main())
"""


def test_q_ends_twtop_even_when_the_app_does_not() -> None:
    """After q, if Textual's teardown has not finished within QUIT_S, the terminal is restored
    directly and the process exits with q's code (0), not 60 s later."""
    import subprocess
    import sys

    from tui.signals import RESTORE

    out = subprocess.run([sys.executable, "-c", HUNG_QUIT], capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == RESTORE.encode()
