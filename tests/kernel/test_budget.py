"""The CPU budget on real sockets: every state's count fresh on every poll while the per-peer
detail is deferred (a tiny budget), and equal to what a full poll counts at the same moment."""

from __future__ import annotations

import time

from tests.helpers import Population, TestNetns
from twtop.collector import Collector
from twtop.states import TcpState


def _mixed(ns: TestNetns, pop: Population, tw: int) -> None:
    with ns.inside():
        v4 = pop.listener("127.0.0.1", 8080)
        v6 = pop.listener("::1", 8443)
        pop.established(v4, 3)
        pop.established(v6, 2)
        pop.time_wait(v4, tw)
        pop.time_wait(v6, tw)
        pop.close_wait(v4, 2)  # their clients: orphaned FIN_WAIT2 minisockets
        pop.close_wait(v6, 1)
        pop.fin_wait2_open(v4)  # a full FIN_WAIT2 socket (fd open, no timer)


def test_counts_stay_fresh_every_poll_while_the_detail_waits(
    netns: TestNetns, pop: Population
) -> None:
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    made = time.monotonic()
    _mixed(netns, pop, tw=4)
    with Collector(netns=netns.name, cpu_budget=0.001) as c, Collector(netns=netns.name) as full:
        first = c.poll()
        assert first.detail_age_s == 0.0 and first.cpu_budget == 0.001
        assert first.states == full.poll().states
        # More of every big state and a new peer (::1 already has some: a new v4 address).
        with netns.inside():
            netns.ip("addr", "add", "127.0.0.9/8", "dev", "lo")
            lst = pop.listener("127.0.0.9", 7070)
            pop.established(lst, 4)
            pop.time_wait(lst, 6)
            pop.close_wait(lst, 2)
        time.sleep(0.2)
        for _ in range(3):
            # A full poll right before and right after: equal unless a TIME_WAIT or minisocket
            # expired in between (60 s after the population was made, on a slow machine).
            for _attempt in range(5):
                before = full.poll().states
                snap = c.poll()
                if full.poll().states == before:
                    break
            # counts fresh: exactly a full poll's, per state, v4 and v6 minisockets taken out
            assert snap.states == before, (snap.states, before)
            if time.monotonic() - made < 55:  # nothing has expired yet
                assert snap.count(TcpState.TIME_WAIT) == 8 + 6
                assert snap.count(TcpState.FIN_WAIT2) == 3 + 2 + 1  # 5 minisockets + 1 full
            assert snap.count(TcpState.ESTABLISHED) == 2 * 3 + 2 * 2 + 2 * 4  # CurrEstab - CW
            assert snap.count(TcpState.CLOSE_WAIT) == 3 + 2 + 1  # fin_wait2_open's peer too
            # the detail is the first poll's: deferred, and it says how old it is
            assert snap.detail_age_s > 0
            assert "127.0.0.9" not in {p.peer for p in snap.peers}
        assert snap.to_dict()["detail_age_s"] == round(snap.detail_age_s, 1)


def test_a_filter_always_polls_in_full(netns: TestNetns, pop: Population) -> None:
    """The counters cannot be filtered: under a filter every poll walks the sockets."""
    _mixed(netns, pop, tw=2)
    with Collector(netns=netns.name, filter="state time-wait", cpu_budget=0.001) as c:
        c.poll()
        with netns.inside():
            lst = pop.listener("127.0.0.1", 7071)
            pop.time_wait(lst, 3)
        snap = c.poll()
    assert snap.detail_age_s == 0.0
    assert sum(p.total for p in snap.peers) == snap.count(TcpState.TIME_WAIT) == 7
