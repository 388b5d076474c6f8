"""The advisor: findings computed from a Snapshot, each with evidence and what to do.

Thresholds are named constants with the reason for their value. Findings never change the system;
their actions are commands for a person to consider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twtop.explain import _wrap
from twtop.knowledge import ETA_WORDS, FINDINGS, LABELS, SEVERITY_WORDS
from twtop.model import CLOSE_WAIT_AGED_S, TIME_WAIT_S, Snapshot
from twtop.report import human_duration
from twtop.states import TcpState as S

#: CLOSE_WAIT count that is never a transient: a healthy application closes within milliseconds,
#: so even a busy server shows a handful at a time.
CLOSE_WAIT_WARN = 50
#: ...and the count (or aged count) that means a serious leak.
CLOSE_WAIT_CRIT = 1000
#: Port-tuple use that deserves attention, and that makes new connect()s start failing soon.
PORT_RATIO_WARN = 0.5
PORT_RATIO_CRIT = 0.8
#: Seconds to exhaustion under which the tuple is critical whatever its ratio (5 minutes: less
#: than a typical incident response).
PORT_ETA_CRIT_S = 300.0
#: Inbound TIME_WAITs worth pointing out (memory ~256 B each; 10k is ~2.5 MB, kernel-facts 10).
SERVER_TW_INFO = 10_000
#: Outbound TIME_WAIT towards non-loopback destinations above which tcp_tw_reuse matters.
TW_REUSE_INFO = 5_000
#: An ephemeral range narrower than this is called narrow (the default has 28232 ports).
NARROW_RANGE = 16_384
#: Fraction of tcp_max_orphans at which orphans are reported.
ORPHANS_WARN = 0.8
#: FIN_WAIT2 / SYN_RECV counts that are piles rather than transients.
FIN_WAIT2_WARN = 1_000
SYN_RECV_WARN = 1_000
#: Memory of one TIME_WAIT minisocket (tw_sock_TCP slab object, kernel-facts 10).
TW_SOCK_BYTES = 256

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the advisor noticed."""

    id: str
    severity: str  # info | warning | critical
    title: str
    evidence: str
    why: str
    action: str
    lang: str = "en"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (under ``findings``)."""
        return {
            "id": self.id,
            "severity": self.severity,
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
            wrapped = _wrap(f"{words[key]}: {text}", 74).split("\n")
            out += [f"    {line}" for line in wrapped]
        return out


def _make(fid: str, severity: str, lang: str, **values: Any) -> Finding:
    tpl = FINDINGS[lang][fid]
    return Finding(
        id=fid,
        severity=severity,
        title=tpl["title"].format(**values),
        evidence=tpl["evidence"].format(**values),
        why=tpl["why"].format(**values),
        action=tpl["action"].format(**values),
        lang=lang,
    )


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int((value or "").split()[0])
    except (ValueError, IndexError):
        return default


def _is_loopback(addr: str) -> bool:
    return addr.startswith("127.") or addr == "::1"


def advise(snap: Snapshot, lang: str = "en") -> list[Finding]:
    """All findings for a snapshot, most severe first."""
    out: list[Finding] = []
    sysctl = snap.sysctl
    # CLOSE_WAIT by process
    cw = snap.count(S.CLOSE_WAIT)
    if cw >= CLOSE_WAIT_WARN or snap.close_wait_aged >= CLOSE_WAIT_WARN:
        owners = [p for p in snap.processes if p.states.get(S.CLOSE_WAIT)]
        top = owners[0] if owners else None
        owner = f"{top.name}[{top.pid}]" if top else "?"
        sev = (
            "critical"
            if cw >= CLOSE_WAIT_CRIT or snap.close_wait_aged >= CLOSE_WAIT_WARN
            else ("warning")
        )
        out.append(
            _make(
                "close_wait_leak", sev, lang,
                owner_part=f" ({owner})" if top else "",
                count=cw, owned=top.states[S.CLOSE_WAIT] if top else 0, owner=owner,
                aged=snap.close_wait_aged, aged_s=f"{CLOSE_WAIT_AGED_S:.0f}",
                unread=snap.close_wait_unread,
            )
        )  # fmt: skip
    # Port pressure on the worst tuple
    ports = snap.ports
    if ports.tuples:
        worst = max(ports.tuples, key=lambda t: (t.ratio, t.tw_per_s))
        eta = worst.seconds_to_exhaustion
        critical = worst.ratio >= PORT_RATIO_CRIT or (eta is not None and eta < PORT_ETA_CRIT_S)
        if critical or worst.ratio >= PORT_RATIO_WARN:
            words = ETA_WORDS[lang]
            eta_txt = (
                words["now"] if eta == 0 else
                words["safe"] if eta is None else words["eta"].format(t=human_duration(eta))
            )  # fmt: skip
            out.append(
                _make(
                    "tw_port_pressure", "critical" if critical else "warning", lang,
                    src=worst.src, dst=worst.dst, dport=worst.dport, used=worst.used,
                    available=worst.available, pct=f"{worst.ratio * 100:.0f}", tw=worst.time_wait,
                    rate=f"{worst.tw_per_s:.0f}", eta=eta_txt,
                    sustain=f"{worst.available / TIME_WAIT_S:.0f}",
                )
            )  # fmt: skip
    # Server-side TIME_WAIT (inbound)
    all_tw = snap.count(S.TIME_WAIT)
    inbound_tw = all_tw - sum(t.time_wait for t in ports.tuples)
    if snap.ports.tuples_total > len(ports.tuples):
        inbound_tw = 0  # not every outbound tuple is kept: do not guess
    if inbound_tw >= SERVER_TW_INFO:
        out.append(
            _make(
                "tw_server_side", "info", lang, count=inbound_tw,
                share=f"{100 * inbound_tw / max(1, all_tw):.0f}",
                mem_mb=f"{inbound_tw * TW_SOCK_BYTES / 1e6:.1f}",
            )
        )  # fmt: skip
    # tcp_max_tw_buckets
    overflow_rate = snap.rates.get("TCPTimeWaitOverflow", 0.0)
    max_tw = _int(sysctl.get("tcp_max_tw_buckets"), 0)
    if overflow_rate > 0:
        out.append(
            _make(
                "tw_buckets_overflow", "critical", lang, rate=f"{overflow_rate:.0f}",
                total=snap.counters.get("TCPTimeWaitOverflow", 0),
                tw=snap.counters.get("sockstat_tw", snap.count(S.TIME_WAIT)), max=max_tw,
            )
        )  # fmt: skip
    # tcp_tw_reuse vs outbound TIME_WAIT to non-loopback peers
    out_tw = sum(t.time_wait for t in ports.tuples if not _is_loopback(t.dst))
    reuse = (sysctl.get("tcp_tw_reuse") or "").strip()
    if out_tw >= TW_REUSE_INFO and reuse in ("0", "2"):
        out.append(_make("tw_reuse_off", "info", lang, count=out_tw, reuse=reuse))
    all_out_tw = sum(t.time_wait for t in ports.tuples)
    if (sysctl.get("tcp_timestamps") or "").strip() == "0" and all_out_tw:
        out.append(_make("timestamps_off", "warning", lang, count=all_out_tw))
    # Port range
    if ports.available < NARROW_RANGE:
        out.append(
            _make(
                "narrow_port_range", "warning" if ports.tuples else "info", lang,
                available=ports.available, low=ports.low, high=ports.high, reserved=ports.reserved,
            )
        )  # fmt: skip
    if ports.reserved:
        out.append(
            _make(
                "reserved_in_range", "info", lang, reserved=ports.reserved,
                value=sysctl.get("ip_local_reserved_ports"), low=ports.low, high=ports.high,
            )
        )  # fmt: skip
    # Listen queue overflows
    lo = snap.rates.get("ListenOverflows", 0.0)
    if lo > 0:
        full = [x for x in snap.listeners if x.backlog and x.queued >= x.backlog]
        where = f" ({full[0].local}:{full[0].lport})" if full else ""
        queue = f"; {full[0].queued}/{full[0].backlog} queued" if full else ""
        out.append(
            _make(
                "listen_overflow", "warning", lang, where=where, rate=f"{lo:.0f}",
                drops=f"{snap.rates.get('ListenDrops', 0.0):.0f}", queue=queue,
            )
        )  # fmt: skip
    # Orphans (the sockstat count is global; tcp_max_orphans is absent in child namespaces)
    max_orphans = _int(sysctl.get("tcp_max_orphans"), 0)
    orphans = snap.counters.get("sockstat_orphan", 0)
    if max_orphans and orphans >= ORPHANS_WARN * max_orphans:
        out.append(_make("orphans_high", "warning", lang, orphans=orphans, max=max_orphans))
    # FIN_WAIT2 and SYN_RECV piles
    fw2 = snap.count(S.FIN_WAIT2)
    if fw2 >= FIN_WAIT2_WARN:
        top_peer = max(snap.peers, key=lambda p: p.count(S.FIN_WAIT2))
        out.append(
            _make(
                "fin_wait2_pile", "warning", lang, count=fw2, peer=top_peer.peer,
                peer_count=top_peer.count(S.FIN_WAIT2),
                fin_timeout=sysctl.get("tcp_fin_timeout"),
            )
        )  # fmt: skip
    syn = snap.count(S.SYN_RECV)
    if syn >= SYN_RECV_WARN:
        out.append(
            _make(
                "syn_recv_pile", "warning", lang, count=syn,
                cookies=sysctl.get("tcp_syncookies"), backlog=sysctl.get("tcp_max_syn_backlog"),
            )
        )  # fmt: skip
    recycle = sysctl.get("tcp_tw_recycle")
    if recycle is not None and recycle.strip() != "0":
        out.append(_make("tw_recycle_on", "critical", lang, value=recycle))
    out.sort(key=lambda f: -SEVERITIES.index(f.severity))
    return out
