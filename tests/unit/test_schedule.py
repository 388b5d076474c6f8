"""The live schedule (twtop/schedule.py) on a fake collector, fake clock and fake CPU costs (no
root): the counts poll returns every interval while a detail walk is slow (held at a gate), the
budget is charged for both, and a detail that costs about what the counts cost still runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from twtop import schedule
from twtop.budget import Budget

HANG_S = 60.0
walking = threading.Event()  # a fake walk has begun


@dataclass(frozen=True)
class Snap:
    counts: int
    detail: object
    detail_age_s: float = 0.0
    cpu_budget: float | None = None
    cpu_used_pct: float | None = None
    cpu_over: bool = False
    notes: tuple[str, ...] = ()


class CPU:
    """A per-thread CPU clock the fakes advance (what time.thread_time returns)."""

    def __init__(self) -> None:
        self.spent: dict[int, float] = {}

    def __call__(self) -> float:
        return self.spent.get(threading.get_ident(), 0.0)

    def spend(self, s: float) -> None:
        me = threading.get_ident()
        self.spent[me] = self.spent.get(me, 0.0) + s


class Fake:
    """What Live uses of a Collector: a counts poll and a detail walk of known CPU cost."""

    def __init__(self, cpu: CPU, clock: list[float], counts_s: float, detail_s: float) -> None:
        self.cpu, self.counts_s, self.detail_s = cpu, counts_s, detail_s
        self.budget: Budget | None = Budget(0.10, lambda: clock[0])
        self._lock, self._build_lock, self._detail_lock = (threading.RLock(), threading.Lock(),
                                                           threading.Lock())  # fmt: skip
        self._epoch = 0
        self._page_lock = threading.Lock()  # no drill-down here
        self._detail: object = "first"
        self.kernel = 0  # what a counts poll counts
        self._counts = object()

    def _poll(self, detail: bool, session: object, live: bool = False) -> Snap:
        assert live and not detail and session is self._counts
        self.cpu.spend(self.counts_s)
        return Snap(self.kernel, self._detail)

    def poll(self) -> Snap:
        raise AssertionError("no full poll inline: there is a detail")


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CPU, list[float], threading.Event]]:
    cpu, clock, gate = CPU(), [1000.0], threading.Event()
    gate.set()
    walking.clear()
    monkeypatch.setattr(schedule.time, "thread_time", cpu)

    def walk(c: Fake) -> str:
        c.cpu.spend(c.detail_s)
        seen = c.kernel  # what the walk saw, when it began
        walking.set()
        assert gate.wait(HANG_S)
        return f"detail of {seen}"

    monkeypatch.setattr(schedule, "detail_counts", walk)
    yield cpu, clock, gate
    gate.set()


def test_counts_return_every_interval_while_a_detail_walk_is_slow(
    world: tuple[CPU, list[float], threading.Event],
) -> None:
    cpu, clock, gate = world
    c = Fake(cpu, clock, counts_s=0.01, detail_s=0.5)
    c.budget = None  # no limit: a walk whenever none runs
    live = schedule.Live(c)  # type: ignore[arg-type]
    live.detail_at = clock[0]
    live.clock = lambda: clock[0]
    gate.clear()  # the walk will not finish until the gate opens
    live.poll()  # starts it
    assert walking.wait(HANG_S)
    for t in range(1, 4):
        clock[0] += 1
        c.kernel = t
        snap = live.poll()
        assert snap.counts == t  # fresh
        assert snap.detail == "first" and snap.detail_age_s == t  # the last detail, its age
        assert live.running()
    gate.set()
    assert live.wait(HANG_S)
    snap = live.poll()
    assert snap.detail == "detail of 0" and snap.detail_age_s == 3  # made when it began


def test_a_detail_costing_about_what_the_counts_cost_still_runs(
    world: tuple[CPU, list[float], threading.Event],
) -> None:
    """The bank holds one detail's cost: asked after the counts were charged, the credit never
    reached it (found at 7k sockets: the detail 21 s old with a 10% budget)."""
    cpu, clock, _gate = world
    c = Fake(cpu, clock, counts_s=0.010, detail_s=0.015)
    assert c.budget is not None
    c.budget.spent(0.015, True)  # the first picture
    live = schedule.Live(c)  # type: ignore[arg-type]
    for _ in range(10):
        clock[0] += 1
        live.poll()
        assert live.wait(HANG_S)
    assert live.details >= 8
    used, counts_only = c.budget.usage()
    assert counts_only == pytest.approx(0.010)  # every counts poll charged ...
    assert used == pytest.approx(0.010 + 0.015 * (1 + live.details) / 10)  # ... and each walk
