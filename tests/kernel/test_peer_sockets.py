"""Collector.peer_sockets on real sockets: exactly a group's sockets, selected in the kernel."""

from __future__ import annotations

import os
import socket

import pytest

from tests.helpers import Population, TestNetns
from twtop.collector import Collector
from twtop.keys import ATTENTION
from twtop.model import PeerRow, Snapshot, Socket
from twtop.states import TcpState


def _received(c: Collector) -> int:
    """Netlink messages received by the collector's last call (listener dump included)."""
    return sum(s.messages for s in c.session.stats)


def _row(snap: Snapshot, label: str) -> PeerRow:
    (row,) = [p for p in snap.peers if p.peer == label]
    return row


def _population(ns: TestNetns, pop: Population) -> None:
    """Peers with several states each; orphaned FIN_WAIT2 and unaccepted sockets included."""
    ns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    with ns.inside():
        ns.ip("addr", "add", "127.0.0.2/8", "dev", "lo")
        web = pop.listener("127.0.0.1", 8080)
        api = pop.listener("127.0.0.2", 9090)
        v6 = pop.listener("::1", 8443)
        pop.established(web, 3)
        pop.established(api, 2)
        pop.established(v6, 2)
        pop.time_wait(web, 5)
        pop.time_wait(api, 4)
        pop.close_wait(api, 3)  # clients: orphaned FIN_WAIT2 (no owner)
        pop.fin_wait2_open(web)
        q = pop.listener("127.0.0.1", 6060, backlog=8)
        for _ in range(2):
            pop.keep.append(pop.connect(q))  # server sides: not yet accepted (no owner)


def _belongs(s: Socket, row: PeerRow, group: str) -> bool:
    """The test's own idea of a group, from the Socket's fields."""
    if s.state == TcpState.LISTEN:
        return False  # listeners are not peers, in any grouping (issue 9)
    if group == "ip":
        return s.remote == row.peer
    if group == "ipport":
        return s.remote_ep == row.peer
    if group == "lport":
        return str(s.lport) == row.peer
    owner = str(s.owner.pid) if s.owner is not None else "(no owner)"
    return owner == row.peer


@pytest.mark.parametrize("group", ["ip", "ipport", "lport", "process"])
def test_every_group_lists_exactly_its_sockets(
    netns: TestNetns, pop: Population, group: str
) -> None:
    _population(netns, pop)
    with Collector(netns=netns.name, group=group) as c:
        snap = c.poll()
        every = c.sockets()
        assert len(every) == snap.total
        for row in snap.peers:
            got = c.peer_sockets(row)
            want = {s.cookie for s in every if _belongs(s, row, group)}
            assert {s.cookie for s in got} == want, row.peer
            assert len(got) == row.listed == row.total, row.peer
            assert not row.count(TcpState.LISTEN), row.peer
    if group == "process":
        nobody = _row(snap, "(no owner)")
        assert nobody.count(TcpState.FIN_WAIT2) == 3 and nobody.count(TcpState.TIME_WAIT) == 9
        mine = _row(snap, str(os.getpid()))
        assert mine.count(TcpState.LISTEN) == 0  # listeners are not peers ...
        (me,) = [p for p in snap.processes if p.pid == os.getpid()]
        assert me.states[TcpState.LISTEN] == 4  # ... but still the process's sockets


def test_no_owner_lists_orphans_and_unaccepted(netns: TestNetns, pop: Population) -> None:
    _population(netns, pop)
    with Collector(netns=netns.name, group="process") as c:
        socks = c.peer_sockets(_row(c.poll(), "(no owner)"))
    states = [s.state for s in socks]
    assert states.count(TcpState.FIN_WAIT2) == 3  # orphaned: the clients closed
    assert states.count(TcpState.TIME_WAIT) == 9
    # the two connections queued on 6060, never accepted: inode 0 on the server side
    assert len([s for s in socks if s.lport == 6060 and s.state == TcpState.ESTABLISHED]) == 2
    assert all(s.owner is None for s in socks)


