"""Listen queues from a listener's side: request sockets (SYN_RECV) and connections still waiting
in its accept queue, matched to the listener by local address:port.

Not-yet-accepted connections have inode 0 because no file exists yet (kernel-facts 7b); their
local address:port is the listener's. A CLOSE_WAIT among them is a peer that gave up waiting:
the application stopped calling accept(), which is not a CLOSE_WAIT leak.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace

from twtop import keys
from twtop.filter import Plan, compile_filter
from twtop.model import Listener, Socket
from twtop.states import MASK_ALL, TcpState
from twtop.wire import OFF_INODE, OFF_STATE, R_INODE, R_SPORT, R_STATE, Row, port, unpack_rows

Dump = Callable[[int, bytes], Iterable[list[Row]]]
#: Rows kept during a walk for the listen queues (None: not collected).
Keep = list[Row] | None

#: The wildcard addresses a listener may be bound to ("::" also takes IPv4 on dual-stack).
_WILD_V4, _WILD_V6 = "0.0.0.0", "::"
#: Listening ports above this many are not spelled out in the kernel filter (a state filter
#: alone is still applied in the kernel).
MAX_FILTER_PORTS = 64
_SYN_RECV, _CLOSE_WAIT = int(TcpState.SYN_RECV), int(TcpState.CLOSE_WAIT)


def queue_filters(listeners: Iterable[Listener]) -> list[str]:
    """The kernel filters that select what ``listener_queues`` needs, as few sockets as
    possible: every request socket (at most about the backlogs, syncookies cap them), and the
    CLOSE_WAITs of the ports whose accept queue is not empty (a not-yet-accepted socket is
    counted in its listener's queue, so an empty queue has none; a CLOSE_WAIT leak of accepted
    sockets, often thousands, is then never decoded)."""
    exprs = ["state syn-recv"]
    ports = sorted({x.lport for x in listeners if x.queued})
    if ports:
        expr = "state close-wait"
        if len(ports) <= MAX_FILTER_PORTS:
            expr += " and (" + " or ".join(f"sport = :{p}" for p in ports) + ")"
        exprs.append(expr)
    return exprs


def queue_rows(listeners: Iterable[Listener], rows: Iterable[Row]) -> list[Row]:
    """What ``queue_filters`` would select, picked from rows of an unfiltered dump that holds
    every SYN_RECV and CLOSE_WAIT (a counts-only poll's): not-yet-accepted sockets (inode 0),
    every SYN_RECV and the CLOSE_WAITs of ports whose accept queue is not empty."""
    ports = {x.lport for x in listeners if x.queued}
    return [
        r for r in rows
        if not r[R_INODE] and (r[R_STATE] == _SYN_RECV
                               or (r[R_STATE] == _CLOSE_WAIT and port(r[R_SPORT]) in ports))
    ]  # fmt: skip


def unfiltered(plan: Plan) -> bool:
    """Whether a walk under ``plan`` holds every socket of every state (so every queue row)."""
    return plan.node is None and not plan.bytecode and plan.mask & MASK_ALL == MASK_ALL


def candidate_rows(rows: Iterable[Row]) -> list[Row]:
    """The rows ``queue_rows`` may want: inode 0 and SYN_RECV or CLOSE_WAIT."""
    return [r for r in rows if not r[R_INODE] and r[R_STATE] in (_SYN_RECV, _CLOSE_WAIT)]


def candidates(buf: bytes, length: int) -> list[Row]:
    """``candidate_rows`` of a uniform receive buffer (messages of ``length`` bytes), found from
    strided slices: a buffer of other states (an ESTABLISHED crowd) decodes nothing."""
    states = buf[OFF_STATE::length]
    if _SYN_RECV not in states and _CLOSE_WAIT not in states:
        return []
    inodes = buf[OFF_INODE::length]  # one byte of each inode: a nonzero one rules it out
    return candidate_rows(
        unpack_rows(buf[i * length : (i + 1) * length], length)[0]
        for i, st in enumerate(states)
        if st in (_SYN_RECV, _CLOSE_WAIT) and not inodes[i]
    )


def pick(buf: bytes, length: int, rows: list[Row] | None) -> list[Row]:
    """The candidates of one chunk of a dump (``Session.chunks``: uniform or decoded)."""
    return candidates(buf, length) if length else candidate_rows(rows or ())


def dumped_queue_rows(dump: Dump, listeners: Iterable[Listener]) -> list[Row]:
    """The rows ``listener_queues`` needs, by the kernel-filtered dumps of ``queue_filters``
    (``dump(states, bytecode)``): what a filtered poll uses, whose own walk may miss them."""
    out: list[Row] = []
    for expr in queue_filters(listeners):
        plan = compile_filter(expr)
        for chunk in dump(plan.mask & MASK_ALL, plan.bytecode):
            out += [r for r in chunk if not r[R_INODE]
                    and (plan.node is None or keys.python_accepts(plan.node, r))]  # fmt: skip
    return out


def _listener_of(sock: Socket, by_addr: set[tuple[str, int]]) -> tuple[str, int] | None:
    """The listener a socket belongs to: the exact address first, as the kernel's lookup does."""
    for key in (
        (sock.local, sock.lport),
        (_WILD_V4 if ":" not in sock.local else _WILD_V6, sock.lport),
        (_WILD_V6, sock.lport),
    ):
        if key in by_addr:
            return key
    return None


def listener_queues(
    listeners: tuple[Listener, ...], sockets: Iterable[Socket]
) -> tuple[Listener, ...]:
    """The listeners with ``syn_recv`` and ``unaccepted_close_wait`` counted from ``sockets``
    (any socket list holding every SYN_RECV, and the CLOSE_WAITs of listeners with a queue)."""
    by_addr = {(x.local, x.lport) for x in listeners}
    syn: Counter[tuple[str, int]] = Counter()
    unaccepted: Counter[tuple[str, int]] = Counter()
    for s in sockets:
        if s.inode or s.state not in (TcpState.SYN_RECV, TcpState.CLOSE_WAIT):
            continue
        key = _listener_of(s, by_addr)
        if key is None:
            continue
        (syn if s.state is TcpState.SYN_RECV else unaccepted)[key] += 1
    return tuple(
        replace(
            x,
            syn_recv=syn[(x.local, x.lport)],
            unaccepted_close_wait=unaccepted[(x.local, x.lport)],
        )
        for x in listeners
    )
