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

from twtop import keys
from twtop.knowledge import PHRASES, STATE_BRIEF, STATE_LIST_HINT, STATE_TEXT
from twtop.model import TIME_WAIT_S, Listener, PeerRow, Snapshot, Socket
from twtop.states import ALL_STATES
from twtop.states import TcpState as S
from twtop.text import cols as _cols
from twtop.text import endpoint as fmt_endpoint
from twtop.text import ms as fmt_ms
from twtop.text import per_s, port_demand
from twtop.text import wrap as _wrap

if TYPE_CHECKING:
    from twtop.tcpinfo import TcpInfo

WIDTH = 80

#: States whose tcp_info says nothing about a connection (no peer, or a minisocket).
_NO_TCP_INFO = frozenset({S.LISTEN, S.CLOSE, S.SYN_RECV, S.TIME_WAIT})

#: The four segments of the close handshake; "A" is the active closer, "B" the passive one.
CLOSE_STEPS = (("A", "FIN"), ("B", "ACK"), ("B", "FIN"), ("A", "ACK"))

#: This host's role in each state.
ROLE: dict[S, str] = {
    S.ESTABLISHED: "open",
    S.SYN_SENT: "opening",
    S.SYN_RECV: "opening",
    S.LISTEN: "listening",
    S.CLOSE: "closed",
    S.FIN_WAIT1: "active",
    S.FIN_WAIT2: "active",
    S.CLOSING: "active",
    S.TIME_WAIT: "active",
    S.CLOSE_WAIT: "passive",
    S.LAST_ACK: "passive",
}

#: For each closing state, the status of each of CLOSE_STEPS (kernel-facts 7b). CLOSING is a
#: simultaneous close: our FIN went out, the peer's FIN came in and we ACKed it; only the peer's
#: ACK of our FIN (step 2) is missing.
STEP_STATUS: dict[S, tuple[str, str, str, str]] = {
    S.FIN_WAIT1: ("done", "waiting", "pending", "pending"),
    S.FIN_WAIT2: ("done", "done", "waiting", "pending"),
    S.CLOSING: ("done", "waiting", "done", "done"),
    S.TIME_WAIT: ("done", "done", "done", "done"),
    S.CLOSE_WAIT: ("done", "done", "next", "pending"),
    S.LAST_ACK: ("done", "done", "done", "waiting"),
}

#: States where our FIN has been queued and not yet acknowledged: wqueue counts it as 1 (7b).
_OUR_FIN_UNACKED = frozenset({S.FIN_WAIT1, S.CLOSING, S.LAST_ACK})

#: Only these can be orphans (inode 0 after close()); 7b.
_ORPHAN_STATES = frozenset({S.FIN_WAIT1, S.FIN_WAIT2, S.CLOSING, S.LAST_ACK})

#: Full sockets that may sit in a listener's accept queue, not yet accepted (inode 0); 7b.
_ACCEPT_QUEUE_STATES = frozenset({S.ESTABLISHED, S.CLOSE_WAIT})

#: Timer 3: a minisocket (TIME_WAIT, or an orphaned FIN_WAIT2) that is freed when it fires.
_TIMER_MINISOCKET = 3


@dataclass(frozen=True, slots=True)
class Step:
    """One segment of the close handshake as seen from this host."""

    number: int
    segment: str  # FIN / ACK
    from_local: bool  # sent by this host
    status: str  # done / waiting / next / pending / queued


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
    owner: str  # empty once the socket is gone
    queues: str  # empty for minisockets, request sockets and gone sockets
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

    def diagram(self, width: int = WIDTH) -> str:
        """The close handshake as plain text in ``width`` columns (compact under 70)."""
        return render_handshake(self, width)

    def render(self, width: int = WIDTH) -> str:
        """The full explanation as plain text, wrapped to ``width`` columns (80 by default)."""
        p = PHRASES[self.lang]
        ends = (
            self.local
            if self.state == S.LISTEN  # a listener has no peer
            else f"{self.local} -> {self.remote}"
        )
        parts = [
            f"{self.state.name} — {self.role_text}",
            f"{ends}{p['clause_sep']}{self.direction}",
            "",
        ]
        diagram = self.diagram(width) if self.steps else None
        if diagram is not None:
            parts += [diagram, ""]
        parts.append(_meaning(self.state, self.lang))
        if self.happened:
            parts.append(self.happened)
        parts.append(f"{p['label_waits']}{p['colon']}{self.waits}{p['stop']}")
        parts.append(f"{p['label_next']}{p['colon']}{self.next}{p['stop']}")
        parts.append(self.timer)
        if self.reuse:
            parts.append(self.reuse)
        parts += [line for line in (self.owner, self.queues) if line]
        if self.tcp_info:
            parts.append(self.tcp_info)
        parts.append("")
        parts.append(f"{p['label_normal']}{p['colon']}{self.normal}")
        parts.append(f"{p['label_problem']}{p['colon']}{self.problem}")
        parts.append(f"{p['label_action']}{p['colon']}{self.action}")
        # the diagram is laid out for the width already: wrapping it would break its columns
        return "\n".join(line if line is diagram else _wrap(line, width) for line in parts) + "\n"


