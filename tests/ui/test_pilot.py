"""Every binding, drill-down and back, filter errors, pause, resize -- driven with Pilot."""

from __future__ import annotations

import json
import os

from tests.ui.fakes import FakeSource, make_snapshot
from tui.app import TwtopApp
from tui.screens import HelpScreen, PeerScreen, SocketScreen
from twtop.states import TcpState
from widgets.header import StatusHeader
from widgets.peers import PeerTable
from widgets.sockets import SocketTable


def app_with(tmp_path: object = None, poll: bool = False) -> tuple[TwtopApp, FakeSource]:
    src = FakeSource()
    settings = {"interval": 1.0, "lang": "en", "state_dir": str(tmp_path) if tmp_path else None}
    return TwtopApp(src, settings, poll=poll), src


async def test_first_screen_shows_counts_and_peers() -> None:
    app, _src = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(make_snapshot(1))
        await pilot.pause()
        table = app.query_one(PeerTable)
        assert table.row_count == 5
        assert table.selected_row().peer == "10.4.14.24"  # type: ignore[union-attr]
        assert "Peers by remote IP" in str(table.border_title)
        header = app.query_one(StatusHeader).render().plain
        assert "web-7" in header and "25,509 sockets" in header


async def test_poll_worker_delivers_snapshots_and_failures() -> None:
    app, src = app_with(poll=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(40):
            await pilot.pause(0.05)
            if app.snapshot is not None:
                break
        assert app.snapshot is not None
        src.fail = "network namespace 'x' is gone"
        app.refresh_now()
        for _ in range(40):
            await pilot.pause(0.05)
            if app.query_one(StatusHeader).error:
                break
        assert "is gone" in app.query_one(StatusHeader).render().plain
        assert app.snapshot is not None  # the last good data stays
        src.fail = None
        app.refresh_now()
        for _ in range(40):
            await pilot.pause(0.05)
            if not app.query_one(StatusHeader).error:
                break
        assert app.query_one(StatusHeader).error is None


async def test_quit_keys() -> None:
    for key in ("q", "ctrl+c"):
        app, _ = app_with()
        async with app.run_test() as pilot:
            await pilot.press(key)
            await pilot.pause()
        assert app.return_code == 0


async def test_help_opens_and_closes() -> None:
    app, _ = app_with()
    async with app.run_test() as pilot:
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)


async def test_filter_error_keeps_last_good_filter() -> None:
    app, src = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(make_snapshot(1))
        await pilot.press("slash")
        await pilot.press(*"state time-wait")
        await pilot.press("enter")
        await pilot.pause()
        assert src.filter == "state time-wait"
        await pilot.press("f4")
        inp = app.query_one("#filter")
        inp.value = "state time-wait and dprot = 80"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        err = str(app.query_one("#filter-error").render())
        assert "'dprot' at column 21" in err and "^" in err
        assert src.filter == "state time-wait"  # unchanged
        await pilot.press("escape")  # Esc clears the filter
        await pilot.pause()
        assert src.filter is None


async def test_sort_reverse_and_selection_survives_refresh() -> None:
    app, _ = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(make_snapshot(1))
        await pilot.pause()
        table = app.query_one(PeerTable)
        await pilot.press("down")  # 10.4.14.31
        await pilot.pause()
        assert table.selected_row().peer == "10.4.14.31"  # type: ignore[union-attr]
        for _ in range(3):  # total -> estab -> time_wait -> close_wait
            await pilot.press("s")
        assert table.sort_column == "close_wait"
        await pilot.pause()
        first = table.coordinate_to_cell_key((0, 0)).row_key.value
        assert first == "10.4.14.31"
        assert table.selected_row().peer == "10.4.14.31"  # type: ignore[union-attr]
        await pilot.press("r")
        await pilot.pause()
        assert table.sort_reverse is False
        app.show(make_snapshot(2))  # a refresh re-sorts; the cursor follows the row
        await pilot.pause()
        assert table.selected_row().peer == "10.4.14.31"  # type: ignore[union-attr]
        await pilot.press("f6")
        assert table.sort_column == "fin_wait2"


async def test_group_cycles_through_the_engine() -> None:
    app, src = app_with()
    async with app.run_test() as pilot:
        seen = []
        for _ in range(4):
            await pilot.press("g")
            seen.append(src.group)
        assert seen == ["ipport", "lport", "process", "ip"]


async def test_pause_keeps_collecting_but_freezes_display() -> None:
    app, _ = app_with()
    async with app.run_test() as pilot:
        app.show(make_snapshot(1))
        await pilot.press("space")
        assert app.paused and "PAUSED" in app.query_one(StatusHeader).render().plain
        from tui.messages import SnapshotReady

        app.post_message(SnapshotReady(make_snapshot(5), ()))
        await pilot.pause()
        assert app.snapshot.taken_at == make_snapshot(1).taken_at  # type: ignore[union-attr]
        assert app.latest is not None and app.latest.taken_at == make_snapshot(5).taken_at
        hist = app.query_one("StateCounts").history[TcpState.TIME_WAIT]  # type: ignore[attr-defined]
        assert hist[-1] == make_snapshot(5).count(TcpState.TIME_WAIT)
        await pilot.press("Z")
        await pilot.pause()
        assert not app.paused and app.snapshot.taken_at == make_snapshot(5).taken_at  # type: ignore[union-attr]


async def test_interval_keys() -> None:
    app, _ = app_with()
    async with app.run_test() as pilot:
        await pilot.press("plus")
        assert app.interval == 2.0
        await pilot.press("minus", "minus")
        assert app.interval == 0.5
        await pilot.press("minus")
        assert app.interval == 0.5


async def test_drill_down_to_socket_and_back() -> None:
    app, _ = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(make_snapshot(1))
        await pilot.pause()
        await pilot.press("enter")
        for _ in range(40):
            await pilot.pause(0.05)
            if isinstance(app.screen, PeerScreen) and app.screen.query_one(SocketTable).row_count:
                break
        assert isinstance(app.screen, PeerScreen)
        table = app.screen.query_one(SocketTable)
        assert table.row_count == 3  # dst 10.4.14.24: two TIME_WAIT and one ESTABLISHED
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SocketScreen)
        text = str(app.screen.query_one("ExplanationView").render())
        assert "TIME_WAIT" in text and "this host closed first" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PeerScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.query_one(PeerTable).row_count == 5


async def test_export_and_screenshot(tmp_path: object) -> None:
    app, _ = app_with(tmp_path)
    async with app.run_test() as pilot:
        app.show(make_snapshot(1))
        await pilot.press("e")
        await pilot.press("ctrl+s")
        await pilot.pause()
    files = os.listdir(str(tmp_path))
    (js,) = [f for f in files if f.endswith(".json")]
    with open(os.path.join(str(tmp_path), js)) as f:
        doc = json.load(f)
    assert doc["schema"] == 1 and doc["states"]["TIME_WAIT"] == make_snapshot(1).count(
        TcpState.TIME_WAIT
    )
    assert any(f["id"] == "close_wait_leak" for f in doc["findings"])
    assert any(f.endswith(".svg") for f in files)


async def test_resize_small_and_back() -> None:
    app, _ = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(make_snapshot(1))
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        app.show(make_snapshot(2))
        await pilot.pause()
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert app.query_one(PeerTable).row_count == 5


async def test_palette_has_twtop_commands() -> None:
    app, _ = app_with()
    async with app.run_test() as _pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for t in ("Filter sockets", "Group peers", "Pause / resume", "Export JSON"):
            assert t in titles
