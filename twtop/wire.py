"""NETLINK_SOCK_DIAG wire format: request encoding and a lean bulk decoder.

The bulk decoder reads only the fixed part of inet_diag_msg (88 bytes with the nlmsghdr) and steps
over attributes by the message length, never assuming a fixed length (kernel-facts section 1). When
a receive buffer holds messages of one length only -- the common case -- the whole buffer is
unpacked in one C call (``struct.iter_unpack``) after checking every header in it with strided byte
slices; any other buffer is walked message by message. Malformed messages are skipped and counted,
never raised."""

from __future__ import annotations

import contextlib
import errno as _errno
import os
import socket
import struct
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

NETLINK_SOCK_DIAG = 4
TCPDIAG_GETSOCK = 18  # the original inet_diag request: AF_UNSPEC, both families in one walk
SOCK_DIAG_BY_FAMILY = 20
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
INET_DIAG_REQ_BYTECODE = 1
INET_DIAG_NOCOOKIE = 0xFFFFFFFFFFFFFFFF

#: inet_diag_msg attribute types this module names (include/uapi/linux/inet_diag.h).
INET_DIAG_INFO = 2
INET_DIAG_SHUTDOWN = 8
INET_DIAG_PAD = 14
INET_DIAG_MARK = 15

NLMSGHDR = struct.Struct("=IHHII")  # 16 bytes
REQ_V2 = struct.Struct("=BBBBIHH16s16sIQ")  # inet_diag_req_v2, 56 bytes
REQ_V1 = struct.Struct("=BBBBHH16s16sIQII")  # inet_diag_req (compat), 60 bytes
NLATTR = struct.Struct("=HH")

# Byte offsets of inet_diag_msg fields in a message (after the 16-byte nlmsghdr), as laid out in
# include/uapi/linux/inet_diag.h. Every struct format and strided slice below and in the
# aggregator derives from these. Ports are big-endian on the wire; addresses are 16 bytes, IPv4 in
# the first 4.
OFF_LEN = 0  # nlmsg_len (u32)
OFF_TYPE = 4  # nlmsg_type (u16)
OFF_FLAGS = 6  # nlmsg_flags (u16)
OFF_SEQ = 8  # nlmsg_seq (u32)
OFF_FAMILY = 16  # idiag_family (u8)
OFF_STATE = 17  # idiag_state (u8)
OFF_TIMER = 18  # idiag_timer (u8)
OFF_RETRANS = 19  # idiag_retrans (u8)
OFF_SPORT = 20  # id.idiag_sport (be16)
OFF_DPORT = 22  # id.idiag_dport (be16)
OFF_SRC = 24  # id.idiag_src (16 bytes)
OFF_DST = 40  # id.idiag_dst (16 bytes)
OFF_IF = 56  # id.idiag_if (u32): the bound device (sk_bound_dev_if; 0: none)
OFF_COOKIE = 60  # id.idiag_cookie (u32[2], read as one native u64)
OFF_EXPIRES = 68  # idiag_expires (u32, ms)
OFF_RQUEUE = 72  # idiag_rqueue (u32)
OFF_WQUEUE = 76  # idiag_wqueue (u32)
OFF_UID = 80  # idiag_uid (u32)
OFF_INODE = 84  # idiag_inode (u32)
MSG_LEN = 88  # the fixed part; attributes follow
ADDR_LEN = 16

_CODES = {"B": 1, "H": 2, "I": 4, "Q": 8}


def layout(fields: Sequence[tuple[int, str]], length: int = MSG_LEN) -> str:
    """A native-order struct format reading ``fields`` ((offset, code) in increasing offset order;
    code ``B``/``H``/``I``/``Q`` or ``Ns``) out of a ``length``-byte message, padding the rest."""
    fmt = ["="]
    pos = 0
    for off, code in fields:
        if off < pos:
            raise ValueError(f"field at {off} overlaps the previous one (ends at {pos})")
        if off > pos:
            fmt.append(f"{off - pos}x")
        fmt.append(code)
        pos = off + (int(code[:-1]) if code.endswith("s") else _CODES[code])
    if length < pos:
        raise ValueError(f"fields end at {pos}, past the message length {length}")
    if length > pos:
        fmt.append(f"{length - pos}x")
    return "".join(fmt)


