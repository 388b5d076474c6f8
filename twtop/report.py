"""Renderings of a Snapshot: the ``--once`` table and the JSON document (Prometheus: prom.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from twtop.knowledge import PORT_WORDS, UI_LABELS
from twtop.knowledge_ui import REPORT_WORDS
from twtop.model import CLOSE_WAIT_AGED_S, GROUP_TITLES, Snapshot
from twtop.states import ALL_STATES, KEY_STATES, PEER_STATES, TcpState
from twtop.sysinfo import GLOBAL_SYSCTLS
from twtop.text import (
    cols,
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


def _ljust(text: str, width: int) -> str:
    return text + " " * max(0, width - cols(text))


def _rjust(text: str, width: int) -> str:
    return " " * max(0, width - cols(text)) + text


def _header(snap: Snapshot, w: Callable[[str], None], r: dict[str, str]) -> None:
    ns = r["ns"].format(ns=snap.netns) if snap.netns else ""
    w(r["header"].format(host=snap.host, ns=ns, kernel=snap.kernel, ms=f"{snap.collect_ms:.1f}"))
    if snap.filter:
        w(r["filter"].format(f=snap.filter))
    sample = r["one_sample"] if snap.interval_s is None else (
        r["rates_over"].format(s=f"{snap.interval_s:.1f}"))  # fmt: skip
    w(r["tcp"].format(total=snap.total, v4=snap.ipv4, v6=snap.ipv6, sample=sample))
    w("")


def _states(snap: Snapshot, w: Callable[[str], None], r: dict[str, str], lang: str) -> None:
    unknown = r["unknown"]
    w(f"{_ljust(r['h_state'], 12)} {_rjust(r['h_count'], 7)}   {r['h_change']}")
    for s in ALL_STATES:
        n = snap.count(s)
        if n or s in KEY_STATES:
            rt = snap.state_rates.get(s)
            w(f"{s.name:<12} {n:>7}   {unknown if rt is None else f'{rt:+.1f}'}")
    churn = snap.churn
    line = r["churn"].format(rate=f"{churn.tw_per_s_timers:.1f}", window=f"{churn.window_s:.0f}")
    if churn.tw_per_s_counter is not None:
        line += r["churn_counter"].format(rate=f"{churn.tw_per_s_counter:.1f}")
    w(line)
    if snap.tw_counted:
        w(wrap(tw_attribution(snap.tw_attributed, snap.tw_counted, lang), 80))
    if snap.count(TcpState.CLOSE_WAIT):
        oldest = None if snap.interval_s is None else snap.close_wait_oldest_s
        aged = None if snap.interval_s is None else snap.close_wait_aged
        w(r["cw_line"].format(oldest=duration(oldest, unknown, lang),
                              aged=unknown if aged is None else aged,
                              aged_s=f"{CLOSE_WAIT_AGED_S:.0f}",
                              unread=snap.close_wait_unread))  # fmt: skip
    w("")


def _peers(snap: Snapshot, top: int, w: Callable[[str], None], r: dict[str, str],
           lang: str) -> None:  # fmt: skip
    title = UI_LABELS[lang].get(f"group_{snap.group}", GROUP_TITLES.get(snap.group, snap.group))
    w(r["peers"].format(group=title, n=len(snap.peers[:top]), total=snap.peers_total))
    w(f"{_ljust(r['h_peer'], 22)} {_rjust(r['h_total'], 7)} {'ESTAB':>6} {'TIME_W':>7} "
      f"{'CLOSE_W':>7} {'FIN_W2':>6} {_rjust(r['h_other'], 5)} {_rjust(r['h_in'], 6)} "
      f"{_rjust(r['h_out'], 6)}")  # fmt: skip
    for p in snap.peers[:top]:
        other = p.total - sum(p.count(s) for s in PEER_STATES)
        peer = p.peer if len(p.peer) <= 22 else p.peer[:21] + "…"
        estab, tw, cw, fw2 = (p.count(s) for s in PEER_STATES)
        w(f"{peer:<22} {p.total:>7} {estab:>6} {tw:>7} {cw:>7} {fw2:>6} {other:>5} "
          f"{p.inbound:>6} {p.outbound:>6}")  # fmt: skip
    w("")


def _ports(snap: Snapshot, top: int, w: Callable[[str], None], r: dict[str, str],
           lang: str) -> None:  # fmt: skip
    ports = snap.ports
    w(r["ports"].format(low=ports.low, high=ports.high, n=ports.available))
    w(f"  = {port_budget(ports, lang)}")
    if not ports.tuples:
        w(r["no_outbound"])
        return
    w(f"{_ljust(r['h_tuple'], 31)} {_rjust(r['h_used'], 6)} {_rjust(r['h_block'], 6)} "
      f"{_rjust(r['h_use'], 6)} {_rjust(r['h_new'], 7)} {_rjust(r['h_hold'], 5)} "
      f"{r['h_tstate']}")  # fmt: skip
    for t in ports.tuples[:top]:
        name = f"{t.src} -> {t.dst}:{t.dport}"
        name = name if len(name) <= 31 else name[:30] + "…"
        # FULL: the TIME_WAIT rate is how fast ports free up, not the demand (said below)
        new = per_s(t.demand_per_s) if t.demand_known else PORT_WORDS[lang]["demand_unknown_cell"]
        w(f"{name:<31} {t.used:>6} {t.blocking:>6} {t.ratio * 100:>5.1f}% "
          f"{_rjust(new, 7)} {_rjust(hold(t.regime.hold_s, lang), 5)} "
          f"{port_state_short(t, lang)}")  # fmt: skip
    worst = ports.tuples[0]
    w(wrap(f"{worst.src} -> {worst.dst}:{worst.dport}: {port_regime(worst.regime, lang)}; "
           f"{port_state(worst, lang)}; {port_demand(worst, lang)}", 80))  # fmt: skip
    w(wrap(port_who(worst, lang), 80))
    for v in ports.sources:
        if v.notable:
            w(wrap(r["bind_line"].format(src=v.src, held=v.held, available=v.available,
                                         pct=f"{v.ratio * 100:.0f}"), 80))  # fmt: skip


def _listeners(snap: Snapshot, top: int, w: Callable[[str], None], r: dict[str, str]) -> None:
    """The listeners table, 80 columns: the address column as wide as its longest (at most 28);
    an owner that does not fit goes on a line of its own under its listener."""
    if not snap.listeners:
        return
    unknown = r["unknown"]
    shown = snap.listeners[:top]
    where = [endpoint(x.local, x.lport) for x in shown]
    width = min(28, max(cols(r["h_listener"]), *map(cols, where)))
    w("")
    w(f"{_ljust(r['h_listener'], width)} {_rjust(r['h_queued'], 6)} {_rjust(r['h_backlog'], 7)} "
      f"{'SYN_RECV':>8} {_rjust(r['h_unacc'], 8)} {_rjust(r['h_tw_in'], 7)}  "
      f"{r['h_process']}")  # fmt: skip
    for x, at in zip(shown, where, strict=True):
        syn = unknown if x.syn_recv is None else x.syn_recv
        cw = unknown if x.unaccepted_close_wait is None else x.unaccepted_close_wait
        tw = unknown if x.tw_on_port is None else x.tw_on_port
        owner = f"{x.owner.name}[{x.owner.pid}]" if x.owner else "-"
        line = (f"{_ljust(at, width)} {x.queued:>6} {x.backlog:>7} "
                f"{_rjust(str(syn), 8)} {_rjust(str(cw), 8)} {_rjust(str(tw), 7)}")  # fmt: skip
        if cols(line) + 2 + cols(owner) <= 80:
            w(f"{line}  {owner}")
        else:
            w(line)
            w(f"{'':4}{owner}")


def _processes_and_sysctls(snap: Snapshot, top: int, w: Callable[[str], None],
                           r: dict[str, str]) -> None:  # fmt: skip
    if snap.processes:
        w("")
        w(r["processes"])
        for pr in snap.processes[:top]:
            parts = ", ".join(f"{s.name} {n}" for s, n in sorted(pr.states.items()) if n)
            box = r["container"].format(id=pr.container) if pr.container else pr.unit
            where = f", {box}" if box else ""
            w(f"  {pr.name}[{pr.pid}] ({pr.user}{where}): {parts}")
    w("")
    w(r["sysctls"])
    for name in REPORT_SYSCTLS:
        value = snap.sysctl.get(name)
        text = r["absent"] if value is None else (value or r["empty"])
        w(f"  {name:<24} {text}{r['global'] if name in GLOBAL_SYSCTLS else ''}")


def render_table(
    snap: Snapshot,
    top: int = 10,
    findings: list[str] | None = None,
    lang: str = "en",
    hint: str | None = None,
) -> str:
    """The ``twtop --once`` report (fits 80 columns); ``hint`` says why a filter matched
    nothing (twtop.hints)."""
    r = REPORT_WORDS[lang]
    out: list[str] = []
    w = out.append
    _header(snap, w, r)
    if hint:
        out[-1:-1] = [wrap(hint, 80)]
    _states(snap, w, r, lang)
    _peers(snap, top, w, r, lang)
    _ports(snap, top, w, r, lang)
    _listeners(snap, top, w, r)
    _processes_and_sysctls(snap, top, w, r)
    if findings:
        w("")
        w(r["findings"])
        out.extend(findings)
    if snap.notes:
        w("")
        for note in snap.notes:
            w(wrap(r["note"].format(note=note), 80))
    return "\n".join(out) + "\n"
