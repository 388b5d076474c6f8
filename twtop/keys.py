"""Canonical keys and what follows from them: labels, kernel filters, the listeners index.

The aggregator emits canonical keys (``PeerKey`` for peer groups, ``TupleKey`` for outbound port
tuples); everything a person or the kernel needs is derived from them here, once: the label a
table shows, the kernel filter (state mask + INET_DIAG bytecode) selecting a group's sockets, and
the join of a peer group to its port tuples.
"""

from __future__ import annotations

import heapq
import socket
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from twtop import bytecode as bc
from twtop import wire
from twtop.filter import Node, Plan, evaluate
from twtop.model import NO_OWNER, PeerKey, PortTuple, Socket
from twtop.states import MASK_ALL, TcpState
from twtop.text import endpoint

AF_INET, AF_INET6 = socket.AF_INET, socket.AF_INET6
MAPPED = b"\0" * 10 + b"\xff\xff"  # the prefix of an IPv4-mapped IPv6 address
NO_OWNER_LABEL = "(no owner)"

#: States a process can hold a file descriptor of and that a peer list shows: not TIME_WAIT and
#: request sockets (inode 0 always), not LISTEN (listeners are not peers). A Fast Open child
#: accepted while still in SYN_RECV is left out too (it leaves SYN_RECV within one RTT).
OWNABLE_MASK = MASK_ALL & ~sum(1 << s for s in (TcpState.TIME_WAIT, TcpState.SYN_RECV,
                                                TcpState.LISTEN))  # fmt: skip

#: The order of sockets in every listing: the states that need a person's attention first.
ATTENTION = (
    TcpState.CLOSE_WAIT, TcpState.FIN_WAIT2, TcpState.LAST_ACK, TcpState.FIN_WAIT1,
    TcpState.CLOSING, TcpState.SYN_RECV, TcpState.SYN_SENT, TcpState.TIME_WAIT,
    TcpState.ESTABLISHED, TcpState.LISTEN, TcpState.CLOSE,
)  # fmt: skip
_RANK = {int(s): i for i, s in enumerate(ATTENTION)}
_NOT_LISTEN = MASK_ALL & ~(1 << TcpState.LISTEN)


def row_urgency(r: wire.Row) -> tuple[int, int, bytes, int, bytes, int]:
    """Sort key of a decoded row, most urgent first: attention order of its state, then remote
    address and port, local address and port (raw, so 9.x sorts before 10.x)."""
    return (_RANK.get(r[wire.R_STATE], len(ATTENTION)), r[wire.R_FAMILY], r[wire.R_DST],
            wire.port(r[wire.R_DPORT]), r[wire.R_SRC], wire.port(r[wire.R_SPORT]))  # fmt: skip


def socket_urgency(s: Socket) -> int:
    """The attention rank of a Socket's state (0: look at it first)."""
    return _RANK.get(int(s.state), len(ATTENTION))


def canonical_addr(family: int, raw: bytes) -> tuple[int, bytes]:
    """(family, address bytes) of a 16-byte sockid address: 4 bytes for IPv4, IPv4-mapped IPv6
    folded into IPv4 (ss shows it so, and the kernel's IPv4 filters match it)."""
    if family == AF_INET6:
        if raw[:12] == MAPPED:
            return AF_INET, bytes(raw[12:16])
        return AF_INET6, bytes(raw[:16])
    return AF_INET, bytes(raw[:4])


def addr_text(family: int, addr: bytes) -> str:
    """The text of a canonical address."""
    return socket.inet_ntop(family, addr)


class TupleKey(NamedTuple):
    """An outbound port tuple: (family, source address, destination address, destination port),
    addresses canonical."""

    family: int
    src: bytes
    dst: bytes
    dport: int

    def parts(self) -> tuple[str, str, int]:
        """(source, destination, port) as text."""
        return addr_text(self.family, self.src), addr_text(self.family, self.dst), self.dport


def label(key: PeerKey) -> str:
    """What a table shows for a peer group."""
    if key.group == "ip":
        return addr_text(key.family, key.addr)
    if key.group == "ipport":
        return endpoint(addr_text(key.family, key.addr), key.port)
    if key.group == "lport":
        return str(key.port)
    return NO_OWNER_LABEL if key.pid == NO_OWNER else str(key.pid)


@dataclass(frozen=True, slots=True)
class KernelFilter:
    """What the kernel can select of a peer group: a state mask and an INET_DIAG program. The
    process grouping selects by owner afterwards (``pid``; NO_OWNER: sockets no process holds)."""

    mask: int
    bytecode: bytes
    pid: int | None = None


def kernel_filter(key: PeerKey) -> KernelFilter:
    """The kernel filter of a peer group's sockets (before the active filter is added).
    Listeners are in no peer group (the aggregator leaves them out): never in the mask."""
    if key.group in ("ip", "ipport"):
        port = key.port if key.group == "ipport" else -1
        prog = bc.hostcond(bc.D_COND, key.family, key.addr, len(key.addr) * 8, port)
        return KernelFilter(_NOT_LISTEN, prog)
    if key.group == "lport":
        return KernelFilter(_NOT_LISTEN, bc.port_only(bc.S_COND, key.port))
    if key.pid == NO_OWNER:
        return KernelFilter(_NOT_LISTEN, b"", NO_OWNER)
    return KernelFilter(OWNABLE_MASK, b"", key.pid)


