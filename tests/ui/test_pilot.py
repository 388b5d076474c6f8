"""Every binding, drill-down and back, filter errors, pause, resize -- driven with Pilot on a fixed
fake source; assertions read the composed screen, as a user would."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import replace
from typing import Any

import pytest

from tests.ui.fakes import OWNER, FakeSource, make_snapshot
from tests.ui.screen import screen_text, settle
from tui.app import INTERVALS, TwtopApp, step_interval
from tui.messages import PollFailed, SnapshotReady
from tui.screens.findings import FindingsScreen
from tui.screens.help import HelpScreen
from tui.screens.peer import PeerScreen
from tui.screens.socket import SocketScreen
from twtop.advisor import advise
from twtop.model import Owner, PortUsage
from twtop.states import TcpState
from widgets.header import StatusHeader
from widgets.peers import PeerTable
from widgets.sockets import SocketTable


def app_with(tmp_path: object = None, poll: bool = False) -> tuple[TwtopApp, FakeSource]:
    src = FakeSource()
    settings = {"interval": 1.0, "lang": "en", "state_dir": str(tmp_path) if tmp_path else None}
    return TwtopApp(src, settings, poll=poll), src


def feed(app: TwtopApp, n: int = 1) -> None:
    """Deliver snapshot ``n`` as the poll worker would."""
    snap = make_snapshot(n)
    app.post_message(SnapshotReady(snap, tuple(advise(snap, "en"))))


def peer_lines(text: str) -> list[str]:
    """The first cell of each peer-table row on screen, top to bottom."""
    out = []
    for line in text.splitlines():
        cells = line.strip("│ ").split()
        first = cells[0] if cells else ""
        if line.startswith("│") and first[:1].isdigit() and "." in first and "→" not in first:
            out.append(cells[0])
    return out


async def test_first_screen_shows_counts_and_peers() -> None:
    app, _src = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app)
        await settle(pilot)
        text = screen_text(app)
        assert "web-7" in text and "25,509 sockets" in text
        assert "Peers by remote IP" in text
        assert peer_lines(text)[:2] == ["10.4.14.24", "10.4.14.31"]


async def test_poll_worker_delivers_snapshots_and_failures() -> None:
    seen: list[str] = []
    got = asyncio.Event()

    def hook(message: object) -> None:
        if isinstance(message, (SnapshotReady, PollFailed)):
            seen.append(type(message).__name__)
            got.set()

    async def next_message() -> None:
        got.clear()
        await asyncio.wait_for(got.wait(), 5)
        await pilot.pause()

    app, src = app_with(poll=True)
    async with app.run_test(size=(60, 20), message_hook=hook) as pilot:
        await next_message()
        assert seen[-1] == "SnapshotReady" and "web-7" in screen_text(app)
        src.fail = "network namespace 'blue-staging-01' is gone (deleted?)"
        app.refresh_now()
        await next_message()
        assert seen[-1] == "PollFailed"
        text = screen_text(app)
        # In full on a 60-column screen, the last good data still there.
        flat = " ".join(text.split())  # it may wrap, but nothing is cut
        assert "poll failed: network namespace 'blue-staging-01' is gone (deleted?)" in flat
        assert "web-7" in text
        src.fail = None
        app.refresh_now()
        await next_message()
        assert "poll failed" not in screen_text(app)


async def test_stale_data_age_is_on_screen() -> None:
    now = [1000.0]
    src = FakeSource()
    app = TwtopApp(src, {"interval": 1.0, "clock": lambda: now[0]}, poll=False)
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app)
        await settle(pilot)
        assert "data is" not in screen_text(app)
        now[0] += 125  # no poll for two minutes: the data on screen is that old
        app.update_status()
        await pilot.pause()
        assert "data is 2m05s old" in screen_text(app)


async def test_a_counts_only_poll_says_how_old_the_split_and_tuples_are() -> None:
    """Under the CPU budget (budget.py) the state counts are fresh but the IPv4/IPv6 split and the
    port tuples are the last detail poll's: each says how old it is; a fresh poll says nothing."""
    app, _src = app_with()
    async with app.run_test(size=(120, 36)) as pilot:
        for age, marked in ((0.0, False), (12.4, True)):
            snap = replace(make_snapshot(1), cpu_budget=10.0, detail_age_s=age)
            app.post_message(SnapshotReady(snap, tuple(advise(snap, "en"))))
            await settle(pilot)
            text = screen_text(app)
            assert (f"IPv6 {snap.ipv6}, 12s old)" in text) is marked, text
            assert ("tuples 12s old" in text) is marked, text


