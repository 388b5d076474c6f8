"""Collector.peer_page on a real population (1,200 TIME_WAITs to one peer, plus ESTABLISHED and
CLOSE_WAIT): paging reaches every socket exactly once, sorts hold across pages, ages are
first sightings, a cancelled page leaves the session usable."""

from __future__ import annotations

import time

import pytest

from tests.helpers import Population, TestNetns
from twtop import pages
from twtop.collector import Collector
from twtop.model import PeerRow
from twtop.pages import JITTER_MS, PageQuery, Seen
from twtop.states import TcpState

TW = 1200
SIZE = 100  # small pages: many boundaries


@pytest.fixture
def crowd(netns: TestNetns, pop: Population) -> TestNetns:
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    with netns.inside():
        web = pop.listener("127.0.0.1", 8080, backlog=4096)
        pop.time_wait(web, TW)
        pop.established(web, 10)
        pop.close_wait(web, 5)
    return netns


def _row(c: Collector, label: str = "127.0.0.1") -> PeerRow:
    (row,) = [p for p in c.poll().peers if p.peer == label]
    return row


def _walk(c: Collector, row: PeerRow, sort: str, reverse: bool = False) -> list[pages.Page]:
    seen = Seen()
    fetch = lambda q: c.peer_page(row, q, seen)  # noqa: E731
    return list(pages.pages_of(fetch, PageQuery(sort, reverse, size=SIZE)))


@pytest.mark.parametrize("sort", pages.SORTS)
def test_paging_meets_every_socket_exactly_once(crowd: TestNetns, sort: str) -> None:
    with crowd.inside(), Collector() as c:
        row = _row(c)
        every = {s.cookie for s in c.peer_sockets(row)}
        walked = _walk(c, row, sort)
    cookies = [s.cookie for p in walked for s in p.sockets]
    keys: dict[int, list[int]] = {}
    for p in walked:
        for i, k in enumerate(p.keys):
            keys.setdefault(p.cookie(i), []).append(k >> pages.COOKIE_BITS)
    assert len(every) >= TW
    assert set(cookies) == every  # none missed
    # none twice, unless its sort value moved between the dumps by more than the margin (a
    # TIME_WAIT re-armed to 60 s by an incoming segment: kernel-facts 4)
    twice = {c: v for c, v in keys.items() if len(v) > 1}
    assert all(max(v) - min(v) > JITTER_MS for v in twice.values()), twice
    assert len(twice) <= len(every) // 100
    assert all(p.total == len(every) for p in walked)
    if not twice:  # the offsets shown ("101-200 of N") follow each other
        assert [p.offset for p in walked] == list(range(0, len(every), SIZE))


def test_timer_sort_is_non_decreasing_across_pages(crowd: TestNetns) -> None:
    with crowd.inside(), Collector() as c:
        walked = _walk(c, _row(c), "timer")
    for p in walked:  # within a page the timers shown are as of one instant
        shown = [s.expires_ms for s in p.sockets if s.timer]
        assert shown == sorted(shown)
    deadlines = [k >> pages.COOKIE_BITS for p in walked for k in p.keys]
    # across pages: deadlines from different dumps agree within the margin (JITTER_MS)
    assert all(b >= a - JITTER_MS for a, b in zip(deadlines, deadlines[1:], strict=False))
    timers = [s for p in walked for s in p.sockets]
    no_timer = [i for i, s in enumerate(timers) if not s.timer]
    assert no_timer == list(range(len(timers) - len(no_timer), len(timers)))  # "-" last


def test_state_sort_puts_close_wait_first(crowd: TestNetns) -> None:
    with crowd.inside(), Collector() as c:
        first = _walk(c, _row(c), "state")[0]
    assert [s.state for s in first.sockets[:5]] == [TcpState.CLOSE_WAIT] * 5


def test_age_sort_puts_the_first_seen_first(crowd: TestNetns, pop: Population) -> None:
    with crowd.inside(), Collector() as c:
        row, seen = _row(c), Seen()
        q = PageQuery("age", size=5000)
        before = c.peer_page(row, q, seen)
        # seen only now: unknown; but the CLOSE_WAITs the poll watched keep their first sighting
        known = [s.state == TcpState.CLOSE_WAIT for s in before.sockets]
        assert [t is not None for t in before.seen] == known
        assert known[:5] == [True] * 5  # known longest: first
        lst = pop.listener("127.0.0.1", 8081)
        pop.established(lst, 3)  # new sockets to the same peer
        after = c.peer_page(row, q, seen)
        newer = c.peer_page(row, PageQuery("age", True, size=5000), seen)
    old = {s.cookie for s in before.sockets}
    order = [s.cookie in old for s in after.sockets]
    assert order == sorted(order, reverse=True)  # first seen earlier: on top
    assert after.seen[0] is not None and after.seen[-1] is None  # the new ones: unknown
    assert newer.sockets[0].cookie not in old  # reversed: the newest first


