"""The advisor: findings computed from a Snapshot, each with evidence and what to do.

Every rule is a small pure function of (Snapshot, Context) that returns a Finding or None; RULES
lists them and ``advise`` runs them all. Thresholds are named constants with the reason for their
value; every claim follows kernel-facts.md. Findings never change the system: their actions are
commands for a person to consider. A value twtop cannot know is written "unknown", never 0.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from twtop.knowledge import (
    FINDINGS,
    LABELS,
    OWNER_REASONS,
    PHRASES,
    SEVERITY_WORDS,
    VALUE_WORDS,
)
from twtop.knowledge_screen import SCREEN_WORDS
from twtop.model import CLOSE_WAIT_AGED_S, Listener, PortTuple, Snapshot
from twtop.ports import TupleState
from twtop.states import TcpState as S
from twtop.text import (
    endpoint,
    per_s,
    port_budget,
    port_demand,
    port_regime,
    port_state,
    port_who,
    wrap,
)

#: CLOSE_WAIT count that is never a transient: a healthy application closes within milliseconds,
#: so even a busy server shows a handful at a time.
CLOSE_WAIT_WARN = 50
#: ...and the count that means a serious leak.
CLOSE_WAIT_CRIT = 1000
#: CLOSE_WAITs in one listener's accept queue that mean nobody accepts: an accept loop drains the
#: queue in microseconds, so a peer rarely manages to close before its connection is accepted.
ACCEPT_STOPPED_MIN = 5
#: Port-tuple use that deserves attention (FULL itself is the port model's: ports.FULL_RATIO).
PORT_RATIO_WARN = 0.5
#: Seconds to exhaustion under which the tuple is critical whatever its ratio (5 minutes: less
#: than a typical incident response).
PORT_ETA_CRIT_S = 300.0
#: Inbound TIME_WAITs worth pointing out (memory ~256 B each; 10k is ~2.5 MB, kernel-facts 10).
SERVER_TW_INFO = 10_000
#: Listening ports tw_server_side names one by one (with their inbound TIME_WAITs and owner).
PORTS_NAMED = 3
#: Outbound TIME_WAIT towards non-loopback destinations above which tcp_tw_reuse matters.
TW_REUSE_INFO = 5_000
#: An ephemeral range narrower than this is called narrow (the default has 28232 ports).
NARROW_RANGE = 16_384
#: Fraction of tcp_max_orphans at which orphans are reported: the kernel may start resetting
#: orphans at 1/4 of the limit (tcp_out_of_resources doubles an orphan's weight twice).
ORPHANS_WARN = 0.25
#: FIN_WAIT2 count that is a pile rather than a transient.
FIN_WAIT2_WARN = 1_000
#: SYN_RECV on one listener worth a look (fewer are a handshake in flight), and the share of its
#: backlog at which the SYN queue is filling up (full = more than the backlog, then cookies).
SYN_RECV_MIN = 16
SYN_QUEUE_WARN = 0.5
#: Memory of one TIME_WAIT minisocket (tw_sock_TCP slab object, kernel-facts 10).
TW_SOCK_BYTES = 256


class Severity(enum.StrEnum):
    """How urgent a finding is; ``rank`` orders them (critical first in a report)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 info, 1 warning, 2 critical."""
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(frozen=True, slots=True)
class Context:
    """What the advisor knows besides the snapshot: the language and how owners were looked up.

    ``owners``: "fresh" when /proc was scanned after the sockets were seen (an unknown owner is
    then in another PID namespace), "pending" when they are newer than the last scan, "stale"
    when that cannot be told.
    """

    lang: str = "en"
    root: bool = True
    owners: str = "stale"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the advisor noticed."""

    id: str
    severity: Severity
    title: str
    evidence: str
    why: str
    action: str
    lang: str = "en"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (under ``findings``)."""
        return {
            "id": self.id,
            "severity": str(self.severity),
            "title": self.title,
            "evidence": self.evidence,
            "why": self.why,
            "action": self.action,
        }

    def render_lines(self) -> list[str]:
        """The --once report lines."""
        words = LABELS[self.lang]
        sev = SEVERITY_WORDS[self.lang][self.severity]
        out = [f"[{sev}] {self.title}"]
        for key, text in (("evidence", self.evidence), ("why", self.why), ("action", self.action)):
            line = f"{words[key]}{PHRASES[self.lang]['colon']}{text}"
            out += [f"    {part}" for part in wrap(line, 74).split("\n")]
        return out


Rule = Callable[[Snapshot, Context], Finding | None]


# -- helpers shared by the rules ---------------------------------------------------------------
def _make(fid: str, severity: Severity, ctx: Context, **values: Any) -> Finding:
    tpl = FINDINGS[ctx.lang][fid]
    parts = {key: tpl[key].format(**values) for key in ("title", "evidence", "why", "action")}
    return Finding(id=fid, severity=severity, lang=ctx.lang, **parts)


def _word(ctx: Context, key: str, **values: Any) -> str:
    return VALUE_WORDS[ctx.lang][key].format(**values)


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").split()[0])
    except (ValueError, IndexError):
        return None


def rate(snap: Snapshot, counter: str) -> float | None:
    """A counter's per-second rate, or None when it cannot be known (one sample, or the counter
    could not be read)."""
    if snap.interval_s is None or counter not in snap.counters:
        return None
    return snap.rates.get(counter, 0.0)


def _per_s(ctx: Context, value: float | None) -> str:
    return per_s(value, _word(ctx, "unknown"))


def _positive(value: float | None) -> bool:
    return value is not None and value > 0


def owner_reason(ctx: Context) -> str:
    """Why no owner is known, in words: the true reason, never "?"."""
    if not ctx.root:
        key = "not_root"
    else:
        key = {"fresh": "pid_namespace", "pending": "not_looked_up"}.get(ctx.owners, "stale_or_ns")
    return OWNER_REASONS[ctx.lang][key]


def _where(x: Listener) -> str:
    return endpoint(x.local, x.lport)


def _listener_owner(x: Listener, ctx: Context) -> str:
    return f"{x.owner.name}[{x.owner.pid}]" if x.owner else owner_reason(ctx)


def _queue_full(x: Listener) -> bool:
    """The accept queue is full when it holds more than the backlog (sk_acceptq_is_full)."""
    return x.queued > x.backlog


def _accept_stopped(x: Listener) -> bool:
    return (x.unaccepted_close_wait or 0) >= ACCEPT_STOPPED_MIN


def _is_loopback(addr: str) -> bool:
    return addr.startswith("127.") or addr == "::1"


# -- the rules ---------------------------------------------------------------------------------
def close_wait_leak(snap: Snapshot, ctx: Context) -> Finding | None:
    """CLOSE_WAITs the application holds and never closes (not those still in an accept queue)."""
    queued = sum(x.unaccepted_close_wait or 0 for x in snap.listeners)
    cw = max(0, snap.count(S.CLOSE_WAIT) - queued)
    aged = snap.close_wait_aged
    if cw < CLOSE_WAIT_WARN and (aged or 0) < CLOSE_WAIT_WARN:
        return None
    critical = cw >= CLOSE_WAIT_CRIT or (aged or 0) >= CLOSE_WAIT_WARN
    top = next((p for p in snap.processes if p.states.get(S.CLOSE_WAIT)), None)
    if top:
        owner = f"{top.name}[{top.pid}]"
        ownership = _word(ctx, "owned_by", owned=top.states[S.CLOSE_WAIT], owner=owner)
    else:  # a noun phrase with the reason, never "?" nor "0 owned by <reason>"
        ownership = owner_reason(ctx)
        owner = _word(ctx, "unknown_holder", reason=ownership)
    values = dict(count=cw, ownership=ownership, aged_s=f"{CLOSE_WAIT_AGED_S:.0f}",
                  unread=snap.close_wait_unread)  # fmt: skip
    found = _make(
        "close_wait_leak", Severity.CRITICAL if critical else Severity.WARNING, ctx,
        owner_part=_word(ctx, "owner_part", owner=owner) if top else "", owner=owner,
        aged=_word(ctx, "unknown") if aged is None else aged, **values,
    )  # fmt: skip
    if aged is None:  # not watched long enough: say so, not "unknown open 30 s or longer"
        unwatched = SCREEN_WORDS[ctx.lang]["cw_evidence_unwatched"].format(**values)
        found = replace(found, evidence=unwatched)
    return found


def accept_stopped(snap: Snapshot, ctx: Context) -> Finding | None:
    """CLOSE_WAITs queued on a listener: the application stopped calling accept()."""
    stuck = [x for x in snap.listeners if _accept_stopped(x)]
    if not stuck:
        return None
    x = max(stuck, key=lambda x: (x.unaccepted_close_wait or 0, x.queued))
    cw = x.unaccepted_close_wait or 0
    return _make(
        "accept_stopped", Severity.CRITICAL if _queue_full(x) else Severity.WARNING, ctx,
        where=_where(x), cw=cw, est=max(0, x.queued - cw), queued=x.queued, backlog=x.backlog,
        owner=_listener_owner(x, ctx),
    )  # fmt: skip


def listen_overflow(snap: Snapshot, ctx: Context) -> Finding | None:
    """Accept queues full, or ListenOverflows counting (not explained by accept_stopped)."""
    overflows = rate(snap, "ListenOverflows")
    full = [x for x in snap.listeners if _queue_full(x) and not _accept_stopped(x)]
    if not full and not _positive(overflows):
        return None
    x = full[0] if full else None
    return _make(
        "listen_overflow", Severity.WARNING, ctx,
        where=f" ({_where(x)})" if x else "", rate=_per_s(ctx, overflows),
        drops=_per_s(ctx, rate(snap, "ListenDrops")),
        queue=f"; {x.queued}/{x.backlog} queued" if x else "",
    )  # fmt: skip


def _syn_ratio(x: Listener) -> float:
    return (x.syn_recv or 0) / max(1, x.backlog)


def syn_queue(snap: Snapshot, ctx: Context) -> Finding | None:
    """A listener's SYN queue filling up relative to ITS backlog, or cookies being sent."""
    cookies = rate(snap, "SyncookiesSent")
    qfull = rate(snap, "TCPReqQFullDoCookies")
    x = max(snap.listeners, key=_syn_ratio, default=None)
    pile = x is not None and (x.syn_recv or 0) >= SYN_RECV_MIN and _syn_ratio(x) >= SYN_QUEUE_WARN
    if not pile and not (_positive(cookies) or _positive(qfull)):
        return None
    full = x is not None and (x.syn_recv or 0) > x.backlog
    critical = full or _positive(cookies) or _positive(qfull)
    syncookies = snap.sysctl.get("tcp_syncookies")
    backlog_part = ""
    if (syncookies or "").strip() == "0":
        backlog_part = _word(ctx, "max_syn_backlog", value=snap.sysctl.get("tcp_max_syn_backlog"))
    unknown = _word(ctx, "unknown")
    return _make(
        "syn_queue", Severity.CRITICAL if critical else Severity.WARNING, ctx,
        where=_where(x) if x else unknown,
        syn=unknown if x is None or x.syn_recv is None else x.syn_recv,
        backlog=x.backlog if x else unknown, pct=f"{100 * _syn_ratio(x):.0f}" if x else unknown,
        cookies=_per_s(ctx, cookies), qfull=_per_s(ctx, qfull),
        drops=_per_s(ctx, rate(snap, "ListenDrops")), syncookies=syncookies or unknown,
        syn_backlog=backlog_part,
    )  # fmt: skip