#: The whole fixed part (88 bytes), every field: the nlmsghdr and inet_diag_msg.
MSG = struct.Struct(
    layout(
        [(OFF_LEN, "I"), (OFF_TYPE, "H"), (OFF_FLAGS, "H"), (OFF_SEQ, "I"), (12, "I"),
         (OFF_FAMILY, "B"), (OFF_STATE, "B"), (OFF_TIMER, "B"), (OFF_RETRANS, "B"),
         (OFF_SPORT, "H"), (OFF_DPORT, "H"), (OFF_SRC, f"{ADDR_LEN}s"), (OFF_DST, f"{ADDR_LEN}s"),
         (56, "I"), (OFF_COOKIE, "Q"), (OFF_EXPIRES, "I"), (OFF_RQUEUE, "I"), (OFF_WQUEUE, "I"),
         (OFF_UID, "I"), (OFF_INODE, "I")]
    )
)  # fmt: skip
assert MSG.size == MSG_LEN

# A decoded row is a plain tuple (cheap to build in bulk, cheap to keep); these are its indices.
# Ports are kept as read in host order from big-endian bytes; use ``port()`` to get the number.
_ROW_FIELDS = (
    (OFF_LEN, "I"), (OFF_TYPE, "H"), (OFF_FAMILY, "B"), (OFF_STATE, "B"), (OFF_TIMER, "B"),
    (OFF_RETRANS, "B"), (OFF_SPORT, "H"), (OFF_DPORT, "H"), (OFF_SRC, f"{ADDR_LEN}s"),
    (OFF_DST, f"{ADDR_LEN}s"), (OFF_COOKIE, "Q"), (OFF_EXPIRES, "I"), (OFF_RQUEUE, "I"),
    (OFF_WQUEUE, "I"), (OFF_UID, "I"), (OFF_INODE, "I"),
)  # fmt: skip
R_LEN, R_TYPE, R_FAMILY, R_STATE, R_TIMER, R_RETRANS, R_SPORT, R_DPORT = range(8)
R_SRC, R_DST, R_COOKIE, R_EXPIRES, R_RQUEUE, R_WQUEUE, R_UID, R_INODE = range(8, 16)
_ROW = struct.Struct(layout(_ROW_FIELDS))

_LITTLE = sys.byteorder == "little"

#: A decoded row: the fields above, in that order.
Row = tuple[Any, ...]


def port(raw: int) -> int:
    """Turn a port read as a native u16 from big-endian wire bytes into its number."""
    return ((raw & 0xFF) << 8) | (raw >> 8) if _LITTLE else raw


@dataclass(slots=True)
class DecodeStats:
    """What the decoder saw: messages decoded, skipped as malformed, and why the dump ended."""

    messages: int = 0
    malformed: int = 0
    foreign: int = 0  # well-formed messages of another type or sequence, ignored
    interrupted: bool = False  # NLM_F_DUMP_INTR: the kernel says the dump may be inconsistent
    done: bool = False
    error: int = 0  # errno from an NLMSG_ERROR that ended the dump (positive)
    reasons: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        """Count one malformed message."""
        self.malformed += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


_fast_structs: dict[int, struct.Struct] = {}


def _fast_struct(length: int) -> struct.Struct:
    s = _fast_structs.get(length)
    if s is None:
        s = _fast_structs[length] = struct.Struct(layout(_ROW_FIELDS, length))
    return s


def uniform_length(buf: bytes, seq: int | None = None) -> int:
    """The message length L when ``buf`` holds only complete SOCK_DIAG_BY_FAMILY messages of length
    L (same flags, no NLM_F_DUMP_INTR, sequence ``seq`` when given); 0 otherwise.

    Checking byte i of every header at once is a strided slice (C speed). By induction each message
    then starts at a multiple of L, so ``struct.iter_unpack`` over the buffer is exact.
    """
    n = len(buf)
    if n < MSG_LEN:
        return 0
    length = int.from_bytes(buf[OFF_LEN : OFF_LEN + 4], sys.byteorder)
    if length < MSG_LEN or length % 4 or n % length:
        return 0
    k = n // length
    head = buf[:OFF_SEQ]
    if head[OFF_TYPE : OFF_TYPE + 2] not in _REPLY_TYPES or head[OFF_FLAGS] & NLM_F_DUMP_INTR:
        return 0
    for i in range(OFF_SEQ):  # length, type and flags of every message
        if buf[i::length] != head[i : i + 1] * k:
            return 0
    if seq is not None and not _same_seq(buf, length, k, seq):
        return 0
    return length


_REPLY_TYPES = (
    SOCK_DIAG_BY_FAMILY.to_bytes(2, sys.byteorder),
    TCPDIAG_GETSOCK.to_bytes(2, sys.byteorder),
)


