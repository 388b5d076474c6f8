"""The public Python API against real sockets: CLOSE_WAIT ages, unread and malformed counts, the
sockets() limit, the JSON document's listeners and rates, and kernel-side filtering.

Most tests use the current namespace and only the test's own sockets (a port filter), so they run
without root; the message-counting test builds its population in a namespace of its own."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import Population, TestNetns
from twtop.collector import Collector
from twtop.states import TcpState

SOCK_DIAG_BY_FAMILY = 20
TCPDIAG_GETSOCK = 18
NLMSG_DONE = 3
HDR = struct.Struct("=IHHII")


def _own(pop: Population) -> tuple[socket.socket, str]:
    lst = pop.listener("127.0.0.1", 0)
    port = lst.getsockname()[1]
    return lst, f"sport = {port} or dport = {port}"


def _close_wait_with_data(pop: Population, lst: socket.socket, data: bytes) -> socket.socket:
    """A server-side CLOSE_WAIT whose receive queue holds ``data`` (never read)."""
    c = pop.connect(lst)
    s, _ = lst.accept()
    if data:
        c.sendall(data)
    c.close()
    pop.keep.append(s)
    time.sleep(0.05)
    return s


def test_close_wait_age_grows_across_polls_and_restarts_for_a_new_one(pop: Population) -> None:
    lst, flt = _own(pop)
    first = pop.close_wait(lst, 2)
    with Collector(filter=flt) as c:
        a = c.poll()
        assert a.count(TcpState.CLOSE_WAIT) == 2
        assert a.close_wait_oldest_s is not None and a.close_wait_oldest_s < 0.5
        time.sleep(1.2)
        b = c.poll()
        assert b.close_wait_oldest_s is not None and b.close_wait_oldest_s >= 1.1
        assert b.to_dict()["close_wait"]["oldest_s"] >= 1.1
        for s in first:  # both go; a new one is young again
            s.close()
        pop.close_wait(lst, 1)
        time.sleep(0.1)
        d = c.poll()
        assert d.count(TcpState.CLOSE_WAIT) == 1
        assert d.close_wait_oldest_s is not None and d.close_wait_oldest_s < 0.5


def test_close_wait_with_unread_bytes_is_counted(pop: Population) -> None:
    lst, flt = _own(pop)
    _close_wait_with_data(pop, lst, b"x" * 100)
    _close_wait_with_data(pop, lst, b"request\n")
    _close_wait_with_data(pop, lst, b"")
    with Collector(filter=flt) as c:
        snap = c.poll()
    assert snap.count(TcpState.CLOSE_WAIT) == 3
    assert snap.close_wait_unread == 2
    assert snap.to_dict()["close_wait"]["unread"] == 2


def test_sockets_limit_keeps_the_most_urgent(pop: Population) -> None:
    lst, flt = _own(pop)
    pop.established(lst, 3)
    pop.time_wait(lst, 2)
    pop.close_wait(lst, 1)
    with Collector() as c:
        every = c.sockets(flt)
        assert len(every) == 1 + 6 + 2 + 2  # listener, 3 pairs, 2 TIME_WAIT, CLOSE_WAIT + FIN_WAIT2
        two = c.sockets(flt, limit=2)
        assert len(two) == 2
        assert [s.state for s in two] == [TcpState.CLOSE_WAIT, TcpState.FIN_WAIT2]
        assert len(c.sockets(flt, limit=1)) == 1
        assert len(c.sockets(flt, limit=100)) == len(every)


def test_document_lists_listeners_and_state_rates(pop: Population) -> None:
    lst, flt = _own(pop)
    port = lst.getsockname()[1]
    with Collector(filter=flt) as c:
        c.poll()
        pop.time_wait(lst, 4)
        time.sleep(0.2)
        snap = c.poll()
    doc = snap.to_dict()
    mine = [x for x in doc["listeners"] if x["local"] == f"127.0.0.1:{port}"]
    assert len(mine) == 1 and mine[0]["backlog"] == 128 and mine[0]["queued"] == 0
    assert set(doc["state_rates"]) == {s.name for s in TcpState}
    assert snap.interval_s is not None
    assert doc["state_rates"]["TIME_WAIT"] == pytest.approx(4 / snap.interval_s, rel=0.01)


# -- netlink traffic, seen at the socket: implementation-agnostic --------------------------------

_RECV_NAMES = ("recv", "recv_into", "recvfrom", "recvmsg")


def _messages(buf: bytes) -> Iterator[tuple[int, int, int, int]]:
    """(offset, length, type, seq) of each netlink message in a buffer."""
    off = 0
    while off + HDR.size <= len(buf):
        length, mtype, _flags, seq, _pid = HDR.unpack_from(buf, off)
        if length < HDR.size:
            return
        yield off, length, mtype, seq
        off += (length + 3) & ~3


class NetlinkTap:
    """Wraps socket.socket's receive methods: counts sock_diag socket messages received on netlink
    sockets and, when asked, puts one malformed (too short) socket message in front of each buffer
    that carries socket messages."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, inject: bool = False) -> None:
        self.diag = 0
        self.injected = 0
        self.inject = inject
        for name in _RECV_NAMES:
            original = getattr(socket.socket, name)
            monkeypatch.setattr(socket.socket, name, self._wrap(name, original))

    def _wrap(self, name: str, original: Any) -> Any:
        tap = self

        def wrapper(sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
            if sock.family != socket.AF_NETLINK:
                return original(sock, *args, **kwargs)
            if name == "recv":
                return tap._seen(original(sock, *args, **kwargs))
            if tap.inject:
                raise AssertionError(f"injection supports recv only, not {name}")
            result = original(sock, *args, **kwargs)
            if name == "recv_into":
                tap._seen(bytes(args[0][:result]))
            elif name in ("recvfrom", "recvmsg"):
                tap._seen(result[0])
            return result

        return wrapper

    def _seen(self, buf: bytes) -> bytes:
        msgs = list(_messages(buf))
        self.diag += sum(1 for _o, _l, t, _s in msgs if t in (SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK))
        if self.inject and msgs and msgs[0][2] in (SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK):
            _off, _len, mtype, seq = msgs[0]
            _l, _t, flags, _s, pid = HDR.unpack_from(buf, 0)
            short = HDR.pack(40, mtype, flags, seq, pid) + bytes(24)  # < the 72-byte body
            self.injected += 1
            return short + buf
        return buf


def test_malformed_messages_are_counted_and_noted(
    pop: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    lst, flt = _own(pop)
    pop.established(lst, 2)
    tap = NetlinkTap(monkeypatch, inject=True)
    with Collector(filter=flt) as c:
        snap = c.poll()
    assert tap.injected >= 1
    assert snap.count(TcpState.ESTABLISHED) == 4  # the good messages still count
    assert snap.malformed == tap.injected
    assert snap.to_dict()["malformed"] == tap.injected
    assert f"{tap.injected} malformed netlink messages skipped" in " ".join(snap.notes)


def test_filtered_sockets_come_filtered_from_the_kernel(
    netns: TestNetns, pop: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sockets(filter) asks the kernel for the matching sockets only: the messages received stay
    near the number of matches, not the population (300 TIME_WAIT that match neither filter)."""
    with netns.inside():
        web = pop.listener("127.0.0.1", 8080)
        pop.time_wait(web, 300)
        api = pop.listener("127.0.0.1", 9090)
        pop.established(api, 3)
    with Collector(netns=netns.name) as c:
        everything = c.sockets()
        assert len(everything) == 2 + 300 + 6
        tap = NetlinkTap(monkeypatch)
        by_port = c.sockets("dport = 9090 or sport = 9090")
        port_msgs, tap.diag = tap.diag, 0
        by_state = c.sockets("state established")
        state_msgs = tap.diag
    assert len(by_port) == 1 + 6 and len(by_state) == 6
    # The listeners (2) may be asked for separately to tell inbound from outbound.
    assert port_msgs <= len(by_port) + 2, port_msgs
    assert state_msgs <= len(by_state) + 2, state_msgs


def test_peer_sockets_honour_the_active_filter(pop: Population) -> None:
    """Drilling into a peer lists that peer's sockets under the active filter (kernel bytecode
    and state mask), not all of the peer's sockets: title count and list agree."""
    peer = "127.77.0.9"
    a = pop.listener("127.0.0.1", 0)
    b = pop.listener("127.0.0.1", 0)
    for lst in (a, b):
        for _ in range(2):
            c = pop.connect(lst, src=peer)
            s, _ = lst.accept()
            pop.keep += [c, s]
    _cw = pop.connect(a, src=peer)
    cw, _ = a.accept()
    _cw.close()
    pop.keep.append(cw)
    time.sleep(0.05)
    pa = a.getsockname()[1]
    with Collector(filter=f"sport = {pa}") as c:
        (row,) = [r for r in c.poll().peers if r.peer == peer]
        socks = c.peer_sockets(row)
        assert row.total == len(socks) == 3  # 2 ESTABLISHED + 1 CLOSE_WAIT on a's port, not b's
        assert {s.lport for s in socks} == {pa} and {s.remote for s in socks} == {peer}
        c.set_filter(f"sport = {pa} and state established")
        (row,) = [r for r in c.poll().peers if r.peer == peer]
        socks = c.peer_sockets(row)
        assert row.total == len(socks) == 2
        assert {s.state for s in socks} == {TcpState.ESTABLISHED}
