"""The TUI's poll (Collector.poll, not only --once) counts each listener's SYN_RECV and
not-yet-accepted CLOSE_WAITs, whatever the active filter: the listeners view never shows a 0
that means "not measured"."""

from __future__ import annotations

import time

from tests.helpers import Population, TestNetns
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
