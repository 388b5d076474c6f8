"""The explainer: what a socket's state means for THIS socket, from the knowledge tables.

``explain_socket`` walks the TCP close handshake for one socket (who closed first, which step it
is at, what it waits for, its timer), ``explain_peer`` summarises a peer group, and
``render_state_card`` is the reference card ``twtop explain STATE`` prints.
"""

from __future__ import annotations

import os
import socket as _socket
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from twtop.knowledge import PHRASES, STATE_BRIEF, STATE_LIST_HINT, STATE_TEXT
from twtop.model import TIME_WAIT_S, PeerRow, Snapshot, Socket
from twtop.states import ALL_STATES
from twtop.states import TcpState as S
from twtop.text import cols as _cols
from twtop.text import ms as fmt_ms
from twtop.text import wrap as _wrap

if TYPE_CHECKING:
    from twtop.detail import TcpInfo

WIDTH = 80

#: States whose tcp_info says nothing about a connection (no peer, or a minisocket).
_NO_TCP_INFO = frozenset({S.LISTEN, S.CLOSE, S.SYN_RECV, S.TIME_WAIT})

#: The four segments of the close handshake; "A" is the active closer, "B" the passive one.
CLOSE_STEPS = (("A", "FIN"), ("B", "ACK"), ("B", "FIN"), ("A", "ACK"))

#: For each state: this host's role, and how many of CLOSE_STEPS are complete.
#: (FIN_WAIT1: our FIN sent; FIN_WAIT2: ...and acked; TIME_WAIT: all four; CLOSING: our FIN and
#: their FIN crossed, our ACK sent, theirs pending -- shown as 3 done.)
PROGRESS: dict[S, tuple[str, int]] = {
    S.ESTABLISHED: ("open", 0),
    S.SYN_SENT: ("opening", 0),
    S.SYN_RECV: ("opening", 0),
    S.LISTEN: ("listening", 0),
    S.CLOSE: ("closed", 0),
    S.FIN_WAIT1: ("active", 1),
    S.FIN_WAIT2: ("active", 2),
    S.CLOSING: ("active", 3),
    S.TIME_WAIT: ("active", 4),
    S.CLOSE_WAIT: ("passive", 2),
    S.LAST_ACK: ("passive", 3),
}


