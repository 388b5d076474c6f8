"""The incident note: one Markdown document for a ticket, built from a Snapshot and its findings.

Pure (no I/O): the TUI writes it with twtop.files.write_new. Every name from the system (host,
namespace, process, address, filter, sysctl value) is data: characters that would change the
note's structure (emphasis, links, HTML, table pipes, line breaks) are escaped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence

from twtop.advisor import Finding
from twtop.knowledge import LABELS, SEVERITY_WORDS
from twtop.knowledge_views import VIEW_WORDS
from twtop.model import Snapshot
from twtop.panes import counter_lines, listener_lines, unknown_owners
from twtop.report import REPORT_SYSCTLS
from twtop.states import ALL_STATES, TcpState
from twtop.text import endpoint, port_state_short

#: How many peers, tuples, processes and listeners the note lists.
NOTE_TOP = 10

#: Characters that change Markdown structure anywhere in a line (everything twtop writes from
#: the system sits mid-line: after "- Label: ", in a table cell or after "# "); an underscore
#: only at a word's edge (CLOSE_WAIT stays readable, _x_ is not emphasis).
_MD_SPECIAL = re.compile(r"([\\`*\[\]<|~&])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def md(text: object) -> str:
    """``text`` as literal Markdown: special characters backslash-escaped, line breaks folded
    into one space, other control characters dropped (a name can never start a heading, a
    list, a table row or a link)."""
    s = _CONTROL.sub("", _LINE_BREAKS.sub(" ", str(text)))
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), s)


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], right: Sequence[bool]) -> str:
    out = ["| " + " | ".join(md(h) for h in head) + " |",
           "|" + "|".join("---:" if r else ":---" for r in right) + "|"]  # fmt: skip
    out += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _states(states: dict[TcpState, int]) -> str:
    return ", ".join(f"{s.name} {n:,}" for s, n in sorted(states.items()) if n)


def incident_note(
    snap: Snapshot, findings: Sequence[Finding], lang: str = "en", top: int = NOTE_TOP
) -> str:
    """The note: time, host, netns, findings with actions, states, top peers, port tuples,
    processes, listeners, counters that moved, sysctls."""
    w = VIEW_WORDS[lang]
    out = _head(snap, w)
    for title, body in (
        (w["note_findings"], _findings(findings, lang)),
        (w["note_states"], _state_table(snap, w)),
        (w["note_peers"].format(group=w.get(f"group_{snap.group}", snap.group)),
         _peer_table(snap, w, top)),
        (w["note_tuples"], _tuple_table(snap, w, lang, top)),
        (w["note_processes"], _process_table(snap, w, top)),
        (w["note_listeners"], _listener_table(snap, w, lang, top)),
        (w["note_counters"], _counter_table(snap, w, lang)),
        (w["note_sysctls"], _sysctl_table(snap, w)),
    ):  # fmt: skip
        out += ["", f"## {title}", *body]
    if snap.notes:
        out += ["", *(f"- {md(n)}" for n in snap.notes)]
    return "\n".join(out) + "\n"


def _head(snap: Snapshot, w: dict[str, str]) -> list[str]:
    taken = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(snap.taken_at))
    utc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(snap.taken_at))
    out = [
        f"# {w['note_title'].format(host=md(snap.host))}",
        "",
        f"- {w['note_time']}: {md(taken)} ({md(utc)})",
        f"- {w['note_host']}: {md(snap.host)}",
        f"- {w['note_kernel']}: {md(snap.kernel)}",
        f"- {w['note_netns']}: {md(snap.netns) if snap.netns else w['note_netns_host']}",
    ]
    if snap.filter:
        out.append(f"- {w['note_filter']}: `{snap.filter.replace('`', '')}`")
    out.append(f"- {w['note_sockets']}: {snap.total:,} (IPv4 {snap.ipv4:,}, IPv6 {snap.ipv6:,})")
    return out


def _findings(findings: Sequence[Finding], lang: str) -> list[str]:
    labels, sev = LABELS[lang], SEVERITY_WORDS[lang]
    out: list[str] = []
    for f in findings:
        out += ["", f"### [{sev[f.severity]}] {md(f.title)}", ""]
        for key, text in (("evidence", f.evidence), ("why", f.why), ("action", f.action)):
            out.append(f"- **{labels[key]}**: {md(text)}")
    return out or ["", VIEW_WORDS[lang]["note_none"]]


def _section(w: dict[str, str], head: list[str], rows: Sequence[Sequence[object]],
             right: list[bool]) -> list[str]:  # fmt: skip
    return ["", _table(head, rows, right) if rows else w["note_none"]]


def _state_table(snap: Snapshot, w: dict[str, str]) -> list[str]:
    counts = [(s.name, f"{snap.count(s):,}") for s in ALL_STATES if snap.count(s)]
    return _section(w, [w["note_state"], w["note_total"]], counts, [False, True])


def _peer_table(snap: Snapshot, w: dict[str, str], top: int) -> list[str]:
    rows = [(p.peer, f"{p.total:,}", _states(p.states), ", ".join(p.processes))
            for p in snap.peers[:top]]  # fmt: skip
    head = [w["note_peer"], w["note_total"], w["note_states_col"], w["note_process"]]
    return _section(w, head, rows, [False, True, False, False])


def _tuple_table(snap: Snapshot, w: dict[str, str], lang: str, top: int) -> list[str]:
    rows = [(f"{t.src} -> {endpoint(t.dst, t.dport)}", f"{t.blocking:,}", f"{t.available:,}",
             f"{t.ratio * 100:.1f}%", port_state_short(t, lang))
            for t in snap.ports.tuples[:top]]  # fmt: skip
    head = [w["note_tuple"], w["note_blocking"], w["note_available"], "%", w["note_tuple_state"]]
    return _section(w, head, rows, [False, True, True, True, False])


def _process_table(snap: Snapshot, w: dict[str, str], top: int) -> list[str]:
    rows = [(f"{pr.name}[{pr.pid}]", pr.user, _states(pr.states)) for pr in snap.processes[:top]]
    head = [w["note_process"], w["note_user"], w["note_states_col"]]
    return _section(w, head, rows, [False, False, False])


def _listener_table(snap: Snapshot, w: dict[str, str], lang: str, top: int) -> list[str]:
    lines = listener_lines(snap, lang)[:top]
    rows = [(x.where, x.queue, x.syn, x.unaccepted, x.tw_in, x.owner) for x in lines]
    head = [w["col_listen"], w["col_queue"], w["col_syn"], w["col_unaccepted"], w["col_tw_in"],
            w["col_owner"]]  # fmt: skip
    out = _section(w, head, rows, [False, True, True, True, True, False])
    if rows and (why := unknown_owners(snap, lang)):
        out += ["", md(why)]
    return out


def _counter_table(snap: Snapshot, w: dict[str, str], lang: str) -> list[str]:
    moved = [c for c in counter_lines(snap, lang) if c.moved]
    rows = [(c.name, f"{c.value:,}", c.rate_text, c.meaning) for c in moved]
    if not rows:
        return ["", w["counters_one_sample"] if snap.interval_s is None else w["note_none"]]
    head = [w["col_counter"], w["col_value"], w["col_rate"], w["col_meaning"]]
    return _section(w, head, rows, [False, True, True, False])


def _sysctl_table(snap: Snapshot, w: dict[str, str]) -> list[str]:
    rows: list[tuple[str, ...]] = []
    for name in REPORT_SYSCTLS:
        value = snap.sysctl.get(name)
        text = w["note_sysctl_absent"] if value is None else (value or w["note_sysctl_empty"])
        rows.append((name, text))
    return _section(w, [w["note_sysctl"], w["note_value"]], rows, [False, False])