def _port_rank(t: PortTuple) -> tuple[int, float, float]:
    """FULL first, then FILLING soonest full, then by blocked share."""
    rank = {TupleState.FULL: 2, TupleState.FILLING: 1}.get(t.state, 0)
    eta = t.seconds_to_full if t.state is TupleState.FILLING and t.seconds_to_full else 0.0
    return (rank, -eta, t.ratio)


def port_pressure(snap: Snapshot, ctx: Context) -> Finding | None:
    """The worst outbound (src, dst, dport) tuple running out of ephemeral ports, judged by the
    port model (twtop.ports): its state and evidence are the gauge's and the table's."""
    if not snap.ports.tuples:
        return None
    worst = max(snap.ports.tuples, key=_port_rank)
    eta = worst.seconds_to_full
    filling = worst.state is TupleState.FILLING
    critical = worst.full or (filling and eta is not None and eta < PORT_ETA_CRIT_S)
    if not critical and not filling and worst.ratio < PORT_RATIO_WARN:
        return None
    return _make(
        "tw_port_pressure", Severity.CRITICAL if critical else Severity.WARNING, ctx,
        src=worst.src, dst=worst.dst, dport=worst.dport, blocking=worst.blocking,
        available=worst.available, pct=f"{worst.ratio * 100:.0f}", live=worst.live,
        tw_blocking=worst.tw_blocking, tw=worst.time_wait,
        regime=port_regime(worst.regime, ctx.lang), budget=port_budget(snap.ports, ctx.lang),
        rate=per_s(worst.demand_per_s), state=port_state(worst, ctx.lang),
        sustain=f"{worst.sustainable_per_s:.0f}", demand=port_demand(worst, ctx.lang),
        who=port_who(worst, ctx.lang),
    )  # fmt: skip


