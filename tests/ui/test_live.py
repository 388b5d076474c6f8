"""The TUI on the live schedule (twtop/schedule.py): the header's counts follow the kernel every
interval while a detail walk is held up, and says how old the detail is; when the counts alone
exceed the CPU budget the header and the status line say so (en and zh)."""

from __future__ import annotations

import os
import threading
from dataclasses import replace

import pytest

from tests.helpers import Population, TestNetns
from tests.ui.fakes import make_snapshot
from tests.ui.screen import screen_text, settle
from tests.ui.test_real_engine import Snapshots
from tui.app import TwtopApp
from tui.messages import SnapshotReady
from twtop import schedule
from twtop.advisor import advise
from twtop.collector import Collector
from twtop.states import TcpState

HANG_S = 60.0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a namespace")
async def test_header_counts_follow_the_kernel_while_the_detail_walk_is_held(
    netns: TestNetns, pop: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    walking, gate = threading.Event(), threading.Event()
    real = schedule.detail_counts

    def held(c: Collector):  # type: ignore[no-untyped-def]
        counts = real(c)
        walking.set()
        gate.wait(HANG_S)
        return counts

    monkeypatch.setattr(schedule, "detail_counts", held)
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 3)  # 3 TIME_WAIT + 1 LISTEN
    snaps = Snapshots()
    with Collector(netns=netns.name, cpu_budget=None) as c:
        app = TwtopApp(c, {"interval": 0.2, "lang": "en"})
        try:
            async with app.run_test(size=(80, 24), message_hook=snaps.hook) as pilot:
                await snaps.next(pilot)
                assert " 4 sockets" in screen_text(app)
                while not walking.is_set():  # the next polls start a walk, held at the gate
                    await snaps.next(pilot)
                with netns.inside():
                    netns.ip("addr", "add", "127.0.0.9/8", "dev", "lo")
                    pop.time_wait(pop.listener("127.0.0.9", 7070), 5)  # 3 + 5 TW, 2 LISTEN
                await snaps.next(pilot)  # a poll that may have begun before them
                snap = (await snaps.next(pilot)).snapshot
                assert c.live.running()  # the walk is still held
                assert snap.count(TcpState.TIME_WAIT) == 8
                text = screen_text(app)
                header = text.splitlines()[0]
                assert " 10 sockets" in header, header  # the counts of this interval
                assert "127.0.0.9" not in text  # the peers are the held walk's detail
                while snap.detail_age_s < 1:
                    snap = (await snaps.next(pilot)).snapshot
                await pilot.pause()
                header = screen_text(app).splitlines()[0]
                shown = app.snapshot
                assert shown is not None and shown.detail_age_s >= 1
                assert f"(detail {shown.detail_age_s:.0f}s old)" in header, header
        finally:
            gate.set()


@pytest.mark.parametrize(
    ("lang", "header", "status"),
    [
        ("en", "cpu>10%!", "twtop uses 14% of a core, over its 10% budget"),
        ("zh", "CPU>10%！", "twtop 占用一个核的 14%，超出 10% 的预算"),
    ],
)
async def test_counts_over_the_budget_are_said_in_header_and_status(
    lang: str, header: str, status: str
) -> None:
    app = TwtopApp(None, {"interval": 1.0, "lang": lang}, poll=False)  # type: ignore[arg-type]
    async with app.run_test(size=(100, 24)) as pilot:
        for over in (False, True):
            snap = replace(make_snapshot(1), cpu_budget=10.0, cpu_used_pct=14.2, cpu_over=over)
            app.post_message(SnapshotReady(snap, tuple(advise(snap, lang))))
            await settle(pilot)
            text = screen_text(app)
            assert (header in text.splitlines()[0]) is over, text
            assert (status in text.replace("\n", "")) is over, text


async def test_new_counts_repaint_the_cells_without_laying_out_the_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every interval brings new counts (and the same detail): the state cells repaint, the
    screen is not laid out again each time (a Static.update() per cell did that: 11 per poll)."""
    app = TwtopApp(None, {"interval": 1.0, "lang": "en"}, poll=False)  # type: ignore[arg-type]
    base = make_snapshot(1)
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(SnapshotReady(base, tuple(advise(base, "en"))))
        await settle(pilot)
        layouts: list[object] = []
        real = app.main._refresh_layout

        def counted(*a: object, **k: object) -> None:
            layouts.append(a)
            real(*a, **k)  # type: ignore[arg-type]

        monkeypatch.setattr(app.main, "_refresh_layout", counted)
        for i in range(1, 11):
            states = {**base.states, TcpState.TIME_WAIT: base.count(TcpState.TIME_WAIT) + i}
            snap = replace(base, states=states, taken_at=base.taken_at + i)
            app.post_message(SnapshotReady(snap, tuple(advise(base, "en"))))
            await settle(pilot)
            assert f"{snap.count(TcpState.TIME_WAIT):,}" in screen_text(app)  # repainted
        assert len(layouts) <= 2, len(layouts)
