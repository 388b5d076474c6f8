"""tcp_info of one socket: an exact sock_diag lookup (4-tuple + cookie, no dump) with tcp_info,
decoded by pyroute2's inet_diag_msg (speed does not matter for one message; completeness does)."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from typing import Any

from pyroute2.netlink.diag import inet_diag_msg

from twtop import wire
from twtop.model import Socket

#: Offsets in struct tcp_info (include/uapi/linux/tcp.h) of the fields shown. Older kernels send
#: a shorter struct: everything up to tcpi_total_retrans (104 bytes) has been there since 2.6;
#: bytes_acked / bytes_received came later (Linux 4.1 / 4.2).
TCPI_RTO, TCPI_UNACKED, TCPI_LAST_DATA_SENT, TCPI_LAST_DATA_RECV = 8, 24, 44, 52
TCPI_RTT, TCPI_RTTVAR, TCPI_SND_CWND, TCPI_TOTAL_RETRANS = 68, 72, 80, 100
TCPI_BYTES_ACKED, TCPI_BYTES_RECEIVED = 120, 128
TCPI_MIN_LEN = 104
_LE = sys.byteorder == "little"


@dataclass(frozen=True, slots=True)
class TcpInfo:
    """The tcp_info fields the explainer shows (times in milliseconds)."""

    rtt_ms: float
    rttvar_ms: float
    rto_ms: float
    cwnd: int
    unacked: int
    retrans_total: int
    bytes_acked: int | None  # None: the kernel's tcp_info is too short to carry it
    bytes_received: int | None
    last_data_sent_ms: int
    last_data_recv_ms: int

    @classmethod
    def from_pyroute2(cls, info: Any) -> TcpInfo:
        """Build from pyroute2's decoded tcp_info attribute."""

        def get(name: str) -> int:
            value = info.get(name)
            return int(value) if value is not None else 0

        return cls(
            rtt_ms=get("tcpi_rtt") / 1000,
            rttvar_ms=get("tcpi_rttvar") / 1000,
            rto_ms=get("tcpi_rto") / 1000,
            cwnd=get("tcpi_snd_cwnd"),
            unacked=get("tcpi_unacked"),
            retrans_total=get("tcpi_total_retrans"),
            bytes_acked=get("tcpi_bytes_acked"),
            bytes_received=get("tcpi_bytes_received"),
            last_data_sent_ms=get("tcpi_last_data_sent"),
            last_data_recv_ms=get("tcpi_last_data_recv"),
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> TcpInfo | None:
        """Decode a tcp_info shorter than pyroute2's struct (older kernels): what is there.

        None when even the fields up to ``tcpi_total_retrans`` are missing."""
        if len(raw) < TCPI_MIN_LEN:
            return None

        def u32(off: int) -> int:
            return int.from_bytes(raw[off : off + 4], "little" if _LE else "big")

        def u64(off: int) -> int | None:
            if len(raw) < off + 8:
                return None
            return int.from_bytes(raw[off : off + 8], "little" if _LE else "big")

        return cls(
            rtt_ms=u32(TCPI_RTT) / 1000,
            rttvar_ms=u32(TCPI_RTTVAR) / 1000,
            rto_ms=u32(TCPI_RTO) / 1000,
            cwnd=u32(TCPI_SND_CWND),
            unacked=u32(TCPI_UNACKED),
            retrans_total=u32(TCPI_TOTAL_RETRANS),
            bytes_acked=u64(TCPI_BYTES_ACKED),
            bytes_received=u64(TCPI_BYTES_RECEIVED),
            last_data_sent_ms=u32(TCPI_LAST_DATA_SENT),
            last_data_recv_ms=u32(TCPI_LAST_DATA_RECV),
        )


def lookup_request(sock: Socket, seq: int) -> bytes:
    """An exact-match SOCK_DIAG_BY_FAMILY request for ``sock`` asking for INET_DIAG_INFO."""
    fam = sock.family
    if fam == socket.AF_INET6:
        # a v4-mapped socket is shown as IPv4 but keyed by its mapped form
        def raw(addr: str) -> bytes:
            if ":" in addr:
                return socket.inet_pton(socket.AF_INET6, addr)
            return bytes(10) + b"\xff\xff" + socket.inet_aton(addr)
    else:

        def raw(addr: str) -> bytes:
            return socket.inet_aton(addr) + bytes(12)

    return wire.build_request(
        fam, 0xFFF | (1 << 12), seq, ext=1 << (wire.INET_DIAG_INFO - 1), sport=sock.lport,
        dport=sock.rport, src=raw(sock.local), dst=raw(sock.remote), cookie=sock.cookie,
        dump=False,
    )  # fmt: skip


def _attr(data: bytes, kind: int, end: int) -> bytes:
    """The payload of the first attribute ``kind`` after the inet_diag_msg (b"" if none)."""
    off = wire.MSG_LEN
    while off + wire.NLATTR.size <= end:
        alen, atype = wire.NLATTR.unpack_from(data, off)
        if alen < wire.NLATTR.size or off + alen > end:
            break
        if atype & 0x3FFF == kind:
            return bytes(data[off + wire.NLATTR.size : off + alen])
        off += (alen + 3) & ~3
    return b""


def decode_reply(data: bytes) -> tuple[int, TcpInfo | None]:
    """(errno, tcp_info) from the reply to ``lookup_request``; errno 0 when the socket was found."""
    if len(data) < wire.NLMSGHDR.size:
        return 71, None  # EPROTO
    _len, mtype, _flags, _seq, _pid = wire.NLMSGHDR.unpack_from(data)
    if mtype == wire.NLMSG_ERROR:
        at = wire.NLMSGHDR.size  # nlmsgerr.error
        code = int.from_bytes(data[at : at + 4], sys.byteorder, signed=True)
        return (-code if -4096 < code <= 0 else 71), None  # a nonsense errno: EPROTO
    msg = inet_diag_msg(data)
    msg.decode()
    info = msg.get_attr("INET_DIAG_INFO")
    if info is None:
        return 0, None
    if isinstance(info, bytes | bytearray):  # shorter than pyroute2's struct: decode it here
        return 0, TcpInfo.from_bytes(_attr(data, wire.INET_DIAG_INFO, min(len(data), _len)))
    return 0, TcpInfo.from_pyroute2(info)
