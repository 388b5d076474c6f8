"""The explainer on real sockets built for issue 8 (each case in a namespace the test creates):
simultaneous close (CLOSING), orphaned FIN_WAIT2 with tcp_fin_timeout above 60 s, connections
never accepted, a listener, a socket whose timer ran out, a FIN queued behind data, and
CLOSE_WAIT with unread data. Every expected sentence follows from shared/kernel-facts.md."""

from __future__ import annotations

import errno
import os
import re
import socket
import time
from dataclasses import replace

from tests.helpers import Population, TestNetns
from twtop.collector import Collector
from twtop.explain import explain_socket
from twtop.identity import IdentityCache
from twtop.model import Socket
from twtop.tcpinfo import TcpInfo


def _one(c: Collector, expr: str) -> Socket:
    socks = c.sockets(expr)
    assert len(socks) == 1, (expr, socks)
    return socks[0]


def _steps(exp: object) -> list[tuple[str, bool, str]]:
    return [(s.segment, s.from_local, s.status) for s in exp.steps]  # type: ignore[attr-defined]


def _wait_for(c: Collector, expr: str, timeout: float = 5.0) -> Socket:
    deadline = time.monotonic() + timeout
    while True:
        socks = c.sockets(expr)
        if socks or time.monotonic() > deadline:
            assert len(socks) == 1, (expr, socks)
            return socks[0]
        time.sleep(0.05)


def test_closing_simultaneous_close(netns: TestNetns, pop: Population) -> None:
    """Both ends shutdown(SHUT_WR) while lo is down, so both FINs are sent and lost (both
    FIN_WAIT1). Then lo comes back with a policy rule that blackholes 127.0.0.2 -> 127.0.0.1:
    the client's retransmitted FIN reaches the server, which is still in FIN_WAIT1, so the
    server enters CLOSING and ACKs it; that ACK and the server's own FIN retransmissions are
    dropped, so CLOSING holds (deterministic, no race)."""
    netns.ip("rule", "add", "pref", "100", "lookup", "local")
    netns.ip("rule", "del", "pref", "0")  # our rules must come before the local table
    with netns.inside():
        lst = pop.listener("127.0.0.2", 5000)
        client = socket.socket()
        client.bind(("127.0.0.1", 0))
        client.connect(("127.0.0.2", 5000))
        server, _ = lst.accept()
        pop.keep += [client, server]
        netns.ip("link", "set", "lo", "down")
        client.shutdown(socket.SHUT_WR)
        server.shutdown(socket.SHUT_WR)
        netns.ip("rule", "add", "pref", "10", "from", "127.0.0.2", "to", "127.0.0.1", "blackhole")
        netns.ip("link", "set", "lo", "up")
    with Collector(netns=netns.name) as c:
        closing = _wait_for(c, "state closing")
        fw1 = _one(c, "state fin-wait-1")
        snap = c.poll()
    assert "127.0.0.2:5000" in netns.ss("-tan", "state", "closing")  # ss agrees
    assert closing.lport == 5000 and closing.timer == 1  # our FIN is being retransmitted
    assert closing.wqueue == 1  # only our FIN is unacknowledged (kernel-facts 7b)
    exp = explain_socket(closing, snap)
    assert exp.role == "active"
    # 7b: 1 FIN-> done, 2 <-ACK waiting, 3 <-FIN done, 4 ACK-> done
    assert _steps(exp) == [
        ("FIN", True, "done"),
        ("ACK", False, "waiting"),
        ("FIN", False, "done"),
        ("ACK", True, "done"),
    ]
    text = exp.render()
    assert ">>2      <------------------------------ ACK  waiting" in text
    assert "  4  ACK ------------------------------>      done" in text
    assert "Only the peer's ACK of our FIN is missing" in text
    assert "wqueue 1: only our FIN, not yet acknowledged" in exp.queues
    zh = explain_socket(closing, snap, "zh").render()
    assert ">>2      <------------------------------ ACK  等待中" in zh
    # the client never got the server's ACK: still FIN_WAIT1, waiting for it
    assert _steps(explain_socket(fw1, snap))[:2] == [
        ("FIN", True, "done"),
        ("ACK", False, "waiting"),
    ]