def bind_port_pressure(snap: Snapshot, ctx: Context) -> Finding | None:
    """A source IP whose ports across all destinations run out before any of its tuples: the
    limit of clients that bind() before connect() (EADDRINUSE)."""
    views = [v for v in snap.ports.sources if v.notable]
    if not views:
        return None
    v = views[0]
    return _make(
        "bind_port_pressure", Severity.WARNING, ctx, src=v.src, held=v.held,
        available=v.available, pct=f"{v.ratio * 100:.0f}",
        tuple_pct=f"{v.worst_tuple_ratio * 100:.0f}",
    )  # fmt: skip


def bound_in_range(snap: Snapshot, ctx: Context) -> Finding | None:
    """Ports inside the ephemeral range held by bind(): connect() skips them for every
    destination."""
    budget = snap.ports.budget
    if budget is None or not budget.bound:
        return None
    return _make(
        "bound_in_range", Severity.INFO, ctx, bound=budget.bound, listen=budget.bound_listen,
        other=budget.bound_other, low=snap.ports.low, high=snap.ports.high,
        available=budget.available,
    )  # fmt: skip


def inbound_time_wait(snap: Snapshot) -> int | None:
    """TIME_WAITs on connections this host accepted: all minus the outbound ones (None: the
    outbound total is not known)."""
    ports = snap.ports
    outbound = ports.time_wait_total
    if outbound is None:
        if ports.tuples_total > len(ports.tuples):
            return None
        outbound = sum(t.time_wait for t in ports.tuples)
    return max(0, snap.count(S.TIME_WAIT) - outbound)


