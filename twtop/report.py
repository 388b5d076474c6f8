"""Renderings of a Snapshot: the ``--once`` table and the JSON document (Prometheus: prom.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from twtop.knowledge import PORT_WORDS
from twtop.model import CLOSE_WAIT_AGED_S, GROUP_TITLES, Snapshot
from twtop.states import ALL_STATES, KEY_STATES, PEER_STATES, TcpState
from twtop.sysinfo import GLOBAL_SYSCTLS
from twtop.text import (
    duration,
    endpoint,
    hold,
    per_s,
    port_budget,
    port_demand,
    port_regime,
    port_state,
    port_state_short,
    port_who,
    tw_attribution,
    wrap,
)

if TYPE_CHECKING:
    from twtop.advisor import Finding

#: The sysctls the report prints, in this order.
REPORT_SYSCTLS = (
    "tcp_tw_reuse",
    "tcp_tw_reuse_delay",
    "tcp_timestamps",
    "tcp_fin_timeout",
    "tcp_max_tw_buckets",
    "ip_local_port_range",
    "ip_local_reserved_ports",
    "tcp_max_orphans",
    "somaxconn",
    "tcp_max_syn_backlog",
    "tcp_syncookies",
    "tcp_rfc1337",
    "tcp_tw_recycle",
)

#: Written where a value cannot be known (one sample, an unreadable file): never 0.
UNKNOWN = "unknown"


def document(
    snap: Snapshot, findings: Sequence[Finding] = (), top: int | None = None
) -> dict[str, Any]:
    """The JSON document (schema in the README) for every caller: --json, the TUI export, the
    exporter. Values that one sample cannot give (rates, CLOSE_WAIT ages) are null, never 0."""
    doc = snap.to_dict(top=top)
    one_sample = snap.interval_s is None
    doc["sample_s"] = None if one_sample else round(snap.interval_s or 0.0, 3)
    if one_sample:
        doc["rates"] = None
        doc["state_rates"] = None
    cw = doc["close_wait"]
    if one_sample:
        cw["oldest_s"] = None
    cw["aged"] = None if one_sample else snap.close_wait_aged
    doc["sysctl_global"] = sorted(GLOBAL_SYSCTLS)
    doc["findings"] = [f.to_dict() for f in findings]
    return doc


def _header(snap: Snapshot, w: Callable[[str], None]) -> None:
    ns = f" netns {snap.netns}" if snap.netns else ""
    w(f"twtop {snap.host}{ns}  kernel {snap.kernel}  collected in {snap.collect_ms:.1f} ms")
    if snap.filter:
        w(f"filter: {snap.filter}")
    sample = "one sample: rates unknown" if snap.interval_s is None else (
        f"rates over {snap.interval_s:.1f} s")  # fmt: skip
    w(f"TCP: {snap.total} (IPv4 {snap.ipv4}, IPv6 {snap.ipv6}); {sample}")
    w("")


def _states(snap: Snapshot, w: Callable[[str], None]) -> None:
    w("STATE          COUNT   CHANGE/s")
    for s in ALL_STATES:
        n = snap.count(s)
        if n or s in KEY_STATES:
            r = snap.state_rates.get(s)
            w(f"{s.name:<12} {n:>7}   {UNKNOWN if r is None else f'{r:+.1f}'}")
    churn = snap.churn
    line = f"new TIME_WAIT/s: {churn.tw_per_s_timers:.1f} (timers, last {churn.window_s:.0f}s)"
    if churn.tw_per_s_counter is not None:
        line += f", {churn.tw_per_s_counter:.1f} (TW counter)"
    w(line)
    if snap.tw_counted:
        w(wrap(tw_attribution(snap.tw_attributed, snap.tw_counted), 80))
    if snap.count(TcpState.CLOSE_WAIT):
        oldest = None if snap.interval_s is None else snap.close_wait_oldest_s
        aged = None if snap.interval_s is None else snap.close_wait_aged
        w(f"CLOSE_WAIT: oldest seen for {duration(oldest, UNKNOWN)}; "
          f"{UNKNOWN if aged is None else aged} seen >= {CLOSE_WAIT_AGED_S:.0f} s; "
          f"{snap.close_wait_unread} with unread data")  # fmt: skip
    w("")


def _peers(snap: Snapshot, top: int, w: Callable[[str], None]) -> None:
    title = GROUP_TITLES.get(snap.group, snap.group)
    w(f"TOP PEERS by {title} ({len(snap.peers[:top])} of {snap.peers_total})")
    w(f"{'PEER':<22} {'TOTAL':>7} {'ESTAB':>6} {'TIME_W':>7} {'CLOSE_W':>7} {'FIN_W2':>6} "
      f"{'OTHER':>5} {'IN':>6} {'OUT':>6}")  # fmt: skip
    for p in snap.peers[:top]:
        other = p.total - sum(p.count(s) for s in PEER_STATES)
        peer = p.peer if len(p.peer) <= 22 else p.peer[:21] + "…"
        estab, tw, cw, fw2 = (p.count(s) for s in PEER_STATES)
        w(f"{peer:<22} {p.total:>7} {estab:>6} {tw:>7} {cw:>7} {fw2:>6} {other:>5} "
          f"{p.inbound:>6} {p.outbound:>6}")  # fmt: skip
    w("")


def _ports(snap: Snapshot, top: int, w: Callable[[str], None]) -> None:
    ports = snap.ports
    w(f"EPHEMERAL PORTS {ports.low}-{ports.high}: {ports.available} available per "
      "(src, dst, dport)")  # fmt: skip
    w(f"  = {port_budget(ports)}")
    if not ports.tuples:
        w("no outbound connections")
        return
    w(f"{'SRC -> DST:DPORT':<31} {'USED':>6} {'BLOCK':>6} {'USE%':>6} {'NEW/s':>7} "
      f"{'HOLD':>5} STATE")  # fmt: skip
    for t in ports.tuples[:top]:
        name = f"{t.src} -> {t.dst}:{t.dport}"
        name = name if len(name) <= 31 else name[:30] + "…"
        # FULL: the TIME_WAIT rate is how fast ports free up, not the demand (said below)
        new = per_s(t.demand_per_s) if t.demand_known else PORT_WORDS["en"]["demand_unknown_cell"]
        w(f"{name:<31} {t.used:>6} {t.blocking:>6} {t.ratio * 100:>5.1f}% "
          f"{new:>7} {hold(t.regime.hold_s):>5} {port_state_short(t)}")  # fmt: skip
    worst = ports.tuples[0]
    w(wrap(f"{worst.src} -> {worst.dst}:{worst.dport}: {port_regime(worst.regime)}; "
           f"{port_state(worst)}; {port_demand(worst)}", 80))  # fmt: skip
    w(wrap(port_who(worst), 80))
    for v in ports.sources:
        if v.notable:
            w(wrap(f"bind() before connect() from {v.src}: {v.held} of {v.available} ports "
                   f"held across all destinations ({v.ratio * 100:.0f}%)", 80))  # fmt: skip


def _listeners(snap: Snapshot, top: int, w: Callable[[str], None]) -> None:
    if not snap.listeners:
        return
    w("")
    w(f"{'LISTENER':<28} {'QUEUED':>6} {'BACKLOG':>7} {'SYN_RECV':>8} {'UNACC_CW':>8}  PROCESS")
    for x in snap.listeners[:top]:
        syn = UNKNOWN if x.syn_recv is None else x.syn_recv
        cw = UNKNOWN if x.unaccepted_close_wait is None else x.unaccepted_close_wait
        owner = f"{x.owner.name}[{x.owner.pid}]" if x.owner else "-"
        w(f"{endpoint(x.local, x.lport):<28} {x.queued:>6} {x.backlog:>7} {syn:>8} {cw:>8}  "
          f"{owner}")  # fmt: skip


def _processes_and_sysctls(snap: Snapshot, top: int, w: Callable[[str], None]) -> None:
    if snap.processes:
        w("")
        w("PROCESSES (by CLOSE_WAIT, then sockets)")
        for pr in snap.processes[:top]:
            parts = ", ".join(f"{s.name} {n}" for s, n in sorted(pr.states.items()) if n)
            box = f"container {pr.container}" if pr.container else pr.unit  # where it runs
            where = f", {box}" if box else ""
            w(f"  {pr.name}[{pr.pid}] ({pr.user}{where}): {parts}")
    w("")
    w("SYSCTLS")
    for name in REPORT_SYSCTLS:
        value = snap.sysctl.get(name)
        text = "(absent)" if value is None else (value or "(empty)")
        w(f"  {name:<24} {text}{' (global)' if name in GLOBAL_SYSCTLS else ''}")


def render_table(snap: Snapshot, top: int = 10, findings: list[str] | None = None) -> str:
    """The ``twtop --once`` report (fits 80 columns)."""
    out: list[str] = []
    w = out.append
    _header(snap, w)
    _states(snap, w)
    _peers(snap, top, w)
    _ports(snap, top, w)
    _listeners(snap, top, w)
    _processes_and_sysctls(snap, top, w)
    if findings:
        w("")
        w("FINDINGS")
        out.extend(findings)
    if snap.notes:
        w("")
        for note in snap.notes:
            w(wrap(f"note: {note}", 80))
    return "\n".join(out) + "\n"