def test_orphan_fin_wait2_with_fin_timeout_above_60(netns: TestNetns, pop: Population) -> None:
    """tcp_fin_timeout=70: an orphaned FIN_WAIT2 first waits 10 s as a full socket on timer 2,
    then another 10 s as a minisocket: 20 s in all (kernel-facts 4). The second stage is shown
    with 62 (2 s + 2 s) so the test stays short."""
    netns.sysctl("net.ipv4.tcp_fin_timeout", "70")
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8070)
        pop.close_wait(lst, 1)  # the client closes; the server never does
    with Collector(netns=netns.name) as c:
        first = _one(c, "state fin-wait-2 and dport = 8070")
        snap = c.poll()
    assert first.inode == 0 and first.timer == 2 and 9_000 < first.expires_ms <= 10_000
    exp = explain_socket(first, snap)
    assert "first stage" in exp.timer and "tcp_fin_timeout is 70 s" in exp.timer
    assert "another 10 s as a FIN_WAIT2 minisocket: 20 s in all" in exp.timer
    assert "not 70 s" in exp.timer
    assert "Orphan" in exp.owner
    assert "总共 20 秒" in explain_socket(first, snap, "zh").timer

    netns.sysctl("net.ipv4.tcp_fin_timeout", "62")
    with netns.inside():
        lst2 = pop.listener("127.0.0.1", 8062)
        pop.close_wait(lst2, 1)
    with Collector(netns=netns.name) as c:
        stage1 = _one(c, "state fin-wait-2 and dport = 8062")
        assert stage1.timer == 2 and stage1.expires_ms <= 2_000
        time.sleep(stage1.expires_ms / 1000 + 0.3)
        second = _one(c, "state fin-wait-2 and dport = 8062")  # still there: a minisocket now
        snap = c.poll()
    assert second.timer == 3 and 0 < second.expires_ms <= 2_000
    exp = explain_socket(second, snap)
    assert "second stage" in exp.timer and "4 s in all, 2 x (62 - 60)" in exp.timer


def test_connections_never_accepted(netns: TestNetns, pop: Population) -> None:
    """Connections queued on a listener that never calls accept() have inode 0 because the
    application never had a descriptor: "not yet accepted", never "orphan" (kernel-facts 7b)."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080, backlog=8)
        waiting = pop.connect(lst)  # stays ESTABLISHED in the accept queue
        gone = pop.connect(lst)
        pop.keep += [waiting, gone]
        gone.close()  # its server side becomes CLOSE_WAIT, still in the accept queue
        time.sleep(0.05)
    with Collector(netns=netns.name) as c:
        snap = c.poll()
        est = _one(c, "state established and sport = 8080")
        cw = _one(c, "state close-wait and sport = 8080")
        client_fw2 = _one(c, "state fin-wait-2 and dport = 8080")
    assert est.inode == cw.inode == 0 and est.owner is None
    e = explain_socket(est, snap)
    assert e.owner.startswith("Not yet accepted: it waits in the accept queue of the listener")
    # the listener and its process (service name and PID), from the snapshot
    me = IdentityCache().get(os.getpid())
    assert me is not None
    assert f"127.0.0.1:8080 ({me.service}[{os.getpid()}])" in e.owner
    assert "has not called accept() yet" in e.owner and "Not an orphan" in e.owner
    w = explain_socket(cw, snap)
    assert w.owner.startswith("Not yet accepted") and "stopped calling accept()" in w.owner
    assert "Orphan" not in e.owner + w.owner
    assert "尚未被 accept" in explain_socket(cw, snap, "zh").owner
    # without a snapshot the engine's own listener match (Socket.inbound) still tells
    assert explain_socket(cw).owner.startswith("Not yet accepted")
    # nothing to tell it by: say so instead of guessing
    blind = explain_socket(replace(cw, inbound=None))
    assert "cannot tell whether it waits in an accept queue" in blind.owner
    no_listener = explain_socket(cw, replace(snap, listeners=()))
    assert "no listener holds 127.0.0.1:8080" in no_listener.owner
    # the client that closed is the real orphan
    assert explain_socket(client_fw2, snap).owner.startswith("Orphan")
    with netns.inside():
        accepted, _ = lst.accept()  # now the application holds one: it has an owner
        pop.keep.append(accepted)
    with Collector(netns=netns.name) as c:
        owned = c.sockets("sport = 8080 and (state established or state close-wait)")
    assert any(s.owner is not None for s in owned)


def test_listen_explanation(netns: TestNetns, pop: Population) -> None:
    """A listener is explained as a listener: its accept queue against its backlog (which can
    hold limit + 1: `LISTEN 3 2`), no peer, no FIN, no tcp_info round trip."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 6060, backlog=2)
        for _ in range(3):
            pop.keep.append(pop.connect(lst))
        time.sleep(0.05)
    with Collector(netns=netns.name) as c:
        listen = _one(c, "state listening")
        snap = c.poll()
    assert (listen.rqueue, listen.wqueue) == (3, 2)  # kernel-facts 7b: limit + 1
    info = TcpInfo(0.0, 0.0, 0.0, 10, 0, 0, 0, 0, 0, 0)  # what a lookup of a listener decodes to
    exp = explain_socket(listen, snap, "en", info)
    text = exp.render()
    assert exp.role == "listening" and not exp.steps and exp.tcp_info is None
    assert text.splitlines()[1] == "127.0.0.1:6060, listening for inbound connections"
    assert "3 connections wait for accept(); limit 2" in exp.queues
    assert "it can reach 3 (limit + 1)" in exp.queues
    for wrong in ("peer connected", "No FIN", "rtt", "0.0.0.0:0", "->"):
        assert wrong not in text, wrong
    zh = explain_socket(listen, snap, "zh", info).render()
    assert "全连接队列" in zh and "FIN" not in zh.split("\n\n")[0]


