"""Prometheus metric families of a Snapshot, defined once for ``twtop export`` and the textfile.

Conventions (shared/conventions.md, Prometheus): a ``twtop_`` prefix, base units, ``_total`` only
on counters, lowercase state labels, no timestamps. Cardinality is bounded: peer IPs appear only in
the top-N port-tuple labels, processes only in the top-N CLOSE_WAIT labels, and each of these
families has an ``other`` series for the rest. A value twtop does not know is an absent series,
never a 0.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Iterable, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from twtop import __version__
from twtop.advisor import Finding
from twtop.model import PortTuple, Snapshot
from twtop.states import ALL_STATES, TcpState

#: Default number of labelled series in the top-N families (port tuples, CLOSE_WAIT processes).
DEFAULT_TOP = 10
#: Hard cap on that number, whatever ``--top`` says: a scrape stays small on any host.
MAX_TOP = 50
#: Listening sockets are labelled one by one up to this many (they are configuration, so their
#: count is bounded by what runs on the host); past it, the fullest queues are kept.
MAX_LISTENERS = 100
#: The advisor's "nothing fired" finding: not exported (an empty twtop_findings says it).
ALL_CLEAR = "all_clear"
#: The label value of the bucket that sums (or, for ratios, maxes) everything past the top N.
OTHER = "other"
#: CLOSE_WAITs whose owner twtop could not find (not yet accepted, another PID namespace, or the
#: first sighting before /proc is rescanned).
UNKNOWN_PROCESS = "unknown"

#: The TcpExt counters twtop reads (/proc/net/netstat, kernel-facts section 7) and what they count.
TCPEXT_HELP = {
    "TW": "TIME_WAIT minisockets created with a timeout above 4 s (TcpExt TW).",
    "TWKilled": "TIME_WAIT minisockets created with a timeout of 4 s or less (TcpExt TWKilled).",
    "TWRecycled": "TIME_WAITs taken over by connect() via tcp_tw_reuse (TcpExt TWRecycled).",
    "TCPTimeWaitOverflow": "TIME_WAITs not created because tcp_max_tw_buckets was reached "
    "(TcpExt TCPTimeWaitOverflow).",
    "TCPAbortOnClose": "Connections reset by close() with unread data (TcpExt TCPAbortOnClose).",
    "TCPAbortOnData": "Connections reset on data after close or by SO_LINGER 0 "
    "(TcpExt TCPAbortOnData).",
    "TCPAbortOnLinger": "Connections reset when the linger timeout ran out "
    "(TcpExt TCPAbortOnLinger).",
    "TCPAbortOnMemory": "Orphans reset for lack of memory or too many orphans "
    "(TcpExt TCPAbortOnMemory).",
    "ListenOverflows": "Connections dropped because an accept queue was full "
    "(TcpExt ListenOverflows).",
    "ListenDrops": "All connections dropped by listeners, overflows included (TcpExt ListenDrops).",
}


def counter_name(kernel_name: str) -> str:
    """``TCPTimeWaitOverflow`` -> ``twtop_tcpext_tcp_time_wait_overflow`` (``_total`` is added
    by the exposition)."""
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", kernel_name)
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words)
    return f"twtop_tcpext_{words.lower()}"


def _top_tuples(tuples: Sequence[PortTuple], top: int) -> tuple[list[PortTuple], list[PortTuple]]:
    ranked = sorted(tuples, key=lambda t: (-t.ratio, -t.demand_per_s, t.src, t.dst, t.dport))
    return ranked[:top], ranked[top:]


def _seconds_to_full(t: PortTuple) -> float:
    """0 when FULL, the port model's time to full when FILLING, +Inf when STEADY."""
    eta = t.seconds_to_full
    return float("inf") if eta is None else eta


