"""End to end, how the screen reads: the installed twtop in tmux against sockets made in a
namespace the test creates, asserting on what the terminal shows (``capture-pane``)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time

import pytest

from tests.helpers import Population, TestNetns
from tests.tmuxpane import TWTOP, Pane

pytestmark = pytest.mark.skipif(
    not TWTOP or not shutil.which("tmux"), reason="needs the installed twtop and tmux"
)

SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def colour_codes(escaped: str) -> list[str]:
    """The SGR parameters that set a colour (30-38, 40-48, 90-97, 100-107; not 39/49, which
    reset to the terminal's own)."""
    bad = []
    for m in SGR.finditer(escaped):
        params = [int(p) for p in re.split(r"[;:]", m.group(1)) if p.isdigit()]
        for p in params:
            if 30 <= p <= 38 or 40 <= p <= 48 or 90 <= p <= 97 or 100 <= p <= 107:
                bad.append(m.group(0))
                break
    return bad


@pytest.mark.parametrize("term", ["xterm-256color", "linux"])
def test_no_color_has_no_colour_and_everything_stays_visible(
    netns: TestNetns, pop: Population, term: str
) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        other = pop.listener("127.0.0.2", 9090)
        pop.time_wait(other, 7)
        pop.close_wait(lst, 3)
    pane = Pane(80, 24)
    try:
        env = f"TWTOP_CONFIG=/nonexistent TERM={term} NO_COLOR=1"
        pane.type(f"env {env} {TWTOP} --netns {netns.name} --no-mouse")
        pane.wait_for("127.0.0.2", timeout=60)
        escaped = pane.tmux("capture-pane", "-e", "-p", "-t", pane.session)
        assert colour_codes(escaped) == [], escaped
        text = SGR.sub("", escaped)
        assert re.search(r"TIME_WAIT\s+7\b", text) and re.search(r"CLOSE_WAIT\s+3\b", text)
        assert "Peers by" in text and "127.0.0.2" in text
        # the findings bar: a severity word (or the all-clear mark) under the states pane
        assert re.search(r"^ (CRITICAL|WARNING|INFO|✓) ", text, re.M), text
        # the cursor row is marked without colour: reverse video on the first peer row
        rows = [ln for ln in escaped.splitlines() if "127.0.0." in ln and "│" in ln]
        assert any("\x1b[7m" in r or re.search(r"\x1b\[[0-9;]*\b7m", r) for r in rows), rows
        # sparklines are glyphs in the default colour, on every state line
        assert re.search(r"TIME_WAIT\s+7\s.*[▁▂▃▄▅▆▇█]", text), text
    finally:
        pane.close()


def _rate(screen: str, state: str) -> tuple[int, float | None]:
    """(count, CHANGE/s) of ``state`` in the states pane; the rate None when blank."""
    m = re.search(rf"{state}\s+([\d,]+)(?:\s+([+-]?[\d.]+)(k?)/s)?", screen)
    assert m is not None, screen
    n = int(m.group(1).replace(",", ""))
    if m.group(2) is None:
        return n, None
    return n, float(m.group(2)) * (1000 if m.group(3) else 1)


def test_change_per_second_follows_a_steady_growth_and_reads_zero_when_steady(
    netns: TestNetns, pop: Population
) -> None:
    """TIME_WAITs made in bursts (60 every 1.5 s, ~40/s): CHANGE/s reads the growth at every
    poll, never 0 between bursts (a rate from two polls did); once making stops it reads 0."""
    # tcp_tw_reuse=2 lets connect() on loopback take over TIME_WAITs older than 1 s: the count
    # would grow by less than was made; 0 keeps every one for its 60 s
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.established(lst, 20)
    pane = Pane(80, 24)
    stop = threading.Event()
    made: list[tuple[float, int]] = []

    def make() -> None:
        with netns.inside():
            t0, n = time.monotonic(), 0
            while not stop.is_set() and n < 1200:  # bounded: < 60 s of TIME_WAIT, 1,200 sockets
                pop.time_wait(lst, 60)
                n += 60
                made.append((time.monotonic() - t0, n))
                stop.wait(1.5)

    try:
        pane.type(f"env TWTOP_CONFIG=/nonexistent {TWTOP} --netns {netns.name} --no-mouse")
        pane.wait_re(r"ESTABLISHED\s+40\b", timeout=60)
        maker = threading.Thread(target=make, daemon=True)
        maker.start()
        time.sleep(8)  # the window (5 s) fills with the growth
        seen = []
        for _ in range(5):
            screen = pane.screen()
            seen.append((_rate(screen, "TIME_WAIT")[1], screen))
            est = _rate(screen, "ESTABLISHED")[1]  # 40 held, a few made and closed at a time
            assert est is not None and abs(est) < 2, screen  # steady: ~0
            time.sleep(1)
        stop.set()
        maker.join(30)
        elapsed, total = made[-1]
        true_rate = total / elapsed
        for r, screen in seen:  # every read: growth, of the right order of magnitude
            assert r is not None and true_rate / 3 < r < true_rate * 3, (r, true_rate, screen)
        # the sparkline beside it rises
        spark = re.search(r"TIME_WAIT.*/s\s+([▁▂▃▄▅▆▇█]+)", seen[-1][1])
        assert spark is not None and spark.group(1)[-1] > spark.group(1)[0], seen[-1][1]
        # steady again: the same count, 0/s (TIME_WAIT lasts 60 s, longer than this test)
        screen = pane.wait_re(r"TIME_WAIT\s+[\d,]+\s+0/s", timeout=30)
        assert abs(_rate(screen, "TIME_WAIT")[0] - total) <= 2, (total, screen)
        assert "change/s over 5 s" in screen
    finally:
        stop.set()
        pane.close()


def orphans(screen: str, width: int) -> list[str]:
    """Lines holding one word that would have fitted on the line before, with text after them:
    the mark of a paragraph wrapped twice (at one width, then again at a narrower one). The text
    may use ``width - 3`` columns (a padding column each side, a scrollbar of two)."""
    lines = [re.sub(r"[▁▂▃▄▅▆▇█]+\s*$", "", ln) for ln in screen.splitlines()]  # scrollbar
    out = []
    for prev, line, after in zip(lines, lines[1:], lines[2:], strict=False):
        words = line.split()
        fits = len(words) == 1 and len(prev.rstrip()) + 1 + len(words[0]) <= width - 3
        if fits and prev.strip() and after.strip():
            out.append(f"{prev.rstrip()} | {line.strip()}")
    return out


def _open_explainer(pane: Pane) -> str:
    """Enter on the first peer, Enter on its first socket: the explainer's screen."""
    pane.wait_for("Peers by", timeout=60)
    pane.wait_for("3 CLOSE_WAIT", timeout=30)  # the strip under the peers, at any width
    pane.tmux("send-keys", "-t", pane.session, "Enter")
    pane.wait_for("Sockets", timeout=30)
    pane.tmux("send-keys", "-t", pane.session, "s")  # timer sort -> state sort: CLOSE_WAIT first
    pane.wait_for("by state", timeout=30)
    pane.wait_re(r"CLOSE_WAIT\s+\S*:8080", timeout=30)  # LOCAL is elided at narrow widths
    pane.tmux("send-keys", "-t", pane.session, "Enter")
    return pane.wait_for("CLOSE_WAIT —", timeout=30)


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (40, 20)])
def test_explainer_is_wrapped_once_at_its_width_and_the_diagram_fits(
    netns: TestNetns, pop: Population, size: tuple[int, int]
) -> None:
    """The socket explainer of a CLOSE_WAIT ("... the peer connected to a listening port
    here"): no orphan word at 80, 60 or 40 columns (the last used to be wrapped at 40 columns
    and again at 36); under 70 columns the handshake's ends are titled one per line, whole."""
    width, height = size
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.close_wait(lst, 3)
    pane = Pane(width, height)
    try:
        pane.type(f"env TWTOP_CONFIG=/nonexistent {TWTOP} --netns {netns.name} --no-mouse")
        screen = _open_explainer(pane)
        time.sleep(1.5)  # the timer line redraws each second: a settled screen
        screen = pane.screen()
        assert orphans(screen, width) == [], screen
        assert all(len(line) <= width for line in screen.splitlines())
        steps = [ln for ln in screen.splitlines() if re.search(r"-{10,}>|<-{10,}", ln)]
        assert len(steps) == 4 and all(re.search(r"FIN|ACK", ln) for ln in steps), screen
        if width < 70:  # compact: each end on one line of its own, whole
            assert re.search(r"this host 127\.0\.0\.1:8080 \(passive closer\)", screen) or (
                width < 45
            ), screen
            assert re.search(r"peer 127\.0\.0\.1:\d+ \(active closer\)", screen), screen
        else:
            assert re.search(r"this host 127\.0\.0\.1:8080 +peer 127\.0\.0\.1:\d+", screen)
    finally:
        pane.close()


