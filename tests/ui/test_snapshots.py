"""The look of the app (pytest-textual-snapshot) on a fixed fake source and clock."""

from __future__ import annotations

from typing import Any

from tests.ui.fakes import FakeSource, make_snapshot
from tui.app import TwtopApp
from tui.messages import SnapshotReady
from twtop.advisor import advise


def _app() -> TwtopApp:
    settings = {"interval": 1.0, "lang": "en", "clock": lambda: 1000.0}
    return TwtopApp(FakeSource(), settings, poll=False)


async def _feed(pilot: Any) -> None:
    app = pilot.app
    await pilot.pause()  # the main screen's panes are mounted
    for n in range(1, 12):
        app.main.record(make_snapshot(n))
    snap = make_snapshot(12)
    app.post_message(SnapshotReady(snap, tuple(advise(snap, "en"))))
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause(0.3)  # the footer's keys settle after the bindings do


def test_main_80x24(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_feed)


def test_main_160x48(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=(160, 48), run_before=_feed)


def test_drill_down(snap_compare: Any) -> None:
    async def run(pilot: Any) -> None:
        await _feed(pilot)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(80, 24), run_before=run)


def test_explainer(snap_compare: Any) -> None:
    async def run(pilot: Any) -> None:
        await _feed(pilot)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(80, 24), run_before=run)