def tw_by_port(snap: Snapshot) -> list[tuple[int, int]]:
    """(listening port, inbound TIME_WAITs on it), most first, when the poll counted them per
    port (Listener.tw_on_port); [] when it did not."""
    counted = {x.lport: x.tw_on_port for x in snap.listeners if x.tw_on_port is not None}
    return sorted(((p, n) for p, n in counted.items() if n), key=lambda pn: (-pn[1], pn[0]))


def server_side_listeners(snap: Snapshot) -> tuple[tuple[int, ...], tuple[Listener, ...]]:
    """The listening ports the inbound TIME_WAITs are on, and the listeners there, when that can
    be told: a TIME_WAIT keeps its local port, and twtop calls it inbound only when that port is
    a listener's. Counted per port (tw_by_port): the ports that hold them, most first, and their
    listeners. Not counted, with ONE listening port every inbound TIME_WAIT is on it; with
    several the ports are all returned, and the listeners only when one process owns them all
    (else none: which service is unknown)."""
    if by_port := tw_by_port(snap):
        ports = tuple(p for p, _n in by_port)
        return ports, tuple(x for p in ports for x in snap.listeners if x.lport == p)
    ports = tuple(sorted({x.lport for x in snap.listeners}))
    if len(ports) == 1:
        return ports, snap.listeners
    pids = {x.owner.pid if x.owner else None for x in snap.listeners}
    if len(pids) == 1 and None not in pids:
        return ports, snap.listeners
    return ports, ()


def _owners(listeners: Iterable[Listener]) -> list[str]:
    return list(dict.fromkeys(f"{x.owner.name}[{x.owner.pid}]" for x in listeners if x.owner))


def _by_port_clause(snap: Snapshot, ctx: Context, by_port: list[tuple[int, int]]) -> str:
    """``:80 9800 (nginx[12]); :8080 200 (owner unknown: ...)``: each port, its inbound
    TIME_WAITs and who listens there."""
    items = []
    for port, n in by_port[:PORTS_NAMED]:
        here = [x for x in snap.listeners if x.lport == port]
        owners = _owners(here)
        if not owners or any(x.owner is None for x in here):
            owners = [_word(ctx, "owner_unknown", reason=owner_reason(ctx))]
        items.append(_word(ctx, "tw_port_item", port=port, n=n, owner=", ".join(owners)))
    more = len(by_port) - PORTS_NAMED
    return _word(ctx, "tw_server_by_port", items=_word(ctx, "tw_port_sep").join(items),
                 more=_word(ctx, "tw_ports_more", n=more) if more > 0 else "")  # fmt: skip


