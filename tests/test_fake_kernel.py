"""The collector's dump loop and decoder fed by a fake sock_diag "kernel" (no root, no kernel).

``socket.socket`` is replaced for AF_NETLINK only: the fake parses each dump request (type, state
mask, family, sequence number) and answers with canned buffers laid out as the kernel lays them out
-- uniform buffers, mixed lengths, NLMSG_DONE alone or at the end of the last buffer, errors,
interrupted dumps, stale and malformed messages. The tests use only the public API
(``Collector.poll``/``sockets``, ``twtop.cli.main``), so they hold however the engine is split.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

import pytest

from twtop.collector import Collector
from twtop.errors import UnavailableError
from twtop.states import BOUND_INACTIVE, TcpState

HDR = struct.Struct("=IHHII")
REQ_V1 = struct.Struct("=BBBBHH16s16sIQII")  # inet_diag_req (TCPDIAG_GETSOCK)
REQ_V2 = struct.Struct("=BBBBIHH16s16sIQ")  # inet_diag_req_v2 (SOCK_DIAG_BY_FAMILY)
TCPDIAG_GETSOCK, SOCK_DIAG_BY_FAMILY = 18, 20
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_MULTI, NLM_F_DUMP_INTR = 0x2, 0x10
S = TcpState


@dataclass(frozen=True)
class Sock:
    """One socket the fake kernel reports."""

    state: TcpState
    src: str
    sport: int
    dst: str
    dport: int
    cookie: int
    rqueue: int = 0


def _addr(text: str) -> tuple[int, bytes]:
    ip = ipaddress.ip_address(text)
    fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return fam, ip.packed.ljust(16, b"\0")


def diag_msg(s: Sock, mtype: int, seq: int, flags: int = NLM_F_MULTI, attr: bool = False) -> bytes:
    """An inet_diag_msg as the kernel sends it (72-byte body, optional INET_DIAG_SHUTDOWN attr)."""
    fam, src = _addr(s.src)
    _fam, dst = _addr(s.dst)
    body = (
        struct.pack("=BBBB", fam, int(s.state), 0, 0)
        + struct.pack(">HH", s.sport, s.dport)
        + src
        + dst
        + struct.pack("=IQ", 0, s.cookie)
        + struct.pack("=IIIII", 0, s.rqueue, 0, 0, 0)
    )
    if attr:
        body += struct.pack("=HHB3x", 5, 8, 0)  # INET_DIAG_SHUTDOWN, padded to 8 bytes
    return HDR.pack(HDR.size + len(body), mtype, flags, seq, 0) + body


def done(seq: int) -> bytes:
    return HDR.pack(20, NLMSG_DONE, NLM_F_MULTI, seq, 0) + bytes(4)


def error(seq: int, err: int) -> bytes:
    return HDR.pack(36, NLMSG_ERROR, 0, seq, 0) + struct.pack("=i", -err) + bytes(16)


@dataclass
class FakeKernel:
    """Answers dump requests from ``socks``; records every request it gets."""

    socks: list[Sock]
    per_buffer: int = 16
    mixed: bool = False  # every third message carries an attribute: buffers are not uniform
    done_alone: bool = True  # NLMSG_DONE in a buffer of its own, or after the last messages
    refuse_compat: bool = False  # answer TCPDIAG_GETSOCK with EINVAL (kernels without it)
    fail_with: int = 0  # answer every dump with this errno
    interrupted: bool = False  # set NLM_F_DUMP_INTR on the messages
    stale_first: bool = False  # put a message of an old sequence number first
    malformed_first: bool = False  # put a too-short socket message first
    mute: bool = False  # never answer (the socket's receive timeout fires)
    requests: list[tuple[int, int, int]] = field(default_factory=list)  # (type, family, states)
    buffers: list[bytes] = field(default_factory=list)

    def answer(self, req: bytes) -> None:
        _len, mtype, _flags, seq, _pid = HDR.unpack_from(req, 0)
        if mtype == TCPDIAG_GETSOCK:
            fam, states = socket.AF_UNSPEC, REQ_V1.unpack_from(req, HDR.size)[10]
        else:
            v2 = REQ_V2.unpack_from(req, HDR.size)
            fam, states = v2[0], v2[4]
        self.requests.append((mtype, fam, states))
        if self.mute:
            return
        if self.fail_with or (mtype == TCPDIAG_GETSOCK and self.refuse_compat):
            self.buffers.append(error(seq, self.fail_with or errno.EINVAL))
            return
        flags = NLM_F_MULTI | (NLM_F_DUMP_INTR if self.interrupted else 0)
        msgs = [
            diag_msg(s, mtype, seq, flags, attr=self.mixed and i % 3 == 2)
            for i, s in enumerate(self.socks)
            if states >> int(s.state) & 1 and fam in (socket.AF_UNSPEC, _addr(s.src)[0])
        ]
        if self.stale_first and msgs:
            msgs.insert(0, diag_msg(self.socks[0], mtype, (seq - 1) & 0xFFFFFFFF or 7))
        if self.malformed_first:  # also in front of an empty dump
            msgs.insert(0, HDR.pack(40, mtype, NLM_F_MULTI, seq, 0) + bytes(24))
        bufs = [
            b"".join(msgs[i : i + self.per_buffer]) for i in range(0, len(msgs), self.per_buffer)
        ]
        if self.done_alone or not bufs:
            bufs.append(done(seq))
        else:
            bufs[-1] += done(seq)
        self.buffers += bufs


class FakeNetlinkSocket:
    """The few socket methods a sock_diag client uses."""

    family = socket.AF_NETLINK

    def __init__(self, kernel: FakeKernel) -> None:
        self.kernel = kernel

    def setsockopt(self, *args: Any) -> None:
        pass

    def settimeout(self, timeout: float | None) -> None:
        pass

    def bind(self, addr: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, data: bytes, flags: int = 0) -> int:
        self.kernel.answer(bytes(data))
        return len(data)

    sendall = send

    def recv(self, size: int, flags: int = 0) -> bytes:
        if not self.kernel.buffers:
            raise TimeoutError("the fake kernel has nothing to say")
        buf = self.kernel.buffers.pop(0)
        assert len(buf) <= size
        return buf


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeKernel:
    """A fake kernel behind every AF_NETLINK socket the code under test opens."""
    kernel = FakeKernel(socks=[])
    real = socket.socket

    def make(family: int = -1, *args: Any, **kwargs: Any) -> Any:
        if family == socket.AF_NETLINK:
            return FakeNetlinkSocket(kernel)
        return real(family, *args, **kwargs)

    monkeypatch.setattr(socket, "socket", make)
    return kernel


def population() -> list[Sock]:
    """40 outbound TIME_WAIT to two peers, ESTABLISHED both ways, CLOSE_WAITs, IPv6, a listener."""
    socks = [Sock(S.LISTEN, "0.0.0.0", 8080, "0.0.0.0", 0, 1)]
    socks += [Sock(S.TIME_WAIT, "10.0.0.1", 40000 + i, "10.0.0.9", 443, 100 + i) for i in range(30)]
    socks += [Sock(S.TIME_WAIT, "10.0.0.1", 41000 + i, "10.0.0.8", 80, 200 + i) for i in range(10)]
    socks += [
        Sock(S.ESTABLISHED, "10.0.0.1", 8080, "10.0.0.7", 50000 + i, 300 + i) for i in range(4)
    ]
    socks += [Sock(S.ESTABLISHED, "10.0.0.1", 42000, "10.0.0.9", 443, 400)]
    socks += [Sock(S.CLOSE_WAIT, "10.0.0.1", 8080, "10.0.0.7", 51000 + i, 500 + i, rqueue=9 * i)
              for i in range(3)]  # fmt: skip
    socks += [Sock(S.ESTABLISHED, "::1", 8443, "::1", 52000, 600),
              Sock(S.FIN_WAIT2, "2001:db8::1", 43000, "2001:db8::2", 443, 601)]  # fmt: skip
    return socks


WANT_STATES = {S.LISTEN: 1, S.TIME_WAIT: 40, S.ESTABLISHED: 6, S.CLOSE_WAIT: 3, S.FIN_WAIT2: 1}


@pytest.mark.parametrize("refuse_compat", [False, True], ids=["compat", "per-family"])
@pytest.mark.parametrize("done_alone", [True, False], ids=["done-alone", "done-appended"])
@pytest.mark.parametrize("mixed", [False, True], ids=["uniform", "mixed"])
def test_poll_counts_what_the_kernel_sent(
    fake: FakeKernel, mixed: bool, done_alone: bool, refuse_compat: bool
) -> None:
    fake.socks = population()
    fake.mixed, fake.done_alone, fake.refuse_compat, fake.per_buffer = (
        mixed, done_alone, refuse_compat, 7
    )  # fmt: skip
    with Collector() as c:
        snap = c.poll()
        again = c.poll()
    assert {s: n for s, n in snap.states.items() if n} == WANT_STATES
    assert snap.ipv6 == 2 and snap.ipv4 == 49 and snap.malformed == 0
    by_peer = {p.peer: p for p in snap.peers}
    assert by_peer["10.0.0.9"].count(S.TIME_WAIT) == 30
    assert by_peer["10.0.0.9"].count(S.ESTABLISHED) == 1
    assert by_peer["10.0.0.8"].count(S.TIME_WAIT) == 10
    assert by_peer["10.0.0.7"].count(S.CLOSE_WAIT) == 3
    assert snap.close_wait_unread == 2  # rqueue 9 and 18; 0 is not unread
    assert {s: n for s, n in again.states.items() if n} == WANT_STATES
    if refuse_compat:  # one refusal, then per-family dumps only
        types = [t for t, _f, _s in fake.requests]
        assert types[0] == TCPDIAG_GETSOCK and set(types[1:]) == {SOCK_DIAG_BY_FAMILY}


def test_state_filter_goes_into_the_request(fake: FakeKernel) -> None:
    fake.socks = population()
    with Collector(filter="state close-wait") as c:
        got = c.sockets()
        snap = c.poll()
    assert [s.state for s in got] == [S.CLOSE_WAIT] * 3
    assert {s: n for s, n in snap.states.items() if n} == {S.CLOSE_WAIT: 3}
    # Only the listeners (to tell inbound from outbound), the bound-only sockets (ports held by
    # bind() shrink every tuple: the port model), the request sockets (each listener's SYN_RECV,
    # counted whatever the filter) and CLOSE_WAIT were asked for.
    asked = {states for _t, _f, states in fake.requests}
    assert asked <= {1 << S.LISTEN, 1 << BOUND_INACTIVE, 1 << S.SYN_RECV, 1 << S.CLOSE_WAIT}
    assert 1 << S.CLOSE_WAIT in asked


def test_sockets_decode_addresses_ports_and_queues(fake: FakeKernel) -> None:
    fake.socks = population()
    fake.mixed = True
    with Collector() as c:
        got = {s.cookie: s for s in c.sockets()}
    assert len(got) == len(fake.socks)
    cw = got[502]
    assert (cw.state, cw.local, cw.lport, cw.remote, cw.rport, cw.rqueue) == (
        S.CLOSE_WAIT, "10.0.0.1", 8080, "10.0.0.7", 51002, 18
    )  # fmt: skip
    v6 = got[601]
    assert (v6.local, v6.lport, v6.remote, v6.rport) == ("2001:db8::1", 43000, "2001:db8::2", 443)


def test_stale_messages_are_ignored(fake: FakeKernel) -> None:
    """A message left over from an earlier dump (another sequence number) is not counted."""
    fake.socks = population()
    fake.stale_first = True
    with Collector() as c:
        snap = c.poll()
    assert {s: n for s, n in snap.states.items() if n} == WANT_STATES
    assert snap.malformed == 0


def test_malformed_message_is_skipped_counted_and_noted(fake: FakeKernel) -> None:
    fake.socks = population()
    fake.malformed_first = True
    with Collector() as c:
        snap = c.poll()
    assert {s: n for s, n in snap.states.items() if n} == WANT_STATES
    dumps = len(fake.requests)
    assert snap.malformed == dumps  # one in front of each dump's first buffer
    assert f"{dumps} malformed netlink messages skipped" in snap.notes


def test_interrupted_dump_is_noted(fake: FakeKernel) -> None:
    fake.socks = population()
    fake.interrupted = True
    with Collector() as c:
        snap = c.poll()
    assert {s: n for s, n in snap.states.items() if n} == WANT_STATES
    assert any("interrupted" in n for n in snap.notes)


@pytest.mark.parametrize(
    ("err", "words"),
    [(errno.EACCES, "permission denied"), (errno.EIO, "sock_diag dump failed")],
)
def test_kernel_error_is_a_one_line_unavailable_error(
    fake: FakeKernel, err: int, words: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    fake.socks = population()
    fake.fail_with = err
    with Collector() as c, pytest.raises(UnavailableError, match=words):
        c.poll()
    from twtop import cli

    monkeypatch.setenv("TWTOP_CONFIG", "/nonexistent")
    assert cli.main(["--once"]) == 69
    out = capsys.readouterr()
    assert out.out == "" and out.err.startswith("twtop: ") and out.err.count("\n") == 1
    assert words in out.err


def test_silent_kernel_is_a_timeout_not_a_hang(fake: FakeKernel) -> None:
    """No answer within the receive timeout: a one-line error, not a hung poll."""
    fake.socks = population()
    fake.mute = True
    with Collector() as c, pytest.raises(UnavailableError, match="timed out"):
        c.poll()