def tuple_families(snap: Snapshot, top: int) -> list[Metric]:
    """Port-tuple headroom: the worst ``top`` tuples by label, the rest in one ``other`` series."""
    ports = snap.ports
    # Tuples are unique by (src, dst, dport) in the Snapshot; merge anyway so a duplicate label
    # set can never reach the exposition.
    merged: dict[tuple[str, str, int], PortTuple] = {}
    for t in ports.tuples:
        key = (t.src, t.dst, t.dport)
        prev = merged.get(key)
        merged[key] = t if prev is None else _sum_tuples(prev, t)
    shown, rest = _top_tuples(list(merged.values()), top)
    labels = ["src", "dst", "dport"]
    ratio = GaugeMetricFamily(
        "twtop_port_tuple_blocking_ratio",
        "Ports blocked towards one (src, dst, dport) tuple -- live sockets and the TIME_WAITs "
        "connect() cannot take over (all of them without tcp_tw_reuse, else those younger than "
        "tcp_tw_reuse_delay) -- over the ports connect() may use. The other series is the "
        "highest ratio of the remaining tuples.",
        labels=labels,
    )
    full = GaugeMetricFamily(
        "twtop_port_tuple_seconds_to_full",
        "Seconds until the tuple is full at the current demand (smoothed); 0 when full now; +Inf "
        "when the demand is sustainable. The other series is the lowest value of the rest.",
        labels=labels,
    )
    is_full = GaugeMetricFamily(
        "twtop_port_tuple_full",
        "1 when a new connect() to the tuple fails now with EADDRNOTAVAIL (98% or more of its "
        "ports blocked, held until it has been below for 3 polls). The other series is 1 when "
        "any of the remaining tuples is full.",
        labels=labels,
    )
    for t in shown:
        values = [t.src, t.dst, str(t.dport)]
        ratio.add_metric(values, t.ratio)
        full.add_metric(values, _seconds_to_full(t))
        is_full.add_metric(values, float(t.full))
    if rest:
        ratio.add_metric([OTHER] * 3, max(t.ratio for t in rest))
        full.add_metric([OTHER] * 3, min(_seconds_to_full(t) for t in rest))
        is_full.add_metric([OTHER] * 3, float(any(t.full for t in rest)))
    return [
        ratio,
        full,
        is_full,
        *_attributed_families(snap, shown, rest),
        *_budget_families(snap, top),
    ]


def _attributed_families(
    snap: Snapshot, shown: list[PortTuple], rest: list[PortTuple]
) -> list[Metric]:
    """TIME_WAITs attributed to the process that made them (twtop saw their sockets live), per
    shown tuple and overall: counts only, so no process label can grow the series count."""
    labels = ["src", "dst", "dport"]
    per = GaugeMetricFamily(
        "twtop_port_tuple_time_wait_attributed",
        "TIME_WAITs of the tuple whose maker twtop saw live (found by socket cookie); the rest "
        "closed before twtop started or were made by a process it cannot see. The other series "
        "sums the remaining tuples.",
        labels=labels,
    )
    tw = GaugeMetricFamily(
        "twtop_port_tuple_time_wait",
        "TIME_WAITs of the tuple (outbound). The other series sums the remaining tuples.",
        labels=labels,
    )
    for t in shown:
        per.add_metric([t.src, t.dst, str(t.dport)], t.tw_attributed)
        tw.add_metric([t.src, t.dst, str(t.dport)], t.time_wait)
    if rest:
        per.add_metric([OTHER] * 3, sum(t.tw_attributed for t in rest))
        tw.add_metric([OTHER] * 3, sum(t.time_wait for t in rest))
    total = GaugeMetricFamily(
        "twtop_time_wait_attributed",
        "TIME_WAITs (either direction) attributed to the process that made them, of all the "
        "TIME_WAITs the same detail poll counted.",
        value=snap.tw_attributed,
    )
    return [per, tw, total]


