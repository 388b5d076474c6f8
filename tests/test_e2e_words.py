"""End to end, in Chinese: the installed twtop with ``--lang zh`` in tmux at 80x24 on a real
population (bench/loadgen.py in its own namespace), and ``--once --lang zh``: no English word
outside the allowlist of names that stay as they are; the strip's rate is the gauge's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.tmuxpane import TWTOP, Pane
from tests.ui.test_words import english_words

pytestmark = [
    pytest.mark.skipif(not TWTOP or not shutil.which("tmux"), reason="needs twtop and tmux"),
    pytest.mark.skipif(os.geteuid() != 0, reason="loadgen makes a namespace: needs root"),
]
LOADGEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench",
                       "loadgen.py")  # fmt: skip


@pytest.fixture
def population(tmp_path: object) -> Iterator[str]:
    """A namespace with TIME_WAITs, connections and CLOSE_WAITs, for at most 90 s."""
    name = f"words-e2e-{os.getpid()}"
    ready = os.path.join(str(tmp_path), "ready")
    proc = subprocess.Popen(
        [sys.executable, LOADGEN, "--netns", name, "--tw", "3000", "--estab", "20",
         "--close-wait", "10", "--hold", "90", "--sustain", "--ready-file", ready],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(ready) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert os.path.exists(ready), "loadgen did not come up"
        yield name
    finally:
        proc.terminate()  # loadgen closes what it made and deletes its namespace
        proc.wait(timeout=30)


def _foreign(screen: str, population: str) -> list[str]:
    """English words on screen, the loadgen's process names (data, maybe elided) left out."""
    return [w for w in english_words(screen)
            if not any(w.strip("…") in name for name in ("loadgen.py", "python3", "vm"))
            and w != os.uname().nodename and w not in population]  # fmt: skip


def test_zh_first_screen_help_and_findings(population: str) -> None:
    pane = Pane(80, 24)
    try:
        pane.type(f"env TWTOP_CONFIG=/nonexistent {TWTOP} --netns {population} --lang zh")
        screen = pane.wait_re(r"约 [\d.]+/秒", 30)  # the strip under the peers, after 2 polls
        for title in ("TCP 状态", "临时端口", "按 远端 IP 分组"):
            assert title in screen, (title, screen)
        assert "/ 过滤" in screen and "q 退出" in screen
        assert _foreign(screen, population) == [], screen
        strip = re.search(r"约 ([\d.]+)/秒", screen)
        gauge = re.search(r"([\d.]+)/秒 每个占", screen)
        assert strip and gauge and strip.group(1) == gauge.group(1), screen
        pane.tmux("send-keys", "-t", pane.session, "?")
        screen = pane.wait_for("twtop — TCP 连接状态的 top")
        assert "过滤：Enter 应用，Esc 清除" in screen and _foreign(screen, population) == [], screen
        pane.tmux("send-keys", "-t", pane.session, "Escape")
        time.sleep(0.5)
        pane.tmux("send-keys", "-t", pane.session, "f")
        screen = pane.wait_for("证据：")
        assert _foreign(screen, population) == [], screen
        pane.tmux("send-keys", "-t", pane.session, "q")
    finally:
        pane.close()


def test_once_headings_in_zh(population: str) -> None:
    out = subprocess.run([TWTOP, "--once", "--netns", population, "--lang", "zh"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    for heading in ("状态", "每秒变化", "主要对端", "临时端口", "内核参数", "诊断", "总数"):
        assert heading in out.stdout, heading
    for english in ("STATE ", "TOP PEERS", "EPHEMERAL PORTS", "SYSCTLS", "FINDINGS", "TOTAL"):
        assert english not in out.stdout, english
