"""End to end: the installed twtop in tmux, against sockets this test made, driven by keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.helpers import Population, TestNetns

_HERE = os.path.join(os.path.dirname(sys.executable), "twtop")
TWTOP = _HERE if os.path.exists(_HERE) else (shutil.which("twtop") or "")
pytestmark = pytest.mark.skipif(
    not TWTOP or not shutil.which("tmux"), reason="needs the installed twtop and tmux"
)


def _capture(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=True
    ).stdout


def _wait_for(session: str, needle: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(session)
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; screen:\n{screen}")


@pytest.mark.parametrize(
    "term_env",
    ["TERM=xterm-256color", "TERM=linux NO_COLOR=1"],
    ids=["xterm-256color", "linux-no-color"],
)
def test_twtop_in_tmux(netns: TestNetns, pop: Population, term_env: str) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        other = pop.listener("127.0.0.2", 9090)
        pop.time_wait(other, 7)
        pop.close_wait(lst, 3)
    session = f"twtop-e2e-{os.getpid()}"
    env = "TWTOP_CONFIG=/nonexistent TERM=xterm-256color LANG=C.UTF-8"
    cmd = f"env {env} {TWTOP} --netns {netns.name} --no-mouse"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd],
                   check=True)  # fmt: skip
    try:
        screen = _wait_for(session, "Peers by remote IP")
        screen = _wait_for(session, "127.0.0.2")
        lines = screen.splitlines()
        (row,) = [ln for ln in lines if "127.0.0.2 " in ln and "│" in ln]
        header = next(ln for ln in lines if "TIME_W" in ln and "PEER" in ln)

        def cell(label: str) -> str:
            end = header.index(label) + len(label)
            return row[end - 6 : end].strip(" ·")

        assert (cell("TOTAL"), cell("ESTAB"), cell("TIME_W")) == ("7", "", "7")
        assert "PROCESS" in header and " OUT" not in header  # IN/OUT give way at 80 columns
        assert "TIME_WAIT" in screen and "CLOSE_WAIT" in screen
        import re

        assert re.search(r"CLOSE_WAIT\s+3\b", screen)  # the states pane counts our 3
        assert re.search(r"TIME_WAIT\s+7\b", screen)
        # filter to TIME_WAIT only: the 127.0.0.1 CLOSE_WAIT peer disappears
        subprocess.run(["tmux", "send-keys", "-t", session, "/"], check=True)
        time.sleep(0.5)  # as a person would: the input opens, then we type
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", "state time-wait"], check=True)
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        _wait_for(session, "filter: state time-wait")
        time.sleep(1.5)
        screen = _capture(session)
        peers = [ln for ln in screen.splitlines() if ln.startswith("│127.") and "→" not in ln]
        assert [p.split()[0].strip("│") for p in peers] == ["127.0.0.2"]
        # drill down and explain
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        screen = _wait_for(session, "1-7 of 7")  # the page, once fetched (title: sort by timer)
        assert "sorted by timer" in screen
        assert " 127.0.0.2: 7 sockets" in screen and screen.count("127.0.0.2:9090") == 7
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        screen = _wait_for(session, "ACTIVE closer")
        assert "TIME_WAIT timer" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        _wait_for(session, "Peers by remote IP")
        # pause: said on screen at 80x24 even with a namespace and a filter in the header
        subprocess.run(["tmux", "send-keys", "-t", session, "Space"], check=True)
        _wait_for(session, "‖ PAUSED")
        subprocess.run(["tmux", "send-keys", "-t", session, "Space"], check=True)
        # the findings view: every finding with its action (here: the 3 CLOSE_WAITs are filtered
        # out, so "all clear" or the findings of what is left)
        subprocess.run(["tmux", "send-keys", "-t", session, "f"], check=True)
        screen = _wait_for(session, "esc Back")
        assert "all clear" in screen or "do: " in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        _wait_for(session, "Peers by remote IP")
        subprocess.run(["tmux", "send-keys", "-t", session, "F10"], check=True)  # htop's quit
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True)
            if alive.returncode != 0:
                break
            time.sleep(0.2)
        assert alive.returncode != 0, "F10 did not quit"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
