"""``f`` pressed before the first poll has landed: the findings view says it is waiting, then
fills itself when the poll lands (it showed a blank screen until Esc)."""

from __future__ import annotations

import pytest

from tests.ui.screen import screen_text, settle
from tests.ui.test_pilot import app_with, feed
from tui.screens.findings import FindingsScreen
from twtop.knowledge import FINDINGS


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_findings_before_the_first_poll_wait_then_fill(lang: str) -> None:
    app, _src = app_with()
    app.lang = lang
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FindingsScreen)
        text = screen_text(app)
        waiting = {"en": "waiting for the first poll…", "zh": "等待第一次采样…"}[lang]
        assert waiting in text, text
        feed(app)  # the first poll lands
        await settle(pilot)
        text = screen_text(app)
        assert isinstance(app.screen, FindingsScreen)
        assert waiting not in text, text
        title = FINDINGS["en"]["close_wait_leak"]["title"].split("{")[0]
        assert title == "CLOSE_WAIT piling up" and title in text, text


async def test_findings_view_follows_later_polls() -> None:
    """The findings view is live like the rest: a poll that lands while it is open redraws it
    with that poll's evidence (it kept the numbers of the moment `f` was pressed)."""
    app, _src = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app, 1)
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FindingsScreen)
        scroller = app.screen.query_one("#findings-scroll")
        await pilot.press("down")
        await settle(pilot)
        assert scroller.scroll_y == 1  # the reader has scrolled: a redraw must keep the place
        before = screen_text(app)
        feed(app, 40)  # 12,000 more TIME_WAITs towards the same peer
        await settle(pilot)
        after = screen_text(app)
        assert isinstance(app.screen, FindingsScreen)
        assert after != before
        assert scroller.scroll_y == 1
        assert "33,000" in after, after