def test_before_and_last_pages(crowd: TestNetns) -> None:
    with crowd.inside(), Collector() as c:
        row = _row(c)
        walked = _walk(c, row, "rq")
        third, second = walked[2], walked[1]
        seen = Seen()
        back = c.peer_page(
            row,
            PageQuery("rq", False, pages.BEFORE, third.keys[0], size=SIZE),
            seen,
        )
        last = c.peer_page(row, PageQuery("rq", False, pages.LAST, size=SIZE), seen)
        over = c.peer_page(
            row, PageQuery("rq", False, pages.BEFORE, walked[0].keys[3], size=SIZE), seen
        )
    assert [s.cookie for s in back.sockets] == [s.cookie for s in second.sockets]
    assert back.offset == second.offset
    every = [s.cookie for p in walked for s in p.sockets]
    assert [s.cookie for s in last.sockets] == every[-SIZE:]
    assert last.offset == last.total - len(last.sockets)
    assert over.offset == 0 and len(over.sockets) == SIZE  # before the first: the first page


def test_a_cancelled_page_leaves_the_session_usable(crowd: TestNetns) -> None:
    with crowd.inside(), Collector() as c:
        row = _row(c)
        calls = []

        def cancelled() -> bool:
            calls.append(1)
            return len(calls) > 1

        with pytest.raises(pages.Cancelled):
            c.peer_page(row, PageQuery(size=SIZE), Seen(), cancelled)
        again = c.peer_page(row, PageQuery(size=SIZE), Seen())
    assert len(again.sockets) == SIZE and again.total >= TW


def test_pages_honour_the_active_filter(crowd: TestNetns) -> None:
    with crowd.inside(), Collector() as c:
        row = _row(c)
        c.set_filter("state time-wait")
        page = c.peer_page(row, PageQuery(size=SIZE), Seen())
        every = c.peer_page(row, PageQuery(size=5000), Seen())
    assert page.total == every.total == TW
    assert {s.state for s in every.sockets} == {TcpState.TIME_WAIT}


def test_pages_of_a_real_dump_match_a_plain_sort(
    netns: TestNetns, pop: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receive buffers of real dumps (v4 and v6 TIME_WAITs: uniform buffers, read by
    columns; every state: ESTABLISHED, CLOSE_WAIT, LISTEN, FIN_WAIT2 mixed in them) paged through
    in every sort and direction give exactly a plain decode and full sort of the same buffers."""
    from tests.unit.test_pages import check_paging
    from twtop.session import Session
    from twtop.states import MASK_ALL

    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    with netns.inside():
        web = pop.listener("127.0.0.1", 8080, backlog=4096)
        web6 = pop.listener("::1", 8080, backlog=4096)
        pop.time_wait(web, 1500)
        pop.time_wait(web6, 700)
        pop.established(web, 30)
        pop.established(web6, 20)
        pop.close_wait(web, 5)
        session = Session()
        try:
            tw = list(session.chunks(1 << TcpState.TIME_WAIT))
            every = list(session.chunks(MASK_ALL))
        finally:
            session.close()
    assert sum(1 for _b, k, _r in tw if k) >= 2  # the fast path ran on real buffers
    monkeypatch.setattr(pages.time, "monotonic", lambda: 1000.0)
    check_paging(tw, size=300)
    check_paging(every, size=300)


def test_a_drill_down_spends_the_collectors_budget(crowd: TestNetns) -> None:
    """One budget for polls and drill-downs: a page's CPU is charged to the collector's budget,
    so the next detail poll waits for it (budget.py)."""
    with crowd.inside(), Collector(cpu_budget=10) as c:
        row = _row(c)
        assert c.budget is not None
        now = time.monotonic()
        c.budget.clock = lambda: now  # no credit accrues meanwhile
        c.budget.detail_due()
        before = c.budget.credit
        page = c.peer_page(row, PageQuery(size=SIZE), Seen())
    assert page.cpu_s > 0
    assert c.budget.credit == pytest.approx(before - page.cpu_s, abs=1e-9)


def test_a_poll_while_a_page_is_read_leaves_the_detail_for_later(crowd: TestNetns) -> None:
    """A detail poll waits while a drill-down reads a page (the user waits for the page; both on
    one GIL would each take twice as long): the counts stay fresh, the detail comes next poll."""
    with crowd.inside(), Collector(cpu_budget=10) as c:
        row = _row(c)
        assert c.budget is not None
        during = []

        def cancelled() -> bool:  # called between the page's receive buffers
            if not during:
                c.budget.credit = 1e9  # the detail is due
                during.append(c.poll())
            return False

        c.peer_page(row, PageQuery(size=SIZE), Seen(), cancelled)
        c.budget.credit = 1e9
        after = c.poll()
    assert during[0].detail_age_s > 0  # counts only
    assert during[0].states[TcpState.TIME_WAIT] >= TW  # fresh counts
    assert after.detail_age_s == 0.0


def test_a_live_poll_while_a_page_is_read_starts_no_detail_walk(crowd: TestNetns) -> None:
    """The TUI polls with poll_live (schedule.py): a detail walk due while a drill-down reads a
    page is not started then (both on one GIL), the counts still come; it starts next poll."""
    with crowd.inside(), Collector(cpu_budget=10) as c:
        c.poll_live()  # the first picture, in full
        row = _row(c)
        assert c.budget is not None
        during: list[bool] = []

        def cancelled() -> bool:  # called between the page's receive buffers
            if not during:
                c.budget.credit = 1e9  # the detail is due
                snap = c.poll_live()
                during.append(c.live.running())
                assert snap.states[TcpState.TIME_WAIT] >= TW  # fresh counts meanwhile
            return False

        c.peer_page(row, PageQuery(size=SIZE), Seen(), cancelled)
        c.budget.credit = 1e9
        c.poll_live()
        after = c.live.running() or c.live.details > 0
        c.live.wait(30)
    assert during == [False]
    assert after