def tuples_of(key: PeerKey, tuples: tuple[PortTuple, ...]) -> tuple[PortTuple, ...]:
    """The outbound port tuples of a peer group: those towards its address (and port, under
    ``ipport``). Local-port and process groups have none (a tuple is keyed by destination)."""
    if key.group not in ("ip", "ipport"):
        return ()
    dst = addr_text(key.family, key.addr)
    return tuple(t for t in tuples if t.dst == dst and (key.group == "ip" or t.dport == key.port))


RowTest = Callable[[wire.Row], bool]


def owner_inode_test(pid: int, pid_of: dict[int, int]) -> Callable[[int], bool]:
    """The process part of a process group's filter, on inodes: held by ``pid`` (NO_OWNER: by no
    known process, inode 0 included)."""
    if pid == NO_OWNER:
        return lambda inode: inode not in pid_of
    mine = {i for i, p in pid_of.items() if p == pid}
    return mine.__contains__


def owner_test(pid: int, pid_of: dict[int, int]) -> RowTest:
    """The same on decoded rows."""
    test = owner_inode_test(pid, pid_of)
    return lambda r: test(r[wire.R_INODE])


def group_selection(
    key: PeerKey, plan: Plan, pid_of: dict[int, int]
) -> tuple[int, bytes, Callable[[int], bool] | None]:
    """What selects a peer group's sockets under the active filter: (state mask, INET_DIAG
    program, the owner test on inodes of a process group or None)."""
    kf = kernel_filter(key)
    keep = None if kf.pid is None else owner_inode_test(kf.pid, pid_of)
    return plan.mask & kf.mask, bc.all_of(plan.bytecode, kf.bytecode), keep


def python_accepts(node: Node, r: wire.Row) -> bool:
    """The Python part of a filter (state terms under or/not) on one decoded row."""
    return evaluate(
        node, r[wire.R_FAMILY], r[wire.R_STATE], r[wire.R_SRC], wire.port(r[wire.R_SPORT]),
        r[wire.R_DST], wire.port(r[wire.R_DPORT]),
    )  # fmt: skip


def kernel_accepts(plan: Plan, family: int, r: wire.Row) -> bool:
    """What the kernel filter (and the Python part) would do with a row read by another dump
    (listeners come from their own LISTEN dump)."""
    if plan.bytecode and not bc.run(
        plan.bytecode, family, r[wire.R_SRC], wire.port(r[wire.R_SPORT]), r[wire.R_DST],
        wire.port(r[wire.R_DPORT]),
    ):  # fmt: skip
        return False
    return plan.node is None or python_accepts(plan.node, r)


class Listeners:
    """Listening sockets, and the test that calls a socket inbound."""

    def __init__(self) -> None:
        self.wild: set[int] = set()  # raw ports listened on 0.0.0.0 / ::
        self.ports: set[int] = set()  # every raw listening port
        self.port_bytes: list[bytes] = []  # the same, as their two bytes on the wire
        self.specific: set[tuple[bytes, int]] = set()  # (raw 16-byte address, raw port)
        self.specific_v4: set[tuple[int, int]] = set()  # the IPv4 ones as (address word, port)
        self.rows: list[tuple[int, wire.Row]] = []

    def add(self, family: int, row: wire.Row) -> None:
        """Record one LISTEN row."""
        self.rows.append((family, row))
        addr, sport = row[wire.R_SRC], row[wire.R_SPORT]
        if sport not in self.ports:
            self.ports.add(sport)
            self.port_bytes.append(wire.port(sport).to_bytes(2, "big"))
        if addr == bytes(16) or addr == MAPPED + bytes(4):
            self.wild.add(sport)
        else:
            self.specific.add((addr, sport))
            if family == AF_INET:
                self.specific_v4.add((int.from_bytes(addr[:4], sys.byteorder), sport))

    def is_inbound(self, src: bytes, sport: int) -> bool:
        """A socket is inbound when its local port is listened on, on its address or the
        wildcard."""
        return sport in self.wild or (src, sport) in self.specific


class AddrCache:
    """Raw 16-byte sockid address -> text, IPv4-mapped IPv6 shown as IPv4 (as ss does)."""

    def __init__(self) -> None:
        self._cache: dict[bytes, str] = {}

    def __call__(self, raw: bytes, family: int) -> str:
        key = raw if family == AF_INET6 else raw[:4]
        text = self._cache.get(key)
        if text is None:
            text = self._cache[key] = addr_text(*canonical_addr(family, raw))
        return text


__all__ = [
    "ATTENTION",
    "AddrCache",
    "KernelFilter",
    "Listeners",
    "NO_OWNER",
    "OWNABLE_MASK",
    "TupleKey",
    "canonical_addr",
    "kernel_filter",
    "label",
    "tuples_of",
]


def most_urgent(
    chunks: Iterable[list[wire.Row]], node: Node | None, keep: RowTest | None, limit: int | None
) -> list[wire.Row]:
    """The rows of a dump that the filter's Python part (``node``) and ``keep`` accept, most
    urgent first, at most ``limit``. With a limit only the most urgent 2 x limit rows (at least
    1024) survive each chunk: memory is one chunk plus those, whatever the group's size."""
    rows: list[wire.Row] = []
    bound = None if limit is None else max(2 * limit, 1024)
    for chunk in chunks:
        if node is not None:
            chunk = [r for r in chunk if python_accepts(node, r)]
        rows += chunk if keep is None else filter(keep, chunk)
        if bound is not None and len(rows) > bound:
            rows = heapq.nsmallest(limit or 0, rows, key=row_urgency)
    if limit is not None and len(rows) > limit:
        return heapq.nsmallest(limit, rows, key=row_urgency)
    rows.sort(key=row_urgency)
    return rows