@dataclass(frozen=True, slots=True)
class Step:
    """One segment of the close handshake as seen from this host."""

    number: int
    segment: str  # FIN / ACK
    from_local: bool  # sent by this host
    status: str  # done / waiting / next / pending


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything the explainer says about one socket."""

    state: S
    role: str  # active / passive / open / opening / listening / closed
    role_text: str
    direction: str
    local: str
    remote: str
    steps: tuple[Step, ...]
    happened: str
    waits: str
    next: str
    timer: str
    reuse: str | None
    owner: str
    queues: str
    tcp_info: str | None
    normal: str
    problem: str
    action: str
    lang: str

    def short(self) -> str:
        """One or two lines for a narrow screen: state, who closed, what it waits for, timer."""
        p = PHRASES[self.lang]
        return (
            f"{self.state.name}{p['colon']}{self.role_text}{p['stop']} "
            f"{p['label_waits']}{p['colon']}{self.waits}{p['stop']}\n{self.timer}"
        )

    def diagram(self) -> str:
        """The close handshake as plain text, at most 80 columns."""
        return render_handshake(self)

    def render(self) -> str:
        """The full explanation as plain text (fits 80 columns)."""
        p = PHRASES[self.lang]
        parts = [
            f"{self.state.name} — {self.role_text}",
            f"{self.local} -> {self.remote}, {self.direction}",
            "",
        ]
        if self.steps:
            parts += [self.diagram(), ""]
        parts.append(_meaning(self.state, self.lang))
        parts.append(self.happened)
        parts.append(f"{p['label_waits']}{p['colon']}{self.waits}{p['stop']}")
        parts.append(f"{p['label_next']}{p['colon']}{self.next}{p['stop']}")
        parts.append(self.timer)
        if self.reuse:
            parts.append(self.reuse)
        parts += [self.owner, self.queues]
        if self.tcp_info:
            parts.append(self.tcp_info)
        parts.append("")
        parts.append(f"{p['label_normal']}{p['colon']}{self.normal}")
        parts.append(f"{p['label_problem']}{p['colon']}{self.problem}")
        parts.append(f"{p['label_action']}{p['colon']}{self.action}")
        return "\n".join(_wrap(line) for line in parts) + "\n"


def _meaning(state: S, lang: str) -> str:
    return STATE_TEXT[lang][state]["meaning"]


def _timer_text(sock: Socket, snap: Snapshot | None, p: dict[str, str]) -> str:
    left = fmt_ms(sock.expires_ms)
    fin_timeout = (snap.sysctl.get("tcp_fin_timeout") if snap else None) or "60"
    st = sock.state
    if sock.timer == 3 and st == S.TIME_WAIT:
        ago = fmt_ms(max(0, int(TIME_WAIT_S * 1000) - sock.expires_ms))
        return p["timer_tw"].format(left=left, ago=ago)
    if sock.timer == 3 and st == S.FIN_WAIT2:
        return p["timer_fw2_mini"].format(left=left, fin_timeout=fin_timeout)
    if sock.timer == 2 and st == S.FIN_WAIT2 and sock.orphan:
        return p["timer_fw2_long"].format(left=left)
    if sock.timer == 2:
        return p["timer_keepalive"].format(left=left, retrans=sock.retrans)
    if sock.timer == 1 and st == S.SYN_RECV:
        return p["timer_syn"].format(left=left, retrans=sock.retrans)
    if sock.timer == 1:
        return p["timer_retrans"].format(left=left, retrans=sock.retrans)
    if sock.timer == 4:
        return p["timer_persist"].format(left=left, retrans=sock.retrans)
    if st == S.FIN_WAIT2 and not sock.orphan:
        return p["timer_fw2_open"]
    if st == S.CLOSE_WAIT:
        return p["timer_cw"]
    return p["timer_none"]


def _reuse_text(sock: Socket, snap: Snapshot | None, p: dict[str, str]) -> str | None:
    if sock.state != S.TIME_WAIT:
        return None
    if sock.inbound:
        return p["reuse_inbound"]
    sysctl = snap.sysctl if snap else {}
    reuse = sysctl.get("tcp_tw_reuse") or "2"
    meaning = {"0": p["reuse_off"], "1": p["reuse_on"]}.get(reuse, p["reuse_loop"])
    delay = int(sysctl.get("tcp_tw_reuse_delay") or 1000)
    elapsed = int(TIME_WAIT_S * 1000) - sock.expires_ms
    return p["reuse_outbound"].format(
        reuse=reuse,
        reuse_meaning=meaning,
        ts=sysctl.get("tcp_timestamps") or "1",
        delay=delay,
        ready=p["reuse_ready"] if elapsed >= delay else p["reuse_not_ready"],
    )


def explain_socket(
    sock: Socket, snapshot: Snapshot | None = None, lang: str = "en", info: TcpInfo | None = None
) -> Explanation:
    """Explain one socket: role, handshake step, wait, timer, reuse, normal vs problem, and
    its tcp_info when given (``Collector.tcp_info``)."""
    p = PHRASES[lang]
    text = STATE_TEXT[lang][sock.state]
    role, done = PROGRESS[sock.state]
    steps: list[Step] = []
    if role in ("active", "passive"):
        we_are_a = role == "active"
        for i, (who, seg) in enumerate(CLOSE_STEPS):
            status = "done" if i < done else ("waiting" if i == done else "pending")
            steps.append(Step(i + 1, seg, (who == "A") == we_are_a, status))
        # CLOSE_WAIT waits for OUR application, the next segment is ours to send.
        if sock.state == S.CLOSE_WAIT:
            steps[2] = Step(3, "FIN", True, "next")
    happened_steps = [
        f"{'→' if s.from_local else '←'} {s.segment}" for s in steps if s.status == "done"
    ]
    happened = (
        p["happened"].format(steps=", ".join(happened_steps))
        if happened_steps
        else p["nothing_happened"]
    )
    if sock.inbound is None:
        direction = p["unknown_dir"]
    else:
        direction = p["inbound"] if sock.inbound else p["outbound"]
    if sock.owner is not None:
        owner = p["owner"].format(process=sock.owner.name, pid=sock.owner.pid, user=sock.owner.user)
    elif sock.inode == 0:
        owner = p["orphan"] if sock.orphan else p["no_owner"]
    else:
        owner = p["unknown_owner_root"] if os.geteuid() == 0 else p["unknown_owner"]
    if sock.state == S.LISTEN:
        queues = p["listen_queue"].format(rq=sock.rqueue, wq=sock.wqueue)
    elif sock.state == S.CLOSE_WAIT:
        meaning = (
            p["cw_eof_read"] if sock.rqueue == 0 else
            p["cw_eof_unread"] if sock.rqueue == 1 else
            p["cw_data_unread"].format(data=sock.rqueue - 1)
        )  # fmt: skip
        queues = p["cw_queue"].format(rq=sock.rqueue, meaning=meaning)
    else:
        queues = p["queues"].format(rq=sock.rqueue, wq=sock.wqueue)
    return Explanation(
        state=sock.state,
        role=role,
        role_text=text["role"],
        direction=direction,
        local=sock.local_ep,
        remote=sock.remote_ep,
        steps=tuple(steps),
        happened=happened,
        waits=text["waits"],
        next=text["next"],
        timer=_timer_text(sock, snapshot, p),
        reuse=_reuse_text(sock, snapshot, p),
        owner=owner,
        queues=queues,
        tcp_info=None
        if info is None
        else p["tcp_info"].format(
            rtt=f"{info.rtt_ms:.3f}",
            rttvar=f"{info.rttvar_ms:.3f}",
            rto=f"{info.rto_ms:.0f}",
            cwnd=info.cwnd,
            unacked=info.unacked,
            retrans=info.retrans_total,
            acked=info.bytes_acked,
            received=info.bytes_received,
            sent=fmt_ms(info.last_data_sent_ms),
            recv=fmt_ms(info.last_data_recv_ms),
        ),  # fmt: skip
        normal=text["normal"],
        problem=text["problem"],
        action=text["action"],
        lang=lang,
    )


def render_handshake(exp: Explanation) -> str:
    """The four-segment close handshake with this host on the left, at most 80 columns."""
    p = PHRASES[exp.lang]
    left_title = f"{p['this_host']} {exp.local}"
    right_title = f"{p['peer']} {exp.remote}"
    we = p["active"] if exp.role == "active" else p["passive"]
    they = p["passive"] if exp.role == "active" else p["active"]
    gap = 44
    lines = [
        _pad(left_title, gap) + right_title,
        _pad(f"({we})", gap) + f"({they})",
    ]
    status_word = {
        "done": p["step_done"],
        "waiting": p["step_wait"],
        "next": p["step_next"],
        "pending": "",
    }
    for s in exp.steps:
        arrow = "-" * 30
        seg = s.segment
        body = f"{seg} {arrow}>    " if s.from_local else f"    <{arrow} {seg}"
        mark = ">>" if s.status in ("waiting", "next") else "  "
        lines.append(f"{mark}{s.number}  {body}  {status_word[s.status]}".rstrip())
    lines.append(p["now"].format(state=exp.state.name))
    return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - _cols(text))


def explain_peer(row: PeerRow, snapshot: Snapshot, lang: str = "en") -> list[str]:
    """One line per notable state of a peer group, e.g. "4352 TIME_WAIT to 10.4.14.24, this
    host closed first, ~72/s, 15% of that tuple's ports"."""
    p = PHRASES[lang]
    lines = []
    tuples = [t for t in snapshot.ports.tuples if t.dst == row.peer]
    for state in (S.TIME_WAIT, S.CLOSE_WAIT, S.FIN_WAIT2, S.ESTABLISHED, S.SYN_RECV, S.LAST_ACK):
        n = row.count(state)
        if not n:
            continue
        role = PROGRESS[state][0]
        closer = {"active": p["closer_us"], "passive": p["closer_peer"]}.get(role, p["closer_none"])
        prep = p["to"] if row.outbound >= row.inbound else p["from"]
        text = p["peer_summary"].format(
            count=n, state=state.name, prep=prep, peer=row.peer, closer=closer
        )
        if state == S.TIME_WAIT and tuples:
            worst = max(tuples, key=lambda t: t.ratio)
            text += ", " + p["per_s"].format(rate=f"{sum(t.tw_per_s for t in tuples):.0f}")
            text += ", " + p["tuple_share"].format(pct=f"{worst.ratio * 100:.0f}")
        lines.append(text)
    return lines