def _budget_families(snap: Snapshot, top: int) -> list[Metric]:
    """How many tuples, the per-tuple port budget, bound ports, and the per-source view."""
    ports = snap.ports
    count = GaugeMetricFamily(
        "twtop_port_tuples",
        "Outbound (src, dst, dport) tuples holding ephemeral ports.",
        value=ports.tuples_total,
    )
    available = GaugeMetricFamily(
        "twtop_ephemeral_ports_available",
        "Ports connect() may use per (src, dst, dport) tuple: ip_local_port_range minus "
        "ip_local_reserved_ports minus the ports in the range held by bind()-ed sockets.",
        value=ports.available,
    )
    families: list[Metric] = [count, available]
    if ports.bound is not None:
        families.append(
            GaugeMetricFamily(
                "twtop_ephemeral_ports_bound",
                "Ports of ip_local_port_range held by listeners and bound sockets: connect() "
                "skips them for every destination.",
                value=ports.bound,
            )
        )
    held = GaugeMetricFamily(
        "twtop_port_source_held_ratio",
        "Ports of the range held from one source IP across all destinations, over the range "
        "minus reserved: the limit of clients that bind() before connect() (EADDRINUSE); only "
        "sources where it is tighter than their tuples (top N).",
        labels=["src"],
    )
    for v in ports.sources[:top]:
        held.add_metric([v.src], v.ratio)
    return [*families, held]


def _sum_tuples(a: PortTuple, b: PortTuple) -> PortTuple:
    """Two tuples of one label set as one (judged again from the sums, as one sample)."""
    return PortTuple(
        a.src, a.dst, a.dport, a.used + b.used, a.time_wait + b.time_wait, a.available,
        a.tw_per_s + b.tw_per_s, tw_young=a.tw_young + b.tw_young, regime=a.regime,
        demand_per_s=a.demand_per_s + b.demand_per_s,
        tw_attributed=a.tw_attributed + b.tw_attributed,
    )  # fmt: skip


def close_wait_families(snap: Snapshot, top: int) -> list[Metric]:
    """CLOSE_WAIT by process name (top N, ``other``, ``unknown``) and the oldest one's age."""
    by_name: dict[str, int] = {}
    for p in snap.processes:
        n = p.states.get(TcpState.CLOSE_WAIT, 0)
        if n:
            by_name[p.name] = by_name.get(p.name, 0) + n
    ranked = sorted(by_name.items(), key=lambda kv: (-kv[1], kv[0]))
    series: dict[str, int] = {}
    for name, n in ranked[:top]:
        series[name] = series.get(name, 0) + n
    # A process literally named "other" or "unknown" shares the bucket's series rather than
    # duplicating it: a duplicate series would fail the whole scrape.
    rest = sum(n for _name, n in ranked[top:])
    if rest:
        series[OTHER] = series.get(OTHER, 0) + rest
    unowned = snap.count(TcpState.CLOSE_WAIT) - sum(by_name.values())
    if unowned > 0:
        series[UNKNOWN_PROCESS] = series.get(UNKNOWN_PROCESS, 0) + unowned
    cw = GaugeMetricFamily(
        "twtop_close_wait_sockets",
        "CLOSE_WAIT sockets by owning process name (top N); other = the remaining processes, "
        "unknown = no owner found (not yet accepted, or another PID namespace).",
        labels=["process"],
    )
    for name, n in series.items():
        cw.add_metric([name], n)
    out: list[Metric] = [cw]
    oldest = GaugeMetricFamily(
        "twtop_close_wait_oldest_seconds",
        "Age of the oldest CLOSE_WAIT since twtop first saw it (by socket cookie, so a lower "
        "bound); absent when there is none or on twtop's first collection.",
    )
    # On the first collection every CLOSE_WAIT is a first sighting: its age is unknown, not 0.
    if snap.close_wait_oldest_s is not None and snap.interval_s is not None:
        oldest.add_metric([], snap.close_wait_oldest_s)
    out.append(oldest)
    return out