def _meaning(state: S, lang: str) -> str:
    return STATE_TEXT[lang][state]["meaning"]


def _fin_timeout(snap: Snapshot | None) -> int | None:
    value = snap.sysctl.get("tcp_fin_timeout") if snap else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _timer_text(sock: Socket, snap: Snapshot | None, left_ms: int, lang: str) -> str:
    p = PHRASES[lang]
    st = sock.state
    left = fmt_ms(left_ms, lang) if left_ms > 0 else p["due"]
    if sock.timer == _TIMER_MINISOCKET and left_ms <= 0:
        return p["timer_gone"].format(ago=fmt_ms(-left_ms, lang))
    if sock.timer == _TIMER_MINISOCKET and st == S.TIME_WAIT:
        # The timer restarts at 60 s when a segment re-arms it (kernel-facts 4), so the time
        # since it was armed is a lower bound of the time since the socket entered TIME_WAIT.
        ago = fmt_ms(max(0, int(TIME_WAIT_S * 1000) - left_ms), lang)
        return p["timer_tw"].format(left=left, ago=ago)
    fin_timeout = _fin_timeout(snap)
    if sock.timer == _TIMER_MINISOCKET and st == S.FIN_WAIT2:
        if fin_timeout is not None and fin_timeout > TIME_WAIT_S:
            stage = fin_timeout - int(TIME_WAIT_S)
            return p["timer_fw2_mini2"].format(
                left=left, fin_timeout=fin_timeout, stage=stage, total=2 * stage
            )
        shown = "?" if fin_timeout is None else fin_timeout
        return p["timer_fw2_mini"].format(left=left, fin_timeout=shown)
    if sock.timer == 2 and st == S.FIN_WAIT2 and sock.inode == 0:
        # tcp_fin_timeout > 60 s: timer 2 for (value - 60), then a minisocket for another
        # (value - 60): 2 x (value - 60) in all (kernel-facts 4).
        if fin_timeout is not None and fin_timeout > TIME_WAIT_S:
            stage = fin_timeout - int(TIME_WAIT_S)
            return p["timer_fw2_long"].format(
                left=left, fin_timeout=fin_timeout, stage=stage, total=2 * stage
            )
        return p["timer_fw2_long_unknown"].format(left=left)
    if sock.timer == 2:
        return p["timer_keepalive"].format(left=left, retrans=sock.retrans)
    if sock.timer == 1 and st == S.SYN_RECV:
        return p["timer_syn"].format(left=left, retrans=sock.retrans)
    if sock.timer == 1 and st == S.SYN_SENT:
        return p["timer_syn_sent"].format(left=left, retrans=sock.retrans)
    if sock.timer == 1 and st in _OUR_FIN_UNACKED and sock.retrans:
        return p["timer_retrans_fin"].format(left=left, retrans=sock.retrans)
    if sock.timer == 1:
        return p["timer_retrans"].format(left=left, retrans=sock.retrans)
    if sock.timer == 4:
        text = p["timer_persist"].format(left=left, retrans=sock.retrans)
        return text + p["space"] + p["persist_fin"] if st in _OUR_FIN_UNACKED else text
    if st == S.FIN_WAIT2 and sock.inode != 0:
        return p["timer_fw2_open"]
    if st == S.CLOSE_WAIT:
        return p["timer_cw"]
    return p["timer_none"]


