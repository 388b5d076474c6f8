"""Listen queues from a listener's side: request sockets (SYN_RECV) and connections still waiting
in its accept queue, matched to the listener by local address:port.

Not-yet-accepted connections have inode 0 because no file exists yet (kernel-facts 7b); their
local address:port is the listener's. A CLOSE_WAIT among them is a peer that gave up waiting:
the application stopped calling accept(), which is not a CLOSE_WAIT leak.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from twtop.model import Listener, Socket
from twtop.states import TcpState
from twtop.wire import R_INODE, R_SPORT, R_STATE, Row, port

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
