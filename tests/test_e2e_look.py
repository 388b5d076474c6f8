"""End to end, how the screen reads: the installed twtop in tmux against sockets made in a
namespace the test creates, asserting on what the terminal shows (``capture-pane``)."""

from __future__ import annotations

import re
import shutil

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