def _is_loopback(addr: str) -> bool:
    return addr.startswith("127.") or addr == "::1"


def _reuse_text(sock: Socket, snap: Snapshot | None, armed_ms: int, lang: str) -> str | None:
    p = PHRASES[lang]
    if sock.inbound:
        return p["reuse_inbound"]
    sysctl = snap.sysctl if snap else {}
    reuse = sysctl.get("tcp_tw_reuse") or "2"
    if reuse == "2":  # kernel-facts 5/6: 2 applies when the source or destination is loopback
        loop = _is_loopback(sock.local) or _is_loopback(sock.remote)
        meaning = p["reuse_loop_yes"] if loop else p["reuse_loop_no"]
    else:
        meaning = {"0": p["reuse_off"], "1": p["reuse_on"]}.get(reuse, reuse)
    delay = int(sysctl.get("tcp_tw_reuse_delay") or 1000)
    return p["reuse_outbound"].format(
        reuse=reuse,
        reuse_meaning=meaning,
        ts=sysctl.get("tcp_timestamps") or "1",
        delay=delay,
        ready=p["reuse_ready"] if armed_ms >= delay else p["reuse_not_ready"],
    )


def _queued_on(sock: Socket, snap: Snapshot | None) -> tuple[bool | None, Listener | None]:
    """Whether ``sock``'s local address:port is a listener's (so, with inode 0, it waits in that
    listener's accept queue), and the listener when the snapshot names it. None: unknown."""
    if snap is None:
        return sock.inbound, None  # the engine matched it against the listeners when it read it
    wild = "::" if ":" in sock.local else "0.0.0.0"
    for addr in (sock.local, wild, "::"):  # the exact address first, as the kernel looks up
        for lst in snap.listeners:
            if lst.lport == sock.lport and lst.local == addr:
                return True, lst
    return False, None


def _owner_text(sock: Socket, snap: Snapshot | None, lang: str) -> str:
    p = PHRASES[lang]
    st = sock.state
    if sock.owner is not None:
        return p["owner"].format(process=sock.owner.name, pid=sock.owner.pid, user=sock.owner.user)
    if sock.inode != 0:
        return p["unknown_owner_root"] if os.geteuid() == 0 else p["unknown_owner"]
    if st in (S.TIME_WAIT, S.SYN_RECV):
        return p["no_owner"]
    if st == S.FIN_WAIT2:
        return p["orphan_fw2"]
    if st in _ORPHAN_STATES:
        return p["orphan_retries"]
    if st not in _ACCEPT_QUEUE_STATES:
        return p["no_fd"]
    queued, lst = _queued_on(sock, snap)
    if queued is None:
        return p["no_listener_info"]
    if not queued:
        return p["no_listener"].format(local=sock.local_ep)
    lowner = ""
    if lst is not None and lst.owner is not None:
        lowner = p["listener_owner"].format(process=lst.owner.name, pid=lst.owner.pid)
    where = fmt_endpoint(lst.local, lst.lport) if lst is not None else sock.local_ep
    text = p["not_accepted"].format(listener=where, lowner=lowner)
    return text + p["space"] + p["not_accepted_cw"] if st == S.CLOSE_WAIT else text


def _queues_text(sock: Socket, lang: str) -> str:
    p = PHRASES[lang]
    st = sock.state
    if st == S.LISTEN:  # kernel-facts 3: rqueue = queued, wqueue = limit; 7b: limit + 1
        return p["listen_queue"].format(rq=sock.rqueue, wq=sock.wqueue, max=sock.wqueue + 1)
    if st in (S.TIME_WAIT, S.SYN_RECV) or sock.timer == _TIMER_MINISOCKET:
        return ""  # minisockets and request sockets have no queues
    if st == S.CLOSE_WAIT:  # kernel-facts 7b: the FIN counts as 1 byte until consumed
        if sock.rqueue == 0:
            meaning = p["cw_eof_read"]
        elif sock.rqueue == 1:
            meaning = p["cw_eof_unread"]
        else:
            meaning = p["cw_data_unread"].format(data=sock.rqueue - 1)
        return p["cw_queue"].format(rq=sock.rqueue, meaning=meaning)
    if st in _OUR_FIN_UNACKED and sock.wqueue == 1:
        return p["queues_fin_only"].format(rq=sock.rqueue)
    if st in _OUR_FIN_UNACKED and sock.wqueue > 1:
        data = sock.wqueue - 1
        text = p["queues_fin"].format(rq=sock.rqueue, wq=sock.wqueue, data=data)
        if data:
            text += p["space"] + p["fin_queued"].format(data=data)
        return text
    return p["queues"].format(rq=sock.rqueue, wq=sock.wqueue)