def test_active_filter_is_honoured(netns: TestNetns, pop: Population) -> None:
    _population(netns, pop)
    est, cw = TcpState.ESTABLISHED, TcpState.CLOSE_WAIT
    with Collector(netns=netns.name) as c:
        everything = _row(c.poll(), "127.0.0.1").total
        c.set_filter("state established or state close-wait")  # evaluated in Python
        row = _row(c.poll(), "127.0.0.1")
        socks = c.peer_sockets(row)
        # 3 + 2 pairs, 2 queued on 6060 (both sides); 3 + 1 CLOSE_WAIT servers
        assert len(socks) == row.total == 6 + 2 + 4 + 4 < everything
        assert {s.state for s in socks} == {est, cw}
        c.set_filter("dport = 9090")  # kernel bytecode: the clients' side only
        row = _row(c.poll(), "127.0.0.2")
        socks = c.peer_sockets(row)
    assert len(socks) == row.total == 2 + 4 + 3  # established, TIME_WAIT, orphaned FIN_WAIT2
    assert {s.rport for s in socks} == {9090}


def test_limit_keeps_the_most_urgent(netns: TestNetns, pop: Population) -> None:
    _population(netns, pop)
    with Collector(netns=netns.name) as c:
        row = _row(c.poll(), "127.0.0.1")
        every = c.peer_sockets(row)
        top = c.peer_sockets(row, limit=5)
    rank = [ATTENTION.index(s.state) for s in every]
    assert rank == sorted(rank) and len(every) == row.total > 5
    assert [s.state for s in top] == [TcpState.CLOSE_WAIT] * 4 + [TcpState.FIN_WAIT2]
    assert [s.cookie for s in top] == [s.cookie for s in every[:5]]


def test_peer_dump_is_filtered_in_the_kernel(netns: TestNetns, pop: Population) -> None:
    """2000 TIME_WAITs to A, 10 to B: listing B receives B's messages, not the population."""
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    with netns.inside():
        netns.ip("addr", "add", "127.0.0.2/8", "dev", "lo")
        a = pop.listener("127.0.0.1", 8080)
        b = pop.listener("127.0.0.2", 8080)
        pop.time_wait(a, 2000)
        pop.time_wait(b, 10)
    with Collector(netns=netns.name) as c:
        snap = c.poll()
        assert _received(c) >= 2010
        row = _row(snap, "127.0.0.2")
        socks = c.peer_sockets(row)
        assert len(socks) == 10 and _received(c) <= 10 + 2  # + the two listeners' dump
        few = c.peer_sockets(_row(snap, "127.0.0.1"), limit=5)
        assert len(few) == 5
        assert len(c.sockets("dst 127.0.0.2")) == 10 and _received(c) <= 10 + 2
        assert len(c.sockets("state time-wait", limit=7)) == 7


def test_ipv4_client_of_a_dual_stack_listener(netns: TestNetns, pop: Population) -> None:
    """A v4-mapped socket belongs to the IPv4 peer, and the kernel filter finds it."""
    with netns.inside():
        dual = pop.listener("::", 7070)
        c4 = socket.create_connection(("127.0.0.1", 7070))
        s, _ = dual.accept()
        pop.keep += [c4, s]
    with Collector(netns=netns.name) as c:
        row = _row(c.poll(), "127.0.0.1")
        socks = c.peer_sockets(row)
    assert row.total == 2 and len(socks) == 2
    assert {x.family for x in socks} == {socket.AF_INET, socket.AF_INET6}


def test_time_wait_names_the_process_that_made_it(netns: TestNetns, pop: Population) -> None:
    """A TIME_WAIT keeps its socket's cookie: seen live by a poll, it is attributed after."""
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pairs = pop.established(lst, 3)
    with Collector(netns=netns.name) as c:
        c.poll()  # the three clients, live and owned by this process
        with netns.inside():
            pop.time_wait(lst, 2)  # made and closed between polls: never seen live
        for client, server in pairs:
            client.close()
            server.settimeout(2)
            assert server.recv(1) == b""
            server.close()
        tws = c.sockets("state time-wait")
        remembered = len(c.made_by)
    assert len(tws) == 5 and remembered >= 3 + 3 + 1  # clients, servers, the listener
    made = sorted((s.made_by.pid if s.made_by else None) is not None for s in tws)
    assert made == [False, False, True, True, True]
    assert {s.made_by.pid for s in tws if s.made_by} == {os.getpid()}
    assert all(s.owner is None for s in tws)
    assert [s.to_dict()["made_by_pid"] for s in tws].count(os.getpid()) == 3