def _server_side_who(snap: Snapshot, ctx: Context) -> tuple[str, str]:
    """(who for the title, the listener clause for the evidence) of tw_server_side."""
    ports, listeners = server_side_listeners(snap)
    by_port = tw_by_port(snap)
    if len(by_port) > 1:  # the title names the port holding most; the evidence every port
        top = [x for x in listeners if x.lport == by_port[0][0]]
        owners = _owners(top)
        clause = _by_port_clause(snap, ctx, by_port)
        if not owners or any(x.owner is None for x in top):
            return _word(ctx, "tw_server_host"), clause
        who = _word(ctx, "tw_server_who", owner=", ".join(owners), ports=f":{by_port[0][0]}")
        return who, clause
    where = ", ".join(f":{p}" for p in ports)
    owners = _owners(listeners)
    if not ports:
        return _word(ctx, "tw_server_host"), ""
    if not listeners:
        return _word(ctx, "tw_server_host"), _word(ctx, "tw_server_ports", n=len(ports),
                                                   ports=where)  # fmt: skip
    if not owners or any(x.owner is None for x in listeners):
        clause = _word(ctx, "tw_server_unowned", ports=where, reason=owner_reason(ctx))
        return _word(ctx, "tw_server_host"), clause
    who = ", ".join(owners)
    return (_word(ctx, "tw_server_who", owner=who, ports=where),
            _word(ctx, "tw_server_listener", ports=where, owner=who))  # fmt: skip


def tw_server_side(snap: Snapshot, ctx: Context) -> Finding | None:
    """Many TIME_WAITs on inbound connections: this host closes first; the service is named by
    the listener on their local port when that is known (server_side_listeners)."""
    inbound = inbound_time_wait(snap)
    if inbound is None or inbound < SERVER_TW_INFO:
        return None
    who, listener = _server_side_who(snap, ctx)
    return _make(
        "tw_server_side", Severity.INFO, ctx, count=inbound, who=who, listener=listener,
        share=f"{100 * inbound / max(1, snap.count(S.TIME_WAIT)):.0f}",
        mem_mb=f"{inbound * TW_SOCK_BYTES / 1e6:.1f}",
    )  # fmt: skip


def tw_buckets_overflow(snap: Snapshot, ctx: Context) -> Finding | None:
    """tcp_max_tw_buckets hit: TIME_WAITs not created (TCPTimeWaitOverflow counting)."""
    overflow = rate(snap, "TCPTimeWaitOverflow")
    if not _positive(overflow):
        return None
    max_tw = _int(snap.sysctl.get("tcp_max_tw_buckets"))
    return _make(
        "tw_buckets_overflow", Severity.CRITICAL, ctx, rate=_per_s(ctx, overflow),
        total=snap.counters.get("TCPTimeWaitOverflow", 0),
        tw=snap.counters.get("sockstat_tw", snap.count(S.TIME_WAIT)),
        max=_word(ctx, "unknown") if max_tw is None else max_tw,
    )  # fmt: skip


def tw_reuse_off(snap: Snapshot, ctx: Context) -> Finding | None:
    """Outbound TIME_WAIT to non-loopback destinations that tcp_tw_reuse does not cover."""
    out_tw = sum(t.time_wait for t in snap.ports.tuples if not _is_loopback(t.dst))
    reuse = (snap.sysctl.get("tcp_tw_reuse") or "").strip()
    if out_tw < TW_REUSE_INFO or reuse not in ("0", "2"):
        return None
    return _make("tw_reuse_off", Severity.INFO, ctx, count=out_tw, reuse=reuse)


def timestamps_off(snap: Snapshot, ctx: Context) -> Finding | None:
    """tcp_timestamps=0 with outbound TIME_WAITs: reuse is impossible."""
    out_tw = sum(t.time_wait for t in snap.ports.tuples)
    if (snap.sysctl.get("tcp_timestamps") or "").strip() != "0" or not out_tw:
        return None
    return _make("timestamps_off", Severity.WARNING, ctx, count=out_tw)