def explain_socket(
    sock: Socket,
    snapshot: Snapshot | None = None,
    lang: str = "en",
    info: TcpInfo | None = None,
    elapsed_ms: int = 0,
) -> Explanation:
    """Explain one socket: role, handshake step, wait, timer, reuse, normal vs problem, and
    its tcp_info when given (``Collector.tcp_info``).

    ``snapshot`` supplies the sysctls and the listeners (to tell a not-yet-accepted socket from
    other descriptor-less ones); ``elapsed_ms`` is the time since ``sock`` was read, so timers
    count down and a minisocket whose timer ran out is explained as gone."""
    p = PHRASES[lang]
    text = STATE_TEXT[lang][sock.state]
    st = sock.state
    role = ROLE[st]
    left_ms = sock.expires_ms - elapsed_ms
    gone = sock.timer == _TIMER_MINISOCKET and left_ms <= 0
    steps = _steps(sock, role)
    happened, direction = _happened(sock, steps, p)
    armed_ms = int(TIME_WAIT_S * 1000) - left_ms
    return Explanation(
        state=st,
        role=role,
        role_text=text["role"],
        direction=direction,
        local=sock.local_ep,
        remote=sock.remote_ep,
        steps=tuple(steps),
        happened=happened,
        waits=p["gone_waits"] if gone else text["waits"],
        next=p["gone_next"] if gone else text["next"],
        timer=_timer_text(sock, snapshot, left_ms, lang),
        reuse=_reuse_text(sock, snapshot, armed_ms, lang)
        if st == S.TIME_WAIT and not gone
        else None,
        owner="" if gone else _owner_text(sock, snapshot, lang),
        queues="" if gone else _queues_text(sock, lang),
        tcp_info=None if info is None or st in _NO_TCP_INFO else _tcp_info_text(info, lang),
        normal=text["normal"],
        problem=text["problem"],
        action=text["action"],
        lang=lang,
    )


def _steps(sock: Socket, role: str) -> list[Step]:
    """The close handshake's four segments with this socket's status of each."""
    st = sock.state
    steps: list[Step] = []
    if st in STEP_STATUS:
        we_are_a = role == "active"
        for i, ((who, seg), status) in enumerate(zip(CLOSE_STEPS, STEP_STATUS[st], strict=True)):
            from_local = (who == "A") == we_are_a
            if seg == "FIN" and from_local and st in _OUR_FIN_UNACKED and _fin_may_wait(sock):
                status = "queued"  # kernel-facts 7b: the FIN is queued behind unsent data
            steps.append(Step(i + 1, seg, from_local, status))
    return steps


def _happened(sock: Socket, steps: list[Step], p: dict[str, str]) -> tuple[str, str]:
    """What has happened so far, and the socket's direction, in words."""
    if sock.state == S.LISTEN:
        return "", p["listening"]
    done = [f"{'→' if s.from_local else '←'} {s.segment}" for s in steps if s.status == "done"]
    happened = (
        p["happened"].format(steps=p["list_sep"].join(done)) if done else p["nothing_happened"]
    )
    if sock.inbound is None:
        return happened, p["unknown_dir"]
    return happened, p["inbound"] if sock.inbound else p["outbound"]


def _tcp_info_text(info: TcpInfo, lang: str) -> str:
    p = PHRASES[lang]
    unknown = p["unknown_old_kernel"]
    return p["tcp_info"].format(
        rtt=f"{info.rtt_ms:.3f}",
        rttvar=f"{info.rttvar_ms:.3f}",
        rto=f"{info.rto_ms:.0f}",
        cwnd=info.cwnd,
        unacked=info.unacked,
        retrans=info.retrans_total,
        acked=unknown if info.bytes_acked is None else info.bytes_acked,
        received=unknown if info.bytes_received is None else info.bytes_received,
        sent=fmt_ms(info.last_data_sent_ms, lang),
        recv=fmt_ms(info.last_data_recv_ms, lang),
    )


