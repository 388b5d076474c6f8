"""A fixed snapshot source for deterministic UI tests (the engine is tested on the real kernel)."""

from __future__ import annotations

import socket
from typing import Any

from twtop.filter import compile_filter
from twtop.model import (
    Churn,
    Listener,
    Owner,
    PeerKey,
    PeerRow,
    PortTuple,
    PortUsage,
    ProcessRow,
    Snapshot,
    Socket,
)
from twtop.ports import Regime, Why
from twtop.states import TcpState as S

T0 = 1_790_000_000.0  # a fixed clock
OWNER = Owner(4242, "api-server", "www")
#: tcp_tw_reuse=2 and neither end on loopback: every TIME_WAIT blocks its port for 60 s.
REMOTE = Regime(False, 60_000, Why.NOT_LOOPBACK)


def _ip(text: str) -> PeerKey:
    fam = socket.AF_INET6 if ":" in text else socket.AF_INET
    return PeerKey("ip", fam, socket.inet_pton(fam, text))


def make_snapshot(n: int = 0, group: str = "ip", filter: str | None = None) -> Snapshot:
    """A snapshot of a host in trouble: outbound TIME_WAIT pressure and a CLOSE_WAIT leak."""
    tw = 21_000 + 300 * n
    peers = (
        PeerRow("10.4.14.24", tw + 120, {S.TIME_WAIT: tw, S.ESTABLISHED: 120}, 0, tw + 120,
                ("api-server[4242]",), _ip("10.4.14.24")),
        PeerRow("10.4.14.31", 3_210, {S.CLOSE_WAIT: 2_900, S.ESTABLISHED: 310}, 3_210, 0,
                ("api-server[4242]",), _ip("10.4.14.31")),
        PeerRow("192.168.7.9", 812, {S.ESTABLISHED: 800, S.FIN_WAIT2: 12}, 0, 812, (),
                _ip("192.168.7.9")),
        PeerRow("2001:db8::77", 64, {S.ESTABLISHED: 60, S.TIME_WAIT: 4}, 64, 0, (),
                _ip("2001:db8::77")),
        PeerRow("0.0.0.0", 3, {S.LISTEN: 3}, 3, 0, ("api-server[4242]",), _ip("0.0.0.0")),
    )  # fmt: skip
    states = {S.ESTABLISHED: 1_290, S.TIME_WAIT: tw + 4, S.CLOSE_WAIT: 2_900, S.FIN_WAIT2: 12,
              S.LISTEN: 3}  # fmt: skip
    tuples = (
        PortTuple("10.4.0.5", "10.4.14.24", 80, tw + 120, tw, 28_232, 690.0, regime=REMOTE),
        PortTuple("10.4.0.5", "192.168.7.9", 5432, 812, 0, 28_232, 0.0, regime=REMOTE),
    )
    return Snapshot(
        taken_at=T0 + n,
        host="web-7",
        kernel="6.18.0",
        netns=None,
        collect_ms=21.0,
        filter=filter,
        group=group,
        states=states,
        ipv4=sum(states.values()) - 64,
        ipv6=64,
        peers=peers,
        peers_total=len(peers),
        ports=PortUsage(32768, 60999, 0, tuples, 2),
        churn=Churn(10.0, 690.0, 700.0, 300.0 if n else None),
        sysctl={
            "tcp_tw_reuse": "2",
            "tcp_timestamps": "1",
            "tcp_fin_timeout": "60",
            "tcp_max_tw_buckets": "131072",
            "ip_local_port_range": "32768 60999",
            "ip_local_reserved_ports": "",
            "tcp_tw_reuse_delay": "1000",
        },  # fmt: skip
        counters={"TW": 100_000 + 690 * n, "TCPTimeWaitOverflow": 0},
        rates={"TW": 690.0} if n else {},
        state_rates={S.TIME_WAIT: 300.0, S.CLOSE_WAIT: 2.0} if n else {},
        processes=(
            ProcessRow(4242, "api-server", "www", {S.CLOSE_WAIT: 2_900, S.ESTABLISHED: 430}),
        ),  # fmt: skip
        listeners=(Listener("0.0.0.0", 8080, 0, 4096, OWNER),),
        notes=(),
        close_wait_oldest_s=310.0,
        close_wait_aged=2_700,
        close_wait_unread=40,
    )


