"""How the first screen reads (issue 9): the findings bar, the strip under the peers, the peer
table's edges and the findings' evidence, asserted on the composed screen text."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.ui.fakes import FakeSource, make_snapshot
from tests.ui.screen import screen_text, settle
from tui.app import TwtopApp
from tui.messages import SnapshotReady
from twtop.advisor import advise
from twtop.text import cols

SIZES = [(80, 24), (60, 20)]


def _app(lang: str = "en") -> TwtopApp:
    return TwtopApp(FakeSource(), {"interval": 1.0, "lang": lang}, poll=False)


async def _show(app: TwtopApp, pilot: object, **changes: object) -> None:
    for n in (1, 2):
        snap = replace(make_snapshot(n), **changes)  # type: ignore[arg-type]
        app.post_message(SnapshotReady(snap, tuple(advise(snap, app.lang))))
        await settle(pilot)


def _bar(text: str) -> list[str]:
    """The findings bar's lines: from the severity badge to the ports pane."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith((" CRITICAL", " 严重")))
    end = next(i for i, ln in enumerate(lines) if "Ephemeral ports" in ln or "临时端口" in ln)
    return lines[start:end]


@pytest.mark.parametrize("size", SIZES)
async def test_findings_bar_says_severity_what_who_and_how_many(size: tuple[int, int]) -> None:
    app = _app()
    async with app.run_test(size=size) as pilot:
        await _show(app, pilot)
        bar = _bar(screen_text(app))
        text = " ".join(bar)
        assert "CRITICAL" in text and "CLOSE_WAIT piling up (api-server[4242])" in text, bar
        if size[1] >= 24:  # a second line for how many (under 24 rows the title only)
            assert "2900 CLOSE_WAIT sockets" in text, bar
        assert bar[-1].rstrip().endswith(("+2 more (f)", "+2 (f)")), bar  # and there is more
        assert "…" not in text, bar  # nothing essential cut
        assert all(cols(ln.rstrip()) <= size[0] for ln in bar)


async def test_findings_bar_in_chinese_keeps_the_count_and_says_more() -> None:
    app = _app("zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await _show(app, pilot)
        text = " ".join(_bar(screen_text(app)))
        assert "严重" in text and "2900 个 CLOSE_WAIT" in text and "另有 2 条（f）" in text, text


@pytest.mark.parametrize("size", SIZES)
async def test_strip_hint_never_sits_on_a_line_of_its_own(size: tuple[int, int]) -> None:
    app = _app()
    async with app.run_test(size=size) as pilot:
        await _show(app, pilot)
        for _ in range(5):  # every peer: its explanation lines differ in length
            lines = screen_text(app).splitlines()
            bottom = next(i for i, ln in enumerate(lines) if ln.startswith("╰") and "group" in ln)
            strip = [ln.strip() for ln in lines[bottom + 1 : -1] if ln.strip()]
            assert strip, lines
            assert not any(ln.startswith("(Enter") for ln in strip), strip
            hinted = [ln for ln in strip if "Enter" in ln]
            assert all(ln.endswith("(Enter: sockets)") and "((" not in ln for ln in hinted), strip
            await pilot.press("down")
            await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_no_stray_scrollbar_glyph_in_the_peer_table(size: tuple[int, int]) -> None:
    """At 60 columns the table is wider than its pane: the horizontal scrollbar's thumb showed as
    a lone "▊" under the rows. Scrolling right still works (the PROCESS column is reachable)."""
    app = _app()
    async with app.run_test(size=size) as pilot:
        await _show(app, pilot)
        lines = screen_text(app).splitlines()
        top = next(i for i, ln in enumerate(lines) if "Peers by" in ln)
        bottom = next(i for i, ln in enumerate(lines) if ln.startswith("╰") and "group" in ln)
        table = lines[top + 1 : bottom]
        assert not any(ch in ln for ln in table for ch in "▏▎▍▌▋▊▉"), "\n".join(table)
        if size[0] < 80:
            assert "api-server[4242]" not in "\n".join(table)
            await pilot.press(*["right"] * 12)
            await settle(pilot)
            assert "api-server[4242]" in screen_text(app)


async def test_unwatched_close_wait_age_reads_as_unknown_until_watched() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _show(app, pilot, close_wait_aged=None)
        await pilot.press("f")
        await settle(pilot)
        text = " ".join(ln.strip() for ln in screen_text(app).splitlines())
        assert "how long they have been open: unknown until twtop has watched them 30 s" in text
        assert "unknown open" not in text


async def test_status_line_grows_instead_of_cutting_a_longer_message() -> None:
    """A short message first (PAUSED), then a long error: the line wraps, the error is whole."""
    from tui.messages import PollFailed

    app = _app()
    async with app.run_test(size=(60, 20)) as pilot:
        await _show(app, pilot)
        await pilot.press("space")
        await settle(pilot)
        error = "network namespace /run/netns/blue-staging-01 is gone (deleted while watched)"
        app.post_message(PollFailed(error))
        await settle(pilot)
        text = " ".join(" ".join(screen_text(app).splitlines()).split())
        assert "PAUSED" in text and error in text, screen_text(app)