@pytest.mark.parametrize("key", ["q", "f10", "ctrl+c"])
async def test_quit_keys(key: str) -> None:
    app, _ = app_with()
    async with app.run_test() as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_help_opens_and_closes() -> None:
    app, _ = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            assert "Filter language" in screen_text(app) or "filter" in screen_text(app)
            assert "F10" in screen_text(app)
            await pilot.press("escape")
            await pilot.pause()
            assert "Filter language" not in screen_text(app)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_filter_error_caret_is_on_screen(size: tuple[int, int]) -> None:
    app, src = app_with()
    async with app.run_test(size=size) as pilot:
        feed(app)
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"state time-wait")
        await pilot.press("enter")
        await pilot.pause()
        assert src.filter == "state time-wait"
        await pilot.press("f4")
        app.main.query_one("#filter").value = "state time-wait and dprot = 80"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        lines = text.splitlines()
        assert "'dprot' at column" in text and " 21" in text
        (expr,) = [ln for ln in lines if ln.strip() == "state time-wait and dprot = 80"]
        caret = lines[lines.index(expr) + 1]
        assert caret.strip() == "^" and caret.index("^") == expr.index("dprot")
        assert src.filter == "state time-wait"  # unchanged
        await pilot.press("escape")  # Esc clears the filter
        await pilot.pause()
        assert src.filter is None
        assert "dprot" not in screen_text(app)


async def test_sort_reverse_and_selection_survives_refresh() -> None:
    app, _ = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app)
        await settle(pilot)
        table = app.main.query_one(PeerTable)
        await pilot.press("down")  # 10.4.14.31
        for _ in range(3):  # total -> estab -> time_wait -> close_wait
            await pilot.press("s")
        await pilot.pause()
        text = screen_text(app)
        assert "sorted by close_wait ▼" in text
        assert peer_lines(text)[0] == "10.4.14.31"
        assert table.selected_row().peer == "10.4.14.31"  # type: ignore[union-attr]
        await pilot.press("r")
        await pilot.pause()
        assert "sorted by close_wait ▲" in screen_text(app)
        feed(app, 2)  # a refresh re-sorts; the cursor follows the row
        await settle(pilot)
        assert peer_lines(screen_text(app))[-1] == "10.4.14.31"
        assert table.selected_row().peer == "10.4.14.31"  # type: ignore[union-attr]
        await pilot.press("f6")
        await pilot.pause()
        assert "sorted by fin_wait2" in screen_text(app)


async def test_group_key_cycles_the_sources_grouping() -> None:
    """The key reaches the source (the real grouping: tests/ui/test_real_engine.py)."""
    app, src = app_with()
    async with app.run_test() as pilot:
        seen = []
        for _ in range(4):
            await pilot.press("g")
            seen.append(src.group)
        assert seen == ["ipport", "lport", "process", "ip"]


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_pause_is_on_screen_and_keeps_collecting(size: tuple[int, int]) -> None:
    app, _ = app_with()
    async with app.run_test(size=size) as pilot:
        # A namespace and a filter make the header long: PAUSED must not depend on its room.
        long = replace(make_snapshot(1), netns="blue-staging-01", filter="dst 10.0.0.0/8")
        app.post_message(SnapshotReady(long, ()))
        await settle(pilot)
        await pilot.press("space")
        await pilot.pause()
        assert "PAUSED" in screen_text(app)
        feed(app, 5)
        await settle(pilot)
        assert app.snapshot is long
        assert app.latest is not None and app.latest.taken_at == make_snapshot(5).taken_at
        hist = app.main.query_one("StateCounts").history[TcpState.TIME_WAIT]  # type: ignore[attr-defined]
        assert hist[-1] == make_snapshot(5).count(TcpState.TIME_WAIT)
        await pilot.press("Z")
        await pilot.pause()
        assert "PAUSED" not in screen_text(app)
        assert app.snapshot.taken_at == make_snapshot(5).taken_at  # type: ignore[union-attr]


def test_interval_steps_cover_the_accepted_range() -> None:
    from twtop.cli import main

    assert (INTERVALS[0], INTERVALS[-1]) == (0.1, 3600.0)
    for bad in ("0.09", "3601"):  # the CLI's range is the steps' range
        assert main(["--once", "--interval", bad]) == 2
    for value in (*INTERVALS, 0.15, 0.3, 7.0, 100.0, 2000.0):
        up, down = step_interval(value, slower=True), step_interval(value, slower=False)
        assert up > value or up == value == 3600.0
        assert down < value or down == value == 0.1


