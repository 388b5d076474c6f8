"""The app on the real Collector, against sockets this test made in its own namespace: the keys
go through the engine and the screen shows what the kernel holds."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import Population, TestNetns
from tests.ui.screen import screen_text
from tui.app import TwtopApp
from tui.messages import SnapshotReady
from tui.screens.peer import PeerScreen
from tui.screens.socket import SocketScreen
from twtop.collector import Collector
from widgets.peers import PeerTable

pytestmark = [pytest.mark.kernel, pytest.mark.root]

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a namespace")


@pytest.fixture
def collector(netns: TestNetns, pop: Population) -> Iterator[Collector]:
    """127.0.0.2:9090 with 3 client-side TIME_WAIT; 127.0.0.1:8080 with 2 ESTABLISHED pairs and
    2 CLOSE_WAIT (their clients in FIN_WAIT2)."""
    with netns.inside():
        far = pop.listener("127.0.0.2", 9090)
        pop.time_wait(far, 3)
        near = pop.listener("127.0.0.1", 8080)
        pop.established(near, 2)
        pop.close_wait(near, 2)
    c = Collector(netns=netns.name)
    try:
        yield c
    finally:
        c.close()


class Snapshots:
    """Waits for the poll worker's next SnapshotReady (a message hook, no sleeping)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.last: SnapshotReady | None = None

    def hook(self, message: object) -> None:
        if isinstance(message, SnapshotReady):
            self.last = message
            self.event.set()

    async def next(self, pilot: Any) -> SnapshotReady:
        self.event.clear()
        await asyncio.wait_for(self.event.wait(), 10)
        await pilot.pause()
        await pilot.pause()
        assert self.last is not None
        return self.last


async def fetched(pilot: Any) -> None:
    """Wait until the drill-down has shown its first fetch (its worker restarts every interval,
    so waiting for a worker to complete could see it cancelled by the next)."""
    for _ in range(100):
        await pilot.pause(0.1)
        screen = pilot.app.screen
        if isinstance(screen, PeerScreen) and screen.fetched_at:
            await pilot.pause()
            return
    raise AssertionError("the drill-down never showed its sockets")


async def _select(pilot: Any, app: TwtopApp, peer: str) -> None:
    table = app.main.query_one(PeerTable)
    for _ in range(table.row_count):
        row = table.selected_row()
        if row is not None and row.peer.startswith(peer):
            return
        await pilot.press("down")
    raise AssertionError(f"{peer} not in the peer table")


async def test_group_cycles_through_the_engine(collector: Collector) -> None:
    snaps = Snapshots()
    app = TwtopApp(collector, {"interval": 0.5})
    async with app.run_test(size=(100, 30), message_hook=snaps.hook) as pilot:
        await snaps.next(pilot)
        text = screen_text(app)
        assert "Peers by remote IP —" in text and "127.0.0.2 " in text
        expected = {
            "ipport": ("Peers by remote IP:port", "127.0.0.2:9090"),
            "lport": ("Peers by local port", "8080"),
            "process": ("Peers by process", f"[{os.getpid()}]"),  # service name[PID]
        }
        for group, (title, cell) in expected.items():
            await pilot.press("g")
            while (await snaps.next(pilot)).snapshot.group != group:
                pass
            await pilot.pause()
            text = screen_text(app)
            assert title in text and cell in text, text


async def test_drill_down_to_socket_and_back(collector: Collector) -> None:
    snaps = Snapshots()
    app = TwtopApp(collector, {"interval": 0.5})
    async with app.run_test(size=(100, 30), message_hook=snaps.hook) as pilot:
        await snaps.next(pilot)
        await _select(pilot, app, "127.0.0.2")
        await pilot.press("enter")
        await fetched(pilot)
        assert isinstance(app.screen, PeerScreen)
        text = screen_text(app)
        rows = [ln for ln in text.splitlines() if "127.0.0.2:9090" in ln]
        assert len(rows) == 3 and all("TIME_WAIT" in r for r in rows), text
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SocketScreen)
        assert "ACTIVE closer" in screen_text(app)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert "Peers by remote IP" in screen_text(app)


async def test_drill_down_honours_the_active_filter(collector: Collector) -> None:
    snaps = Snapshots()
    app = TwtopApp(collector, {"interval": 0.5})
    async with app.run_test(size=(100, 30), message_hook=snaps.hook) as pilot:
        await snaps.next(pilot)
        await pilot.press("slash", *"state close-wait", "enter")
        while (await snaps.next(pilot)).snapshot.filter != "state close-wait":
            pass
        await _select(pilot, app, "127.0.0.1")
        await pilot.press("enter")
        await fetched(pilot)
        text = screen_text(app)
        states = [ln.strip("│ ").split()[0] for ln in text.splitlines() if ":8080 " in ln]
        assert states == ["CLOSE_WAIT", "CLOSE_WAIT"], text
        assert "127.0.0.1: 2 sockets" in text


@needs_root
async def test_deleted_namespace_is_said_on_screen(pop: Population) -> None:
    ns = TestNetns()
    try:
        with ns.inside():
            lst = pop.listener("127.0.0.1", 8080)
            pop.established(lst, 1)
        c = Collector(netns=ns.name)
        snaps = Snapshots()
        app = TwtopApp(c, {"interval": 0.5})
        async with app.run_test(size=(80, 24), message_hook=snaps.hook) as pilot:
            await snaps.next(pilot)
            ns.close()  # ip netns del, while twtop watches it
            for _ in range(50):
                await pilot.pause(0.1)
                flat = " ".join(screen_text(app).split())
                if "poll failed" in flat:
                    break
            assert f"poll failed: network namespace /run/netns/{ns.name} is gone" in flat, flat
            assert "3 sockets" in flat  # the last good data stays on screen
        c.close()
    finally:
        ns.close()