def test_expired_socket_is_gone(netns: TestNetns, pop: Population) -> None:
    """A FIN_WAIT2 minisocket (tcp_fin_timeout=1) read, then explained after its timer ran out:
    the kernel has removed it, and the explanation says so instead of "0 ms left"."""
    netns.sysctl("net.ipv4.tcp_fin_timeout", "1")
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8081)
        pop.close_wait(lst, 1)
    with Collector(netns=netns.name) as c:
        sock = _one(c, "state fin-wait-2")
        snap = c.poll()
        read_at = time.monotonic()
        assert sock.timer == 3 and 0 < sock.expires_ms <= 1_000
        live = explain_socket(sock, snap)
        assert "left of at most tcp_fin_timeout (1 s)" in live.timer
        time.sleep(sock.expires_ms / 1000 + 0.3)
        assert c.sockets("state fin-wait-2") == []  # really gone from the kernel's table
    elapsed = int((time.monotonic() - read_at) * 1000)
    exp = explain_socket(sock, snap, elapsed_ms=elapsed)
    assert exp.timer.startswith("Gone: its timer ran out")
    assert "removed this socket from its table" in exp.timer
    assert exp.waits == "nothing: the socket is gone" and exp.owner == exp.queues == ""
    assert exp.next == "nothing more; its 4-tuple can be used again"
    text = exp.render()
    assert not re.search(r"(?<![\d.])0 ms", text) and " left" not in text
    assert explain_socket(sock, snap, "zh", elapsed_ms=elapsed).timer.startswith("已消失")


def test_fin_wait1_fin_queued_behind_data(netns: TestNetns, pop: Population) -> None:
    """The peer stops reading: our data fills its window, shutdown() queues the FIN behind it.
    wqueue = unacknowledged bytes + 1 for the FIN, timer 'persist' (kernel-facts 7b)."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8082)
        ((client, _server),) = pop.established(lst, 1)
        client.setblocking(False)
        sent = 0
        while True:
            try:
                sent += client.send(b"x" * 65536)
            except OSError as exc:
                assert exc.errno == errno.EAGAIN
                break
        client.shutdown(socket.SHUT_WR)
    with Collector(netns=netns.name) as c:
        fw1 = _wait_for(c, "state fin-wait-1")
        deadline = time.monotonic() + 3
        while fw1.timer != 4 and time.monotonic() < deadline:
            time.sleep(0.1)
            fw1 = _one(c, "state fin-wait-1")
    assert fw1.timer == 4 and fw1.wqueue > 1
    exp = explain_socket(fw1)
    assert _steps(exp)[0] == ("FIN", True, "queued")
    assert "sent, or still queued" in exp.diagram()
    assert f"{fw1.wqueue - 1} bytes not yet acknowledged" in exp.queues
    assert "plus 1 for our FIN" in exp.queues and "may still be queued" in exp.queues
    assert "receive window is 0 (it stopped reading)" in exp.timer
    assert "Our FIN waits behind that data" in exp.timer
    assert "unsent" not in exp.render()


def test_close_wait_with_unread_data_ends_with_rst(netns: TestNetns, pop: Population) -> None:
    """rqueue 101 = 100 bytes + the FIN. The explanation says close() would send a RST; it
    does: no LAST_ACK and no TIME_WAIT on either side (kernel-facts 7b)."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8083)
        ((client, server),) = pop.established(lst, 1)
        client.sendall(b"y" * 100)
        client.close()
        time.sleep(0.05)
    with Collector(netns=netns.name) as c:
        cw = _one(c, "state close-wait")
        assert cw.rqueue == 101
        exp = explain_socket(cw)
        assert "100 bytes of data and the peer's FIN are unread" in exp.queues
        assert "close() now would send a RST instead of a FIN" in exp.queues
        server.close()
        time.sleep(0.1)
        left = c.sockets("sport = 8083 or dport = 8083")
    assert [s.state.name for s in left] == ["LISTEN"]
