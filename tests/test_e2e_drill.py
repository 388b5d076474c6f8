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


def test_drill_down_pages_and_sorts_at_80x24(
    netns: TestNetns, pop: Population, tmp_path: Any
) -> None:
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    with netns.inside():
        web = pop.listener("127.0.0.1", 8080, backlog=4096)
        pop.established(web, 600)
    pane = Pane(80, 24)
    try:
        env = f"TWTOP_CONFIG=/nonexistent XDG_STATE_HOME={tmp_path}"
        pane.type(f"env {env} {TWTOP} --netns {netns.name} --no-mouse")
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