def _unprivileged_python(netns: str) -> list[str] | None:
    """A Python that uid 65534 can run with this checkout importable (the test's own may live
    under a 0700 home), as ``[python, -c, code]`` running twtop's CLI; None when there is none."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    site = next((p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)), "")
    code = "import sys; from twtop.cli import main; sys.exit(main(sys.argv[1:]))"
    drop = ["ip", "netns", "exec", netns, "setpriv", "--reuid=65534", "--regid=65534",
            "--clear-groups", "--"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": f"{here}:{site}"}
    for python in ("/usr/bin/python3.11", sys.executable):  # probed as the test will run it
        probe = subprocess.run([*drop, python, "-c", "import textual, twtop.cli"], env=env,
                               capture_output=True, timeout=60, cwd="/")  # fmt: skip
        if probe.returncode == 0:
            return [f"PYTHONPATH={here}:{site}", python, "-c", shlex.quote(code)]
    return None


@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv")
@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
def test_unprivileged_run_says_why_process_is_empty(
    netns: TestNetns, pop: Population, size: tuple[int, int]
) -> None:
    """As uid 65534 the sockets of this (root) test have no owner: the status line says why, in
    full, and the findings say why instead of naming no one."""
    cmd = _unprivileged_python(netns.name)
    if cmd is None:
        pytest.skip("no Python that uid 65534 can run with this checkout")
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.close_wait(lst, 60)
    pane = Pane(*size)
    try:
        drop = "setpriv --reuid=65534 --regid=65534 --clear-groups --"
        env = "TWTOP_CONFIG=/nonexistent HOME=/tmp LANG=C.UTF-8"
        pane.type(f"ip netns exec {netns.name} {drop} env {env} {' '.join(cmd)} --no-mouse")
        # The note's wrapped second line can lag its first by a frame (the bar grows on the next
        # layout): wait for its last words, then check it is whole and where it belongs.
        screen = pane.wait_re(r"needs\s+root\)", timeout=60)
        note = " ".join(screen.split("not root", 1)[1].splitlines()[:3])
        words = " ".join(note.split())
        assert "PROCESS is empty for other users' sockets" in words, screen
        assert "(reading their /proc/PID/fd needs root)" in words, screen  # never truncated
        row = next(ln for ln in screen.splitlines() if "│127.0.0.1 " in ln)
        assert "[" not in row, row  # no owner shown: PROCESS is empty
        pane.tmux("send-keys", "-t", pane.session, "f")
        screen = pane.wait_for("evidence", timeout=30)
        body = "\n".join(screen.rstrip("\n").splitlines()[:-1])  # the footer has "? Help"
        text = " ".join(body.split())
        assert "owner unknown: reading other users' processes needs root" in text, screen
        assert " ? " not in text and "owned by ?" not in text
    finally:
        pane.close()
