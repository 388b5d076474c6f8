"""Plain-text renderings of a Snapshot: the ``--once`` report (Prometheus: twtop.prom)."""

from __future__ import annotations

from twtop.model import GROUP_TITLES, Snapshot
from twtop.states import ALL_STATES, TcpState

#: The columns the report shows for peers, in this order; other states are summed into "other".
PEER_STATES = (
    TcpState.ESTABLISHED,
    TcpState.TIME_WAIT,
    TcpState.CLOSE_WAIT,
    TcpState.FIN_WAIT2,
)

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


def human_duration(seconds: float | None) -> str:
    """``42s``, ``3m10s``, ``2h05m``; ``-`` for None."""
    if seconds is None:
        return "-"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def render_table(snap: Snapshot, top: int = 10, findings: list[str] | None = None) -> str:
    """The ``twtop --once`` report (fits 80 columns)."""
    out: list[str] = []
    w = out.append
    ns = f" netns {snap.netns}" if snap.netns else ""
    w(f"twtop {snap.host}{ns}  kernel {snap.kernel}  collected in {snap.collect_ms:.1f} ms")
    if snap.filter:
        w(f"filter: {snap.filter}")
    w(f"TCP: {snap.total} (IPv4 {snap.ipv4}, IPv6 {snap.ipv6})")
    w("")
    w("STATE          COUNT   CHANGE/s")
    for s in ALL_STATES:
        n = snap.count(s)
        if n or s in PEER_STATES or s is TcpState.SYN_RECV:
            rate = snap.state_rates.get(s)
            w(f"{s.name:<12} {n:>7}   {'' if rate is None else f'{rate:+.1f}'}")
    churn = snap.churn
    line = f"new TIME_WAIT/s: {churn.tw_per_s_timers:.1f} (timers, last {churn.window_s:.0f}s)"
    if churn.tw_per_s_counter is not None:
        line += f", {churn.tw_per_s_counter:.1f} (TW counter)"
    w(line)
    w("")
    title = GROUP_TITLES.get(snap.group, snap.group)
    w(f"TOP PEERS by {title} ({len(snap.peers[:top])} of {snap.peers_total})")
    w(f"{'PEER':<22} {'TOTAL':>7} {'ESTAB':>6} {'TIME_W':>7} {'CLOSE_W':>7} {'FIN_W2':>6} "
      f"{'OTHER':>5} {'IN':>6} {'OUT':>6}")  # fmt: skip
    for p in snap.peers[:top]:
        other = p.total - sum(p.count(s) for s in PEER_STATES)
        peer = p.peer if len(p.peer) <= 22 else p.peer[:21] + "…"
        estab, tw = p.count(TcpState.ESTABLISHED), p.count(TcpState.TIME_WAIT)
        cw, fw2 = p.count(TcpState.CLOSE_WAIT), p.count(TcpState.FIN_WAIT2)
        w(f"{peer:<22} {p.total:>7} {estab:>6} {tw:>7} {cw:>7} {fw2:>6} {other:>5} "
          f"{p.inbound:>6} {p.outbound:>6}")  # fmt: skip
    w("")
    ports = snap.ports
    w(f"EPHEMERAL PORTS {ports.low}-{ports.high}: {ports.available} available per "
      f"(src, dst, dport) ({ports.reserved} reserved)")  # fmt: skip
    if ports.tuples:
        w(f"{'SRC -> DST:DPORT':<36} {'USED':>6} {'TW':>6} {'USE%':>6} {'TW/s':>7} {'FULL IN':>11}")
        for t in ports.tuples[:top]:
            name = f"{t.src} -> {t.dst}:{t.dport}"
            name = name if len(name) <= 36 else name[:35] + "…"
            eta = t.seconds_to_exhaustion
            eta_txt = "now" if eta == 0 else ("not at risk" if eta is None else human_duration(eta))
            w(f"{name:<36} {t.used:>6} {t.time_wait:>6} {t.ratio * 100:>5.1f}% "
              f"{t.tw_per_s:>7.1f} {eta_txt:>11}")  # fmt: skip
    else:
        w("no outbound connections")
    if snap.processes:
        w("")
        w("PROCESSES (by CLOSE_WAIT, then sockets)")
        for pr in snap.processes[:top]:
            parts = ", ".join(f"{s.name} {n}" for s, n in sorted(pr.states.items()) if n)
            w(f"  {pr.name}[{pr.pid}] ({pr.user}): {parts}")
    w("")
    w("SYSCTLS")
    for name in REPORT_SYSCTLS:
        value = snap.sysctl.get(name)
        w(f"  {name:<24} {'(absent)' if value is None else (value or '(empty)')}")
    if findings:
        w("")
        w("FINDINGS")
        out.extend(findings)
    if snap.notes:
        w("")
        for note in snap.notes:
            w(f"note: {note}")
    return "\n".join(out) + "\n"