def unpack_rows(buf: bytes, length: int) -> list[Row]:
    """All rows of a buffer that ``uniform_length`` accepted with ``length``."""
    return list(_fast_struct(length).iter_unpack(buf))


def unpack_row(buf: bytes, offset: int) -> Row:
    """The row of the one message at ``offset`` of ``buf`` (its fixed part)."""
    return _ROW.unpack_from(buf, offset)


def _same_seq(buf: bytes, length: int, k: int, seq: int) -> bool:
    want = seq.to_bytes(4, sys.byteorder)
    return all(buf[OFF_SEQ + i :: length] == want[i : i + 1] * k for i in range(4))


def split_uniform(buf: bytes, seq: int | None = None) -> list[tuple[bytes, int]] | None:
    """A buffer ``uniform_length`` refused, as uniform buffers of its messages grouped by length
    (order kept within each); None when that is not all of it (end of dump, an error, a message
    of another sequence or type, an interrupted dump: the message-by-message walk says which).

    One walk of the socket tables interleaves full sockets (124 bytes with their attributes)
    and the few orphaned FIN_WAIT2 minisockets (96): one of those makes every receive buffer of
    a busy server non-uniform. Finding the boundaries costs one header read per message, far
    less than decoding a row per message."""
    order = sys.byteorder
    n = len(buf)
    offs: dict[int, list[int]] = {}
    off = 0
    while off < n:
        length = int.from_bytes(buf[off + OFF_LEN : off + OFF_LEN + 4], order)
        if length < MSG_LEN or length % 4 or off + length > n:
            return None
        offs.setdefault(length, []).append(off)
        off += length
    if len(offs) < 2:
        return None
    parts = []
    for length, starts in offs.items():
        part = b"".join([buf[o : o + length] for o in starts])
        if uniform_length(part, seq) != length:
            return None
        parts.append((part, length))
    return parts


def _decode_slow(buf: bytes, rows: list[Row], stats: DecodeStats, seq: int | None) -> None:
    off = 0
    n = len(buf)
    unpack_hdr = NLMSGHDR.unpack_from
    unpack_row = _ROW.unpack_from
    while off + NLMSGHDR.size <= n:
        length, mtype, flags, mseq, _pid = unpack_hdr(buf, off)
        if length < NLMSGHDR.size or off + length > n:
            # Cannot find the next message boundary: the rest of this buffer is lost.
            stats.skip("bad nlmsg_len")
            return
        step = (length + 3) & ~3
        if seq is not None and mseq != seq:
            stats.foreign += 1
        elif mtype in (SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK):
            if flags & NLM_F_DUMP_INTR:
                stats.interrupted = True
            # Attributes are not read on this path: they are stepped over by nlmsg_len.
            if length < MSG_LEN:
                stats.skip("short inet_diag_msg")
            else:
                rows.append(unpack_row(buf, off))
                stats.messages += 1
        elif mtype == NLMSG_DONE:
            stats.done = True
            return
        elif mtype == NLMSG_ERROR:
            if length >= NLMSGHDR.size + 4:
                at = off + NLMSGHDR.size  # nlmsgerr.error
                code = int.from_bytes(buf[at : at + 4], sys.byteorder, signed=True)
                if not -4096 < code <= 0:  # not an errno (-2**31 broke os.strerror): skip it
                    stats.skip("NLMSG_ERROR with an impossible errno")
                    off += step
                    continue
                stats.error = -code
                if code == 0:  # an ACK, not an error
                    stats.done = True
                    return
            else:
                stats.skip("short NLMSG_ERROR")
                stats.error = _errno.EPROTO
            stats.done = True
            return
        elif mtype == NLMSG_NOOP:
            pass
        else:
            stats.foreign += 1
        off += step
    if off < n and n - off < NLMSGHDR.size:
        stats.skip("trailing bytes")


def build_request(
    family: int,
    states: int,
    seq: int,
    bytecode: bytes = b"",
    ext: int = 0,
    sport: int = 0,
    dport: int = 0,
    src: bytes = bytes(16),
    dst: bytes = bytes(16),
    cookie: int = INET_DIAG_NOCOOKIE,
    dump: bool = True,
) -> bytes:
    """Encode an inet_diag_req_v2 (SOCK_DIAG_BY_FAMILY) request, with optional bytecode filter."""
    body = REQ_V2.pack(
        family,
        socket.IPPROTO_TCP,
        ext,
        0,
        states,
        socket.htons(sport),
        socket.htons(dport),
        src,
        dst,
        0,
        cookie,
    )
    if bytecode:
        alen = NLATTR.size + len(bytecode)
        body += NLATTR.pack(alen, INET_DIAG_REQ_BYTECODE) + bytecode + bytes((-alen) % 4)
    flags = NLM_F_REQUEST | (NLM_F_DUMP if dump else 0)
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), SOCK_DIAG_BY_FAMILY, flags, seq, 0) + body


