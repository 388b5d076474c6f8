"""The TUI's poll (Collector.poll, not only --once) counts each listener's SYN_RECV and
not-yet-accepted CLOSE_WAITs, whatever the active filter: the listeners view never shows a 0
that means "not measured"."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.helpers import Population, TestNetns
from twtop import queues
from twtop.collector import Collector


def test_poll_fills_listener_queues_under_any_filter(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 7171, backlog=2)
        idle = pop.listener("127.0.0.1", 7172, backlog=8)
        clients = [pop.connect(lst) for _ in range(3)]  # the queue holds backlog + 1
        for c in clients:
            c.close()
    time.sleep(0.2)
    assert lst and idle
    # A filter that selects none of these sockets: the listeners are measured all the same.
    with Collector(netns=netns.name, filter="dport = :1") as col:
        snap = col.poll()
    by_port = {x.lport: x for x in snap.listeners}
    full, quiet = by_port[7171], by_port[7172]
    assert (full.queued, full.backlog) == (3, 2)  # "full": queued > backlog (sk_acceptq_is_full)
    assert (full.unaccepted_close_wait, full.syn_recv) == (3, 0)
    assert (quiet.queued, quiet.unaccepted_close_wait, quiet.syn_recv) == (0, 0, 0)


def test_an_unfiltered_poll_counts_the_queues_from_its_own_walk(
    netns: TestNetns, pop: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unfiltered, the queue counts come from the poll's own walk (full) or dump of the small
    states (counts-only): no more walks of the socket tables, which are shared by every
    namespace. Same counts as the kernel-filtered dumps a filtered poll makes."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 7171, backlog=4)
        v6 = pop.listener("::1", 7173, backlog=4)
        other = pop.listener("127.0.0.1", 7172)
        for c in [pop.connect(lst) for _ in range(3)] + [pop.connect(v6) for _ in range(2)]:
            c.close()  # never accepted: CLOSE_WAIT in the accept queue
        pop.established(other, 4)
        pop.close_wait(other, 2)  # accepted CLOSE_WAITs: a leak, not a queue
    time.sleep(0.2)
    dumped = []
    real = queues.dumped_queue_rows

    def spy(*args: Any) -> list[Any]:
        dumped.append(1)
        return real(*args)

    monkeypatch.setattr(queues, "dumped_queue_rows", spy)
    counted = []
    for kw in ({}, {"cpu_budget": 0.001}, {"filter": "dport = :1"}):
        with Collector(netns=netns.name, **kw) as col:  # type: ignore[arg-type]
            snap = col.poll()
            if kw.get("cpu_budget"):
                snap = col.poll()  # the second one is counts-only
                assert snap.detail_age_s > 0
        counted.append({x.lport: (x.queued, x.unaccepted_close_wait) for x in snap.listeners})
        assert len(dumped) == (1 if kw.get("filter") else 0), kw
    assert counted[0] == counted[1] == counted[2]
    assert counted[0][7171] == (3, 3) and counted[0][7173] == (2, 2)
    assert counted[0][7172] == (0, 0)
    assert lst and v6
