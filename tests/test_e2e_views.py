"""End to end: the installed twtop in tmux at 80x24 against a listener whose accept queue is
full (built for real in a namespace the test creates): `l` shows it "full" with its owner, `c`
shows the counters, `n` writes a note and says its full path."""

from __future__ import annotations

import os
import re
import shutil
import stat
from typing import Any

import pytest

from tests.helpers import Population, TestNetns
from tests.tmuxpane import TWTOP, Pane

pytestmark = pytest.mark.skipif(
    not TWTOP or not shutil.which("tmux"), reason="needs the installed twtop and tmux"
)


def test_listeners_view_shows_a_full_accept_queue(
    netns: TestNetns, pop: Population, tmp_path: Any
) -> None:
    with netns.inside():
        full = pop.listener("127.0.0.1", 7373, backlog=2)
        pop.listener("127.0.0.1", 7374, backlog=16)
        # The queue holds backlog + 1: three connections fill it, none is ever accepted.
        waiting = [pop.connect(full) for _ in range(3)]
        pop.keep += waiting
    pane = Pane(80, 24)

    def back() -> None:
        # A key right after Esc would arrive as Alt+key, as in any terminal: wait as a person does.
        pane.tmux("send-keys", "-t", pane.session, "Escape")
        pane.wait_for("Peers by")

    try:
        env = f"TWTOP_CONFIG=/nonexistent XDG_STATE_HOME={tmp_path}"
        pane.type(f"env {env} {TWTOP} --netns {netns.name} --no-mouse")
        pane.wait_for("Peers by")
        pane.tmux("send-keys", "-t", pane.session, "l")
        screen = pane.wait_for("3/2 full")
        row = next(ln for ln in screen.splitlines() if "127.0.0.1:7373" in ln)
        assert re.search(r"3/2 full\s+0\s+0\s", row), row  # no SYN_RECV, no CLOSE_WAIT queued
        assert f"[{os.getpid()}]" in row  # the owner: this test's process, PID visible
        quiet = next(ln for ln in screen.splitlines() if "127.0.0.1:7374" in ln)
        assert "0/16" in quiet and "full" not in quiet
        assert "ListenOverflows" in screen
        back()
        pane.tmux("send-keys", "-t", pane.session, "c")
        screen = pane.wait_for("Kernel TCP counters")
        assert "PassiveOpens" in screen and "CurrEstab" in screen
        back()
        pane.tmux("send-keys", "-t", pane.session, "n")
        screen = pane.wait_for("incident note written to")
        (name,) = os.listdir(os.path.join(str(tmp_path), "twtop"))
        path = os.path.join(str(tmp_path), "twtop", name)
        # The toast (right of its "▌" edge) wraps the path: its lines joined give it in full.
        toast = "".join(ln.split("▌", 1)[1].strip(" │─╯") for ln in screen.splitlines()
                        if "▌" in ln)  # fmt: skip
        assert f"incident note written to{path}" in toast, screen
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path) as f:
            note = f.read()
        assert "| 127.0.0.1:7373 | 3/2 full | 0 | 0 |" in note
    finally:
        pane.close()