async def test_interval_keys_at_both_ends() -> None:
    app, _ = app_with()
    async with app.run_test() as pilot:
        await pilot.press("plus")
        assert app.interval == 2.0
        app.interval = 0.2
        await pilot.press("minus", "minus")
        assert app.interval == 0.1
        app.interval = 1800.0
        await pilot.press("plus", "plus")
        assert app.interval == 3600.0
        app.interval = 100.0  # a configured value between steps: + goes up, - goes down
        await pilot.press("plus")
        assert app.interval == 120.0
        app.interval = 100.0
        await pilot.press("minus")
        assert app.interval == 60.0


async def test_drill_down_on_the_fake_source_and_back() -> None:
    """Screens and keys; the same path on the real collector is in test_real_engine.py."""
    app, src = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PeerScreen)
        # asked for the group (by its key), not for a filter made from its label
        assert set(src.peer_calls) == {"10.4.14.24"}
        text = screen_text(app)
        assert text.count("10.4.14.24:80") == 3  # two TIME_WAIT and one ESTABLISHED
        assert "1-3 of 3" in text  # the group as the engine read it
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SocketScreen)
        text = screen_text(app)
        assert "TIME_WAIT" in text and "ACTIVE closer" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PeerScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert "Peers by remote IP" in screen_text(app)


async def test_drill_down_honours_the_active_filter() -> None:
    app, src = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        src.set_filter("state time-wait")
        feed(app)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert text.count("10.4.14.24:80") == 2 and "ESTABLISHED" not in text


async def test_socket_table_is_diffed_and_sorted_by_the_engine(monkeypatch: Any) -> None:
    """Rows come in the engine's order (it sorts the whole group); s and r ask it for a new
    first page; a refresh with nothing changed redraws nothing."""
    app, _ = app_with()
    async with app.run_test(size=(100, 24)) as pilot:
        feed(app)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one(SocketTable)

        def order() -> list[int]:  # as displayed
            keys = [table.coordinate_to_cell_key((i, 0)).row_key for i in range(table.row_count)]
            return [table.by_key[k.value or ""].cookie for k in keys]

        assert table.border_title == "Sockets, sorted by timer ▲"
        assert order() == [0xBEEF02, 0xBEEF01, 0xBEEF03]  # 12.5 s, 42.1 s, no timer
        updates: list[tuple[str, str]] = []
        sorts: list[object] = []
        real_update, real_sort = table.update_cell, table.sort

        def update_cell(r: str, c: str, v: object, **kw: Any) -> None:
            updates.append((r, c))
            real_update(r, c, v, **kw)

        def sort(*a: Any, **kw: Any) -> None:
            sorts.append(a)
            real_sort(*a, **kw)

        monkeypatch.setattr(table, "update_cell", update_cell)
        monkeypatch.setattr(table, "sort", sort)
        socks = [table.by_key[f"{c:x}"] for c in order()]
        app.screen.fetched_at = 0.0  # no tick counts the timers down meanwhile
        at = table.elapsed_ms
        table.update_sockets(socks, 3, at)  # nothing changed: nothing redrawn, no re-order
        assert updates == [] and sorts == []
        grown = replace(socks[2], rqueue=7)
        table.update_sockets([socks[0], socks[1], grown], 3, at)
        assert updates == [(grown.key, "rq")] and sorts == []  # same place: no re-order
        await pilot.press("s")  # state: TIME_WAIT before ESTABLISHED (attention order)
        await settle(pilot)
        assert table.border_title == "Sockets, sorted by state ▲"
        assert order() == [0xBEEF02, 0xBEEF01, 0xBEEF03]
        await pilot.press("r")
        await settle(pilot)
        assert table.border_title == "Sockets, sorted by state ▼"
        assert order() == [0xBEEF03, 0xBEEF01, 0xBEEF02]
        assert "1-3 of 3" in screen_text(app)


async def test_export_and_screenshot(tmp_path: object) -> None:
    app, _ = app_with(tmp_path)
    async with app.run_test() as pilot:
        feed(app)
        await settle(pilot)
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
        feed(app)
        await settle(pilot)
        assert "(Enter: sockets)" in screen_text(app)  # the strip under the table
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        feed(app, 2)
        await settle(pilot)
        assert "twtop" in screen_text(app)
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        # Wide: the explanation panel beside the table replaces the strip; all peers visible.
        assert "10.4.14.24: TIME_WAIT" in text and "(Enter: its sockets)" not in text
        assert len(peer_lines(text)) == 4  # and 0.0.0.0 (no digit-dot check needed)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        assert "(Enter: sockets)" in screen_text(app)


