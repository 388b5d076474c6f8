"""End to end, how the screen reads: the installed twtop in tmux against sockets made in a
namespace the test creates, asserting on what the terminal shows (``capture-pane``)."""

from __future__ import annotations

import re
import shutil
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
