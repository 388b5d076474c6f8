"""The lean decoder on crafted bytes: malformed input is skipped and counted, never raised."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twtop import wire

HDR = struct.Struct("=IHHII")


def msg(state: int = 6, sport: int = 40000, dport: int = 80, attrs: bytes = b"", seq: int = 1,
        mtype: int = wire.SOCK_DIAG_BY_FAMILY, family: int = socket.AF_INET,
        expires: int = 59000, inode: int = 0) -> bytes:  # fmt: skip
    """One inet_diag_msg as the kernel would send it."""
    src = socket.inet_aton("127.0.0.1") + bytes(12)
    dst = socket.inet_aton("10.1.2.3") + bytes(12)
    body = struct.pack(
        "=BBBBHH16s16sIQIIIII", family, state, 3, 0, socket.htons(sport), socket.htons(dport),
        src, dst, 0, 0xABCDEF, expires, 0, 0, 0, inode,
    )  # fmt: skip
    payload = body + attrs
    return HDR.pack(16 + len(payload), mtype, wire.NLM_F_MULTI, seq, 0) + payload


def attr(atype: int, data: bytes) -> bytes:
    """One nlattr, padded to 4 bytes."""
    n = 4 + len(data)
    return struct.pack("=HH", n, atype) + data + bytes((-n) % 4)


DONE = HDR.pack(20, wire.NLMSG_DONE, wire.NLM_F_MULTI, 1, 0) + bytes(4)


class FakeSocket:
    """Replays receive buffers, then NLMSG_DONE; records what was sent."""

    def __init__(self, *bufs: bytes) -> None:
        self.bufs = list(bufs)
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        return len(data)

    def recv(self, size: int) -> bytes:
        return self.bufs.pop(0) if self.bufs else DONE


def decode(buf: bytes, seq: int | None = 1) -> tuple[list[tuple], wire.DecodeStats]:
    """Run the real dump loop over one receive buffer (then DONE) from a fake socket."""
    rows: list[tuple] = []
    stats = wire.DecodeStats()
    sock = FakeSocket(*([buf] if buf else []))
    for chunk, length, decoded in wire.dump_chunks(sock, b"request", stats, seq):  # type: ignore[arg-type]
        rows += wire.unpack_rows(chunk, length) if length else decoded or []
    assert sock.sent == [b"request"] and stats.done
    return rows, stats


def test_uniform_buffer_takes_the_fast_path_and_decodes_fields() -> None:
    buf = b"".join(
        msg(sport=40000 + i, attrs=attr(wire.INET_DIAG_MARK, bytes(4))) for i in range(5)
    )
    assert wire.uniform_length(buf, 1) == 96
    rows, stats = decode(buf)
    assert stats.messages == 5 and stats.malformed == 0
    r = rows[3]
    assert wire.port(r[wire.R_SPORT]) == 40003 and wire.port(r[wire.R_DPORT]) == 80
    assert r[wire.R_STATE] == 6 and r[wire.R_EXPIRES] == 59000 and r[wire.R_COOKIE] == 0xABCDEF
    assert socket.inet_ntoa(r[wire.R_DST][:4]) == "10.1.2.3"


def test_mixed_lengths_walk_by_nlmsg_len() -> None:
    buf = msg() + msg(state=1, attrs=attr(8, b"\x00") + attr(15, bytes(4))) + msg() + DONE
    assert wire.uniform_length(buf) == 0
    rows, stats = decode(buf)
    assert [r[wire.R_STATE] for r in rows] == [6, 1, 6]
    assert stats.done and stats.malformed == 0


def test_unknown_and_pad_attributes_are_stepped_over() -> None:
    weird = attr(14, bytes(4)) + attr(999, b"xyz") + attr(8, b"\x01")
    rows, stats = decode(msg(attrs=weird) + msg())
    assert len(rows) == 2 and stats.malformed == 0


def test_truncated_message_is_counted_not_raised() -> None:
    full = msg() + msg()
    rows, stats = decode(full[:-10])
    assert len(rows) == 1 and stats.malformed == 1


def test_short_inet_diag_msg_is_skipped() -> None:
    short = HDR.pack(40, wire.SOCK_DIAG_BY_FAMILY, 2, 1, 0) + bytes(24)
    rows, stats = decode(short + msg())
    assert len(rows) == 1 and stats.malformed == 1 and stats.reasons == {"short inet_diag_msg": 1}


def test_zero_length_cannot_loop_forever() -> None:
    bad = HDR.pack(0, wire.SOCK_DIAG_BY_FAMILY, 2, 1, 0) + bytes(100)
    rows, stats = decode(msg() + bad)
    assert len(rows) == 1 and stats.malformed == 1


def test_nlmsg_error_ends_the_dump_with_errno() -> None:
    err = HDR.pack(36, wire.NLMSG_ERROR, 0, 1, 0) + struct.pack("=i", -22) + bytes(16)
    stats = wire.DecodeStats()
    sock = FakeSocket(msg() + err, msg())
    with pytest.raises(wire.SockDiagError) as exc:
        list(wire.dump_chunks(sock, b"request", stats, 1))  # type: ignore[arg-type]
    assert exc.value.errno == 22 and stats.error == 22 and stats.done
    assert stats.messages == 1 and sock.bufs == [msg()]  # nothing read past the error


def test_bad_attribute_length_does_not_break_iteration() -> None:
    m = msg(attrs=struct.pack("=HH", 200, 8) + bytes(4))
    rows, stats = decode(m + msg())
    assert len(rows) == 2  # the fixed part is intact; attributes are not read in bulk


def test_foreign_sequence_is_ignored() -> None:
    rows, stats = decode(msg(seq=7) + msg(seq=1))
    assert len(rows) == 1 and stats.foreign == 1


def test_dump_interrupted_flag_is_reported() -> None:
    m = bytearray(msg())
    struct.pack_into("=H", m, 6, wire.NLM_F_MULTI | wire.NLM_F_DUMP_INTR)
    rows, stats = decode(bytes(m))
    assert len(rows) == 1 and stats.interrupted


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(0, 5))
def test_random_bytes_never_raise(data: bytes, cut: int) -> None:
    buf = msg() + data + msg()
    try:
        rows, stats = decode(buf[: len(buf) - cut], seq=None)
    except wire.SockDiagError as exc:  # an NLMSG_ERROR in the noise: a clean error, no crash
        assert exc.errno
        return
    assert stats.messages == len(rows)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 12), st.integers(0, 65535), st.binary(max_size=30)),
                max_size=12))  # fmt: skip
def test_any_valid_sequence_decodes_exactly(specs: list[tuple[int, int, bytes]]) -> None:
    buf = b"".join(msg(state=s, sport=p, attrs=attr(100, a)) for s, p, a in specs)
    rows, stats = decode(buf)
    # every message once (a buffer of several lengths comes back grouped by length: split_uniform)
    assert sorted((r[wire.R_STATE], wire.port(r[wire.R_SPORT])) for r in rows) == sorted(
        (s, p) for s, p, _ in specs
    )
    assert stats.malformed == 0


def test_request_encoding() -> None:
    req = wire.build_request(socket.AF_INET6, 1 << 6, 9, bytecode=b"\x01\x04\x08\x00")
    length, mtype, flags, seq, _ = HDR.unpack_from(req)
    assert (length, mtype, flags, seq) == (len(req), 20, 0x301, 9)
    fam, proto, _ext, _pad, states = struct.unpack_from("=BBBBI", req, 16)
    assert (fam, proto, states) == (socket.AF_INET6, socket.IPPROTO_TCP, 1 << 6)
    assert struct.unpack_from("=HH", req, 72) == (8, wire.INET_DIAG_REQ_BYTECODE)
    compat = wire.build_compat_request(0xFFF, 3)
    assert HDR.unpack_from(compat)[1] == wire.TCPDIAG_GETSOCK and len(compat) == 16 + 60