def narrow_port_range(snap: Snapshot, ctx: Context) -> Finding | None:
    """An ephemeral range narrower than NARROW_RANGE."""
    ports = snap.ports
    if ports.available >= NARROW_RANGE:
        return None
    return _make(
        "narrow_port_range", Severity.WARNING if ports.tuples else Severity.INFO, ctx,
        available=ports.available, low=ports.low, high=ports.high, reserved=ports.reserved,
    )  # fmt: skip


def reserved_in_range(snap: Snapshot, ctx: Context) -> Finding | None:
    """Reserved ports inside the ephemeral range."""
    ports = snap.ports
    if not ports.reserved:
        return None
    return _make(
        "reserved_in_range", Severity.INFO, ctx, reserved=ports.reserved,
        value=snap.sysctl.get("ip_local_reserved_ports"), low=ports.low, high=ports.high,
    )  # fmt: skip


def orphans_pressure(snap: Snapshot, ctx: Context) -> Finding | None:
    """Orphans (a global count) near the global tcp_max_orphans, or being killed for memory."""
    abort = rate(snap, "TCPAbortOnMemory")
    max_orphans = _int(snap.sysctl.get("tcp_max_orphans"))
    orphans = snap.counters.get("sockstat_orphan")
    near = bool(max_orphans and orphans is not None and orphans >= ORPHANS_WARN * max_orphans)
    if not near and not _positive(abort):
        return None
    unknown = _word(ctx, "unknown")
    pct = f"{100 * orphans / max_orphans:.0f}" if max_orphans and orphans is not None else unknown
    return _make(
        "orphans_pressure", Severity.CRITICAL if _positive(abort) else Severity.WARNING, ctx,
        orphans=unknown if orphans is None else orphans,
        max=max_orphans or unknown, pct=pct, abort=_per_s(ctx, abort),
    )  # fmt: skip


def fin_wait2_pile(snap: Snapshot, ctx: Context) -> Finding | None:
    """FIN_WAIT2 piling up: peers that never send their FIN."""
    fw2 = snap.count(S.FIN_WAIT2)
    if fw2 < FIN_WAIT2_WARN or not snap.peers:
        return None
    top = max(snap.peers, key=lambda p: p.count(S.FIN_WAIT2))
    return _make(
        "fin_wait2_pile", Severity.WARNING, ctx, count=fw2, peer=top.peer,
        peer_count=top.count(S.FIN_WAIT2), fin_timeout=snap.sysctl.get("tcp_fin_timeout"),
    )  # fmt: skip


def tw_recycle_on(snap: Snapshot, ctx: Context) -> Finding | None:
    """tcp_tw_recycle set on a kernel that still has it (< 4.12)."""
    recycle = snap.sysctl.get("tcp_tw_recycle")
    if recycle is None or recycle.strip() == "0":
        return None
    return _make("tw_recycle_on", Severity.CRITICAL, ctx, value=recycle)


#: Every rule, run in this order (the report sorts the findings by severity, then id).
RULES: tuple[Rule, ...] = (
    close_wait_leak,
    accept_stopped,
    listen_overflow,
    syn_queue,
    port_pressure,
    bind_port_pressure,
    bound_in_range,
    tw_server_side,
    tw_buckets_overflow,
    tw_reuse_off,
    timestamps_off,
    narrow_port_range,
    reserved_in_range,
    orphans_pressure,
    fin_wait2_pile,
    tw_recycle_on,
)


def all_clear(snap: Snapshot, ctx: Context) -> Finding:
    """The info line when no rule fired, saying whether rates could be measured."""
    sampling = (
        _word(ctx, "one_sample")
        if snap.interval_s is None
        else _word(ctx, "rates_over", s=f"{snap.interval_s:.1f}")
    )
    return _make("all_clear", Severity.INFO, ctx, total=snap.total, rules=len(RULES),
                 sampling=sampling)  # fmt: skip


def by_severity(findings: list[Finding]) -> list[Finding]:
    """Most severe first; ties by id, so the order is stable."""
    return sorted(findings, key=lambda f: (-f.severity.rank, f.id))


def advise(snap: Snapshot, lang: str = "en", ctx: Context | None = None) -> list[Finding]:
    """All findings for a snapshot, most severe first; "all clear" when none fires."""
    ctx = ctx or Context(lang=lang, root=os.geteuid() == 0)
    found = [f for rule in RULES if (f := rule(snap, ctx)) is not None]
    return by_severity(found) or [all_clear(snap, ctx)]