def _fin_may_wait(sock: Socket) -> bool:
    """Our FIN may still be queued: data before it is not yet acknowledged (wqueue counts the
    FIN as 1), or the peer's window is closed (timer 4, persist)."""
    return sock.wqueue > 1 or sock.timer == 4


#: Below this many columns the handshake's two ends are titled on lines of their own.
COMPACT_BELOW = 70


def render_handshake(exp: Explanation, width: int = WIDTH) -> str:
    """The four-segment close handshake with this host on the left, in ``width`` columns: the
    ends side by side from COMPACT_BELOW columns, else one per line and shorter arrows."""
    p = PHRASES[exp.lang]
    left_title = f"{p['this_host']} {exp.local}"
    right_title = f"{p['peer']} {exp.remote}"
    we = p["paren"].format(text=p["active"] if exp.role == "active" else p["passive"])
    they = p["paren"].format(text=p["passive"] if exp.role == "active" else p["active"])
    # a step line is 2 + 1 + 2 + (3 + 1 + arrow + 1 + 4) + 2 + status (<= 10 columns)
    arrow_len = max(10, min(30, width - 26))
    gap = arrow_len + 14  # the column where the peer's end is, 4 past the arrowheads
    if width >= COMPACT_BELOW:
        lines = [_pad(left_title, gap) + right_title, _pad(we, gap) + they]
    else:
        ends = _wrap(f"{left_title} {we}", width) + "\n" + _wrap(f"{right_title} {they}", width)
        lines = [*ends.split("\n"), _pad(p["this_host"], gap) + p["peer"]]
    status_word = {
        "done": p["step_done"],
        "waiting": p["step_wait"],
        "next": p["step_next"],
        "queued": p["step_queued"],
        "pending": "",
    }
    for s in exp.steps:
        arrow = "-" * arrow_len
        seg = s.segment
        body = f"{seg} {arrow}>    " if s.from_local else f"    <{arrow} {seg}"
        mark = ">>" if s.status in ("waiting", "next", "queued") else "  "
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
    tuples = (
        keys.tuples_of(row.key, snapshot.ports.tuples)
        if row.key is not None
        else [t for t in snapshot.ports.tuples if t.dst == row.peer]  # a row built by hand
    )
    for state in (S.TIME_WAIT, S.CLOSE_WAIT, S.FIN_WAIT2, S.ESTABLISHED, S.SYN_RECV, S.LAST_ACK):
        n = row.count(state)
        if not n:
            continue
        role = ROLE[state]
        closer = {"active": p["closer_us"], "passive": p["closer_peer"]}.get(role, p["closer_none"])
        group = row.key.group if row.key is not None else snapshot.group
        if group == "lport":  # a local port is not where the connections go or come from
            prep = p["on_lport"]
        elif group == "process":
            prep = p["held_by"]
        else:
            prep = p["to"] if row.outbound >= row.inbound else p["from"]
        text = p["peer_summary"].format(
            count=n, state=state.name, prep=prep, peer=row.peer, closer=closer
        )
        if state == S.TIME_WAIT and tuples:
            worst = max(tuples, key=lambda t: t.ratio)
            full = [t for t in tuples if not t.demand_known]
            if full:  # FULL: the TIME_WAIT rate is how fast ports free up (as the gauge says)
                text += p["clause_sep"] + port_demand(full[0], lang)
            else:  # the gauge's number: new connections per second, smoothed and scaled
                rate = per_s(sum(t.demand_per_s for t in tuples))
                text += p["clause_sep"] + p["per_s"].format(rate=rate)
            text += p["clause_sep"] + p["tuple_share"].format(pct=f"{worst.ratio * 100:.0f}")
        lines.append(text)
    return lines


def render_state_card(state: S, lang: str = "en") -> str:
    """The reference card for one state (``twtop explain STATE``)."""
    p = PHRASES[lang]
    text = STATE_TEXT[lang][state]
    role = ROLE[state]
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