def render_state_card(state: S, lang: str = "en") -> str:
    """The reference card for one state (``twtop explain STATE``)."""
    p = PHRASES[lang]
    text = STATE_TEXT[lang][state]
    role, _done = PROGRESS[state]
    sample = Socket(
        family=_socket.AF_INET,
        state=state,
        local="A",
        lport=0,
        remote="B",
        rport=0,
        timer=0,
        expires_ms=0,
        retrans=0,
        rqueue=0,
        wqueue=0,
        uid=0,
        inode=1,
        cookie=0,
    )
    lines = [f"{state.name} ({state.ss_name}) — {text['role']}", "", text["meaning"], ""]
    if role in ("active", "passive"):
        exp = replace(explain_socket(sample, None, lang), local="A", remote="B")
        lines += [render_handshake(exp), ""]
    lines += [
        f"{p['label_waits']}{p['colon']}{text['waits']}{p['stop']}",
        f"{p['label_next']}{p['colon']}{text['next']}{p['stop']}",
        "",
        f"{p['label_normal']}{p['colon']}{text['normal']}",
        f"{p['label_problem']}{p['colon']}{text['problem']}",
        f"{p['label_action']}{p['colon']}{text['action']}",
    ]
    return "\n".join(_wrap(line) for line in lines) + "\n"


def render_state_list(lang: str = "en") -> str:
    """Every state on one line, name and what it means (``twtop explain`` with no state)."""
    brief = STATE_BRIEF[lang]
    lines = [f"{state.name:<13}{brief[state]}" for state in ALL_STATES]
    return "\n".join([*lines, "", _wrap(STATE_LIST_HINT[lang])]) + "\n"
