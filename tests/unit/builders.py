"""Snapshots built by hand for the pure tests (no kernel, no root)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from twtop.model import Churn, Listener, Owner, PortTuple, PortUsage, Snapshot
from twtop.states import TcpState as S

SYSCTL = {
    "tcp_tw_reuse": "2",
    "tcp_tw_reuse_delay": "1000",
    "tcp_timestamps": "1",
    "tcp_fin_timeout": "60",
    "tcp_max_tw_buckets": "131072",
    "ip_local_port_range": "32768 60999",
    "ip_local_reserved_ports": "",
    "tcp_max_orphans": "131072",
    "somaxconn": "4096",
    "tcp_max_syn_backlog": "2048",
    "tcp_syncookies": "1",
    "tcp_rfc1337": "0",
    "tcp_tw_recycle": None,
}
COUNTERS = {
    "TW": 10,
    "TCPTimeWaitOverflow": 0,
    "ListenOverflows": 0,
    "ListenDrops": 0,
    "SyncookiesSent": 0,
    "TCPReqQFullDoCookies": 0,
    "TCPAbortOnMemory": 0,
    "sockstat_tw": 0,
    "sockstat_orphan": 0,
}
OWNER = Owner(4242, "api-server", "www")


def listener(
    queued: int = 0, backlog: int = 128, syn: int | None = 0, cw: int | None = 0, port: int = 8080
) -> Listener:
    """A listener on 0.0.0.0:port with its queues."""
    return Listener("0.0.0.0", port, queued, backlog, OWNER, syn, cw)


def snapshot(
    states: dict[S, int] | None = None,
    rates: dict[str, float] | None = None,
    sample: bool = True,
    **changes: Any,
) -> Snapshot:
    """A quiet host; ``states``, counter ``rates`` (over a 1 s sample) and any field changed."""
    states = dict(states or {S.ESTABLISHED: 10, S.LISTEN: 1})
    base = Snapshot(
        taken_at=1_790_000_000.0,
        host="h",
        kernel="6.18.0",
        netns=None,
        collect_ms=1.0,
        filter=None,
        group="ip",
        states=states,
        ipv4=sum(states.values()),
        ipv6=0,
        peers=(),
        peers_total=0,
        ports=PortUsage(32768, 60999, 0, (), 0, 0),
        churn=Churn(10.0, 0.0, 0.0 if sample else None, 0.0 if sample else None),
        sysctl=dict(SYSCTL),
        counters=dict(COUNTERS),
        rates={k: 0.0 for k in COUNTERS} | (rates or {}) if sample else {},
        state_rates={s: 0.0 for s in S} if sample else {},
        processes=(),
        listeners=(listener(),),
        notes=(),
        interval_s=1.0 if sample else None,
        close_wait_oldest_s=None,
        close_wait_aged=None,
    )
    return replace(base, **changes)


def port_tuple(used: int, tw: int, available: int = 28232, rate: float = 0.0) -> PortTuple:
    """One outbound tuple 10.0.0.1 -> 10.0.0.2:80."""
    return PortTuple("10.0.0.1", "10.0.0.2", 80, used, tw, available, rate)