def build_compat_request(states: int, seq: int, bytecode: bytes = b"", ext: int = 0) -> bytes:
    """Encode a TCPDIAG_GETSOCK dump: the kernel runs it with family AF_UNSPEC, so one walk of the
    socket tables returns IPv4 and IPv6 sockets alike (inet_diag_dump_compat). Replies carry
    nlmsg_type 18 and the same inet_diag_msg body."""
    body = REQ_V1.pack(
        socket.AF_UNSPEC, 0, 0, ext, 0, 0, bytes(16), bytes(16), 0, INET_DIAG_NOCOOKIE, states, 0
    )
    if bytecode:
        alen = NLATTR.size + len(bytecode)
        body += NLATTR.pack(alen, INET_DIAG_REQ_BYTECODE) + bytecode + bytes((-alen) % 4)
    return (
        NLMSGHDR.pack(
            NLMSGHDR.size + len(body), TCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP, seq, 0
        )
        + body
    )


class SockDiagError(OSError):
    """sock_diag could not be used: no NETLINK_SOCK_DIAG, or the kernel refused a request."""


RECV_SIZE = 65536
_DONE_LEN = NLMSGHDR.size + 4  # NLMSG_DONE: header + the dump's int status
#: How long one recv may wait for the kernel before the dump is abandoned (never hang a poll).
RECV_TIMEOUT_S = 10.0


def open_socket() -> socket.socket:
    """Open a NETLINK_SOCK_DIAG socket in the calling thread's network namespace."""
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    except OSError as exc:
        raise SockDiagError(
            exc.errno or 0, f"cannot open NETLINK_SOCK_DIAG: {exc.strerror}"
        ) from exc
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.settimeout(RECV_TIMEOUT_S)
    sock.bind((0, 0))
    return sock


def dump_chunks(
    sock: socket.socket,
    request: bytes,
    stats: DecodeStats,
    seq: int | None,
) -> Iterator[tuple[bytes, int, list[Row] | None]]:
    """Send a dump request; yield each receive buffer until NLMSG_DONE as ``(buf, L, rows)``.

    ``L`` > 0: the buffer passed ``uniform_length`` and ``rows`` is None (the caller unpacks what it
    needs). ``L`` == 0: the buffer was walked message by message and ``rows`` holds its sockets.
    ``seq``: messages of another sequence number are ignored (None: accept any).
    """
    sock.send(request)
    while not stats.done:
        try:
            buf = sock.recv(RECV_SIZE)
        except TimeoutError as exc:
            raise SockDiagError(_errno.ETIMEDOUT, "sock_diag dump timed out") from exc
        if not buf:
            raise SockDiagError(_errno.EPIPE, "sock_diag socket closed during a dump")
        length = uniform_length(buf, seq)
        if length:
            stats.messages += len(buf) // length
            yield buf, length, None
            continue
        parts = split_uniform(buf, seq)
        if parts:
            for part, length in parts:
                stats.messages += len(part) // length
                yield part, length, None
            continue
        rows: list[Row] = []
        _decode_slow(buf, rows, stats, seq)
        if stats.error:
            raise SockDiagError(stats.error, f"sock_diag: {os.strerror(stats.error)}")
        yield buf, 0, rows


def raw_dump_bytes(sock: socket.socket, request: bytes) -> int:
    """Receive a whole dump without decoding anything; return the byte count (benchmark floor)."""
    sock.send(request)
    total = 0
    order = sys.byteorder
    while True:
        buf = sock.recv(RECV_SIZE)
        total += len(buf)
        # The dump ends with NLMSG_DONE (20 bytes), alone or at the end of the last buffer.
        last = buf[-_DONE_LEN:]
        if len(buf) < _DONE_LEN or (
            int.from_bytes(last[OFF_LEN : OFF_LEN + 4], order) == _DONE_LEN
            and int.from_bytes(last[OFF_TYPE : OFF_TYPE + 2], order) in (NLMSG_DONE, NLMSG_ERROR)
        ):
            return total