def listener_families(snap: Snapshot) -> list[Metric]:
    """Accept queue and its limit per listening address and port (SO_REUSEPORT groups summed)."""
    queued: dict[tuple[str, str], int] = {}
    backlog: dict[tuple[str, str], int] = {}
    for x in snap.listeners:
        key = (x.local, str(x.lport))
        queued[key] = queued.get(key, 0) + x.queued
        backlog[key] = backlog.get(key, 0) + x.backlog
    keys = sorted(queued, key=lambda k: (-queued[k], int(k[1]), k[0]))
    shown, rest = keys[:MAX_LISTENERS], keys[MAX_LISTENERS:]
    labels = ["local", "port"]
    q = GaugeMetricFamily(
        "twtop_listen_queue",
        "Connections waiting in the accept queue of a listening address and port "
        "(SO_REUSEPORT sockets summed).",
        labels=labels,
    )
    b = GaugeMetricFamily(
        "twtop_listen_backlog",
        "Accept queue limit, min(listen() backlog, somaxconn), of a listening address and port "
        "(SO_REUSEPORT sockets summed).",
        labels=labels,
    )
    for k in shown:
        q.add_metric(list(k), queued[k])
        b.add_metric(list(k), backlog[k])
    if rest:
        q.add_metric([OTHER, OTHER], sum(queued[k] for k in rest))
        b.add_metric([OTHER, OTHER], sum(backlog[k] for k in rest))
    return [q, b]


def counter_families(snap: Snapshot) -> list[Metric]:
    """The TcpExt counters twtop reads, as Prometheus counters (absent when unreadable)."""
    out: list[Metric] = []
    for kernel_name, help_ in TCPEXT_HELP.items():
        value = snap.counters.get(kernel_name)
        if value is not None:
            out.append(CounterMetricFamily(counter_name(kernel_name), help_, value=value))
    return out


def finding_families(findings: Iterable[Finding]) -> list[Metric]:
    """One series per current finding of the advisor (``twtop explain`` tells the rest)."""
    counts: dict[tuple[str, str], int] = {}
    for f in findings:
        if f.id == ALL_CLEAR:  # no series at all says that
            continue
        key = (f.id, str(f.severity))
        counts[key] = counts.get(key, 0) + 1
    fam = GaugeMetricFamily(
        "twtop_findings",
        "Findings of twtop's advisor now present (1 each); see twtop --once for evidence and "
        "what to do.",
        labels=["id", "severity"],
    )
    for (fid, sev), n in sorted(counts.items()):
        fam.add_metric([fid, sev], n)
    return [fam]


def build_info() -> Metric:
    """``twtop_build_info{version, python}`` 1."""
    fam = GaugeMetricFamily(
        "twtop_build_info", "twtop's version and Python's, as labels.", labels=["version", "python"]
    )
    fam.add_metric([__version__, platform.python_version()], 1)
    return fam


def snapshot_families(
    snap: Snapshot, findings: Iterable[Finding] = (), top: int = DEFAULT_TOP
) -> list[Metric]:
    """Every family a Snapshot gives: the same for ``twtop export`` and the textfile."""
    top = max(1, min(top, MAX_TOP))
    states = GaugeMetricFamily(
        "twtop_tcp_sockets", "TCP sockets by state (all 11, zeros included).", labels=["state"]
    )
    for s in ALL_STATES:
        states.add_metric([s.name.lower()], snap.count(s))
    churn = GaugeMetricFamily(
        "twtop_time_wait_new_per_second",
        "New TIME_WAITs per second, from the TIME_WAIT timers of the last "
        f"{snap.churn.window_s:g} s (needs no history).",
        value=snap.churn.tw_per_s_timers,
    )
    duration = GaugeMetricFamily(
        "twtop_collect_duration_seconds",
        "Time the collection of this data took.",
        value=snap.collect_ms / 1000,
    )
    return [
        states,
        *tuple_families(snap, top),
        churn,
        *close_wait_families(snap, top),
        *listener_families(snap),
        *counter_families(snap),
        *finding_families(findings),
        duration,
        build_info(),
    ]


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def render(families: list[Metric]) -> bytes:
    """The text exposition format (the textfile collector's) of these families."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry)


def render_snapshot(
    snap: Snapshot, findings: Iterable[Finding] = (), top: int = DEFAULT_TOP
) -> bytes:
    """The textfile of a Snapshot: ``twtop --once --format prom``."""
    return render(snapshot_families(snap, findings, top))


__all__ = [
    "DEFAULT_TOP",
    "MAX_TOP",
    "OTHER",
    "counter_name",
    "render",
    "render_snapshot",
    "snapshot_families",
]
