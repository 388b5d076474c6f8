"""Counts every interval, the detail beside them (twtop/schedule.py), on real sockets: while a
detail walk is under way -- held at a gate here, so "slow" is deterministic -- the counts polls
go on, on their own netlink session, and show sockets made after the walk began; the detail they
carry is the last one, with its age. A walk made under an old grouping is dropped."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.helpers import Population, TestNetns
from twtop import schedule
from twtop.collector import Collector
from twtop.states import TcpState

#: Upper bound for waits that only guard against a hang (not a timing assertion).
HANG_S = 60.0


class Gate:
    """Wraps schedule.detail_counts: each walk runs, then waits until the test opens the gate."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.walking = threading.Event()
        self.open = threading.Event()
        real = schedule.detail_counts

        def gated(c: Collector):  # type: ignore[no-untyped-def]
            counts = real(c)
            self.walking.set()
            assert self.open.wait(HANG_S), "the test never opened the gate"
            return counts

        monkeypatch.setattr(schedule, "detail_counts", gated)


def _poll(c: Collector):  # type: ignore[no-untyped-def]
    """c.poll_live() on another thread, so a poll that waits for the walk fails instead of
    hanging the test."""
    out: list[object] = []
    t = threading.Thread(target=lambda: out.append(c.poll_live()), daemon=True)
    t.start()
    t.join(HANG_S)
    assert out, "poll_live waited for the detail walk: the counts are as old as a walk is long"
    return out[0]


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate(monkeypatch)
    yield g
    g.open.set()


def test_counts_move_while_a_detail_walk_is_under_way(
    netns: TestNetns, pop: Population, gate: Gate
) -> None:
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    with netns.inside():
        v4 = pop.listener("127.0.0.1", 8080)
        pop.established(v4, 2)
        pop.time_wait(v4, 3)
    with Collector(netns=netns.name, cpu_budget=None) as c:
        first = _poll(c)  # the first picture: a full poll, right away
        assert first.detail_age_s == 0.0 and first.count(TcpState.TIME_WAIT) == 3
        _poll(c)  # counts; starts a detail walk (no budget: whenever none runs)
        assert gate.walking.wait(HANG_S)
        assert c.live.running()
        with netns.inside():
            netns.ip("addr", "add", "127.0.0.9/8", "dev", "lo")
            new = pop.listener("127.0.0.9", 7070)
            pop.established(new, 4)
            pop.time_wait(new, 5)
        for _ in range(2):  # two intervals pass; the walk is still held
            snap = _poll(c)
            assert c.live.running()
            assert snap.count(TcpState.TIME_WAIT) == 3 + 5  # fresh counts
            assert snap.count(TcpState.ESTABLISHED) == 2 * 2 + 2 * 4
            assert "127.0.0.9" not in {p.peer for p in snap.peers}  # the detail is the first's
            assert snap.detail_age_s > 0
        gate.open.set()
        assert c.live.wait(HANG_S)
        gate.walking.clear()
        _poll(c)  # picks up the held walk's detail (made before 127.0.0.9 existed) ...
        assert gate.walking.wait(HANG_S)  # ... and starts the next, which sees it
        assert c.live.wait(HANG_S)
        snap = _poll(c)
        assert "127.0.0.9" in {p.peer for p in snap.peers}
        assert c.live.details >= 2


def test_a_walk_under_an_old_grouping_is_dropped(
    netns: TestNetns, pop: Population, gate: Gate
) -> None:
    with netns.inside():
        v4 = pop.listener("127.0.0.1", 8080)
        pop.time_wait(v4, 2)
    with Collector(netns=netns.name) as c:
        _poll(c)
        _poll(c)
        assert gate.walking.wait(HANG_S)  # a walk grouped by ip is under way
        c.set_group("lport")
        gate.open.set()
        assert c.live.wait(HANG_S)
        assert c.live.details == 0  # dropped: by ip, not by local port
        snap = _poll(c)  # no detail of this grouping yet: one in full, now
        assert snap.group == "lport" and snap.detail_age_s == 0.0
        assert snap.peers and all(p.peer.isdigit() for p in snap.peers)  # local ports, no IPs


def test_the_budget_is_charged_for_counts_and_details_and_says_when_counts_overrun(
    netns: TestNetns, pop: Population, gate: Gate
) -> None:
    with netns.inside():
        v4 = pop.listener("127.0.0.1", 8080)
        pop.time_wait(v4, 2)
    with Collector(netns=netns.name, cpu_budget=0.001) as c:  # 0.001% of a core
        assert c.budget is not None
        first = _poll(c)
        assert first.cpu_budget == 0.001 and first.cpu_used_pct
        before = c.budget.usage()
        snap = _poll(c)
        assert c.budget.usage()[1] > before[1]  # the counts poll was charged
        assert not c.live.running()  # the credit is gone: no detail walk starts
        assert snap.cpu_over  # the counts alone are over 0.001%
        assert any("counts alone use" in n for n in snap.notes)


def test_counts_polls_leave_the_bound_only_dump_to_the_detail_walk(
    netns: TestNetns, pop: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound-only dump walks every bound socket, TIME_WAITs included: the counts polls reuse
    the last one (whatever its age) and the detail walk refreshes it."""
    from twtop import held

    with netns.inside():
        pop.listener("127.0.0.1", 8080)
    with netns.inside(), Collector(cpu_budget=10) as c:
        assert c.held.bound_only_known, "this kernel cannot dump bound-only sockets"
        c.poll_live()  # the first picture, in full (the bound-only sockets read once)
        monkeypatch.setattr(held, "BOUND_REFRESH_S", 0.0)  # every cache stale from now on
        masks: list[int] = []
        real = c._counts.rows

        def rows(states: int, prog: bytes = b""):  # type: ignore[no-untyped-def]
            masks.append(states)
            return real(states, prog)

        monkeypatch.setattr(c._counts, "rows", rows)
        assert c.budget is not None
        c.budget.credit = -1e9  # no detail due
        for _ in range(3):
            c.poll_live()
        assert masks and not any(m & held.BOUND_BIT for m in masks)
        cache = c.held._cache
        assert cache is not None
        c.budget.credit = 1e9  # a detail walk now: it re-reads them
        c.poll_live()
        assert c.live.wait(HANG_S)
        assert c.held._cache is not None and c.held._cache[0] > cache[0]


def test_freed_heap_goes_back_after_each_detail(
    netns: TestNetns, pop: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replaced detail at ~1M is 100+ MB of freed heap that glibc keeps mapped: the first
    picture (inline, as a regrouping) and every detail walk give it back (malloc_trim)."""
    calls: list[str] = []
    monkeypatch.setattr(schedule, "give_back", lambda: calls.append("trim"))
    with netns.inside():
        pop.listener("127.0.0.1", 8080)
    with netns.inside(), Collector(cpu_budget=10) as c:
        c.poll_live()  # the first picture, inline
        assert calls == ["trim"]
        assert c.budget is not None
        c.budget.credit = 1e9  # a detail walk in the worker
        c.poll_live()
        assert c.live.wait(HANG_S)
        assert c.live.details == 1
        assert calls == ["trim", "trim"]