SOCKETS = [
    Socket(socket.AF_INET, S.TIME_WAIT, "10.4.0.5", 41_234, "10.4.14.24", 80, 3, 42_100, 0, 0, 0,
           0, 0, 0xBEEF01),
    Socket(socket.AF_INET, S.TIME_WAIT, "10.4.0.5", 41_236, "10.4.14.24", 80, 3, 12_500, 0, 0, 0,
           0, 0, 0xBEEF02),
    Socket(socket.AF_INET, S.ESTABLISHED, "10.4.0.5", 50_001, "10.4.14.24", 80, 0, 0, 0, 0, 0,
           33, 81_234, 0xBEEF03, False, OWNER),
    Socket(socket.AF_INET, S.CLOSE_WAIT, "10.4.0.5", 8080, "10.4.14.31", 51_000, 0, 0, 0, 1, 0,
           33, 81_300, 0xBEEF04, True, OWNER),
]  # fmt: skip


class FakeSource:
    """Returns the fixed snapshots in order; sockets() filters the fixed list with the real
    filter compiler (Python evaluation, the same semantics the kernel applies)."""

    def __init__(self) -> None:
        self.n = 0
        self.filter: str | None = None
        self.group = "ip"
        self.fail: str | None = None
        self.peer_calls: list[str] = []

    def poll(self) -> Snapshot:
        if self.fail:
            from twtop.errors import UnavailableError

            raise UnavailableError(self.fail)
        snap = make_snapshot(self.n, self.group, self.filter)
        self.n += 1
        return snap

    def sockets(self, filter: str | None = None, limit: int | None = None) -> list[Socket]:
        from twtop.filter import evaluate

        plan = compile_filter(filter)
        out = []
        for s in SOCKETS:
            fam = s.family
            raw_l = socket.inet_pton(fam, s.local).ljust(16, b"\0")
            raw_r = socket.inet_pton(fam, s.remote).ljust(16, b"\0")
            ok = plan.accepts_state(s.state)
            if ok and plan.node is not None:
                ok = evaluate(plan.node, fam, s.state, raw_l, s.lport, raw_r, s.rport)
            if ok and plan.bytecode:
                from twtop import bytecode as bc

                ok = bc.run(plan.bytecode, fam, raw_l, s.lport, raw_r, s.rport)
            if ok:
                out.append(s)
        return out[:limit] if limit else out

    def peer_sockets(self, row: PeerRow, limit: int | None = None) -> list[Socket]:
        """The fixed sockets of a peer group under the active filter (the engine's kernel filter
        of the group's key, run in Python)."""
        from twtop import bytecode as bc
        from twtop.keys import NO_OWNER, kernel_filter

        assert row.key is not None
        self.peer_calls.append(row.peer)
        kf = kernel_filter(row.key)
        out = []
        for s in self.sockets(self.filter):
            raw_l = socket.inet_pton(s.family, s.local).ljust(16, b"\0")
            raw_r = socket.inet_pton(s.family, s.remote).ljust(16, b"\0")
            pid = s.owner.pid if s.owner else NO_OWNER
            if (kf.mask & (1 << s.state)
                    and bc.run(kf.bytecode, s.family, raw_l, s.lport, raw_r, s.rport)
                    and kf.pid in (None, pid)):  # fmt: skip
                out.append(s)
        return out[:limit] if limit is not None else out

    def peer_page(self, row: PeerRow, query: Any, seen: Any, cancelled: Any = None) -> Any:
        """A page of the fixed sockets of a group, by the engine's paging over a list."""
        from twtop.pages import list_page

        return list_page(self.peer_sockets(row), query, seen, 1_000_000.0)

    def tcp_info(self, sock: Socket) -> None:
        """The fake has no tcp_info (as for a TIME_WAIT)."""
        return None

    def set_filter(self, expr: str | None) -> None:
        self.filter = expr

    def set_group(self, group: str) -> None:
        self.group = group

    def close(self) -> None:
        pass