async def test_palette_runs_twtop_commands() -> None:
    app, _ = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app)
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Findings")
        await pilot.pause(0.3)
        assert "Evidence, why and what to do" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingsScreen)


async def test_findings_bar_says_more_and_opens_the_view() -> None:
    app, _ = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app)
        await settle(pilot)
        findings = app.main.findings
        assert len(findings) >= 2
        assert f"+{len(findings) - 1} more" in screen_text(app)
        await pilot.press("f")
        await pilot.pause()
        text = screen_text(app)
        assert findings[0].title[:40] in text.replace("\n", " ") or findings[0].title[:20] in text
        assert "do: " in text and "why: " in text
        await pilot.press("escape")
        await pilot.pause()
        app.main.query_one("FindingsBar").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingsScreen)


async def test_all_clear_when_no_finding_fires() -> None:
    quiet = replace(
        make_snapshot(0),
        states={TcpState.ESTABLISHED: 5},
        peers=(),
        ports=PortUsage(32768, 60999, 0, (), 0),
        processes=(),
        close_wait_oldest_s=None,
        close_wait_aged=0,
        close_wait_unread=0,
    )
    findings = tuple(advise(quiet, "en"))
    assert [f.id for f in findings] == ["all_clear"]
    app, _ = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(SnapshotReady(quiet, findings))
        await settle(pilot)
        assert "✓  All clear: no finding" in screen_text(app)
        assert "more (f)" not in screen_text(app)
        await pilot.press("f")
        await pilot.pause()
        assert "do: Nothing to do." in screen_text(app)


async def test_names_from_the_system_are_never_markup() -> None:
    app, src = app_with()
    evil = ("[/x]", "[red]x[/red]", "[bold")
    async with app.run_test(size=(160, 48)) as pilot:
        snap = make_snapshot(1)
        peers = tuple(
            replace(p, processes=(f"{evil[i % 3]}[{i}]",)) for i, p in enumerate(snap.peers)
        )
        snap = replace(snap, peers=peers)
        app.post_message(SnapshotReady(snap, ()))
        await settle(pilot)
        text = screen_text(app)
        assert "[/x][0]" in text and "[red]x[/red][1]" in text and "[bold[2]" in text
        import tests.ui.fakes as fakes

        evil_owner = Owner(66, "[/x][red]", "www")
        old = list(fakes.SOCKETS)
        fakes.SOCKETS[2] = replace(fakes.SOCKETS[2], owner=evil_owner)
        try:
            await pilot.press("enter")
            await settle(pilot)
            assert "[/x][red][66]" in screen_text(app)
        finally:
            fakes.SOCKETS[:] = old
        assert OWNER.name == "api-server"


async def test_peer_column_sorts_on_the_raw_key() -> None:
    from tests.ui.fakes import _ip

    app, _ = app_with()
    snap = make_snapshot(1)
    nine = replace(snap.peers[2], peer="9.1.1.1", key=_ip("9.1.1.1"))
    snap = replace(snap, peers=(*snap.peers, nine), peers_total=6)
    async with app.run_test(size=(80, 30)) as pilot:
        app.post_message(SnapshotReady(snap, ()))
        await settle(pilot)
        while "sorted by peer" not in screen_text(app):
            await pilot.press("s")
            await pilot.pause()
        # As text "10.…" < "192.…" < "2001:…" < "9.…"; on the raw address 9.x comes before 10.x.
        assert peer_lines(screen_text(app)) == ["0.0.0.0", "9.1.1.1", "10.4.14.24",
                                               "10.4.14.31", "192.168.7.9"]  # fmt: skip


async def test_a_snapshot_landing_while_the_app_closes_is_dropped() -> None:
    """A poll that finishes while the app closes finds its panes gone: no traceback (it was
    NoMatches 'StatusHeader' from MainScreen.show, seen in scripts/screenshots.py)."""
    app, _src = app_with()
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app)
        await settle(pilot)
        await app.main.query_one(StatusHeader).remove()  # as when the screen is torn down
        snap = make_snapshot(2)
        app.on_snapshot_ready(SnapshotReady(snap, tuple(advise(snap, "en"))))
        await settle(pilot)
