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


@dataclass(frozen=True, slots=True)
class TcpInfo:
    """The tcp_info fields the explainer shows (times in milliseconds)."""

    rtt_ms: float
    rttvar_ms: float
    rto_ms: float
    cwnd: int
    unacked: int
    retrans_total: int
    bytes_acked: int
    bytes_received: int
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


def decode_reply(data: bytes) -> tuple[int, TcpInfo | None]:
    """(errno, tcp_info) from the reply to ``lookup_request``; errno 0 when the socket was found."""
    if len(data) < wire.NLMSGHDR.size:
        return 71, None  # EPROTO
    _len, mtype, _flags, _seq, _pid = wire.NLMSGHDR.unpack_from(data)
    if mtype == wire.NLMSG_ERROR:
        at = wire.NLMSGHDR.size  # nlmsgerr.error
        code = int.from_bytes(data[at : at + 4], sys.byteorder, signed=True)
        return -code, None
    msg = inet_diag_msg(data)
    msg.decode()
    info = msg.get_attr("INET_DIAG_INFO")
    return 0, (TcpInfo.from_pyroute2(info) if info is not None else None)
