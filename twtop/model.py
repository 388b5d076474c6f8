"""The Snapshot model: frozen, slotted dataclasses built from decoded rows; no I/O, no UI."""

from __future__ import annotations

import functools
import socket as _socket
from dataclasses import dataclass, field, replace
from typing import Any

from twtop.identity import display
from twtop.ports import PortBudget, SourceView
from twtop.ports import PortTuple as PortTuple  # re-exported: the model of one tuple
from twtop.states import ALL_STATES, TcpState, timer_name
from twtop.text import endpoint

SCHEMA = 1

#: TCP_TIMEWAIT_LEN (include/net/tcp.h): a fixed 60 s, not 2 x MSL, not tunable by any sysctl.
TIME_WAIT_S = 60.0

#: A CLOSE_WAIT seen this long (by its cookie, across polls) is counted as aged: a healthy
#: application closes within milliseconds of reading the peer's FIN.
CLOSE_WAIT_AGED_S = 30.0

#: ``addr:port`` as ss prints it; defined in twtop.text, kept here for the engine's imports.
fmt_endpoint = endpoint

GROUPS = ("ip", "ipport", "lport", "process")
GROUP_TITLES = {
    "ip": "remote IP",
    "ipport": "remote IP:port",
    "lport": "local port",
    "process": "process",
}


@dataclass(frozen=True, slots=True)
class Owner:
    """The process that holds a socket's file descriptor.

    ``name`` is the name twtop shows: the service (an interpreter's script or module, else the
    program; see twtop/identity.py); ``comm`` is the kernel's name for it (``python3``), ``unit``
    its systemd service and ``container`` its short container id, when it has them.
    """

    pid: int
    name: str
    user: str
    comm: str | None = None
    unit: str | None = None
    container: str | None = None

    @property
    def display(self) -> str:
        """``name[pid]``, e.g. ``orders-api.py[4242]``."""
        return display(self.name, self.pid)

    def fit(self, width: int) -> str:
        """``name[pid]`` in ``width`` columns at most: the name elided mid-way, never the PID."""
        return display(self.name, self.pid, width)

    def to_dict(self) -> dict[str, Any]:
        """The identity fields added to a socket's or listener's JSON (beside pid and process)."""
        return {
            "owner": self.display,
            "comm": self.comm,
            "unit": self.unit,
            "container": self.container,
        }


#: The owner fields of a JSON object whose owner is unknown.
NO_OWNER_FIELDS: dict[str, Any] = {"owner": None, "comm": None, "unit": None, "container": None}


@dataclass(frozen=True, slots=True)
class Socket:
    """One TCP socket as sock_diag reports it (field names follow `ss -tano` and inet_diag_msg)."""

    family: int
    state: TcpState
    local: str
    lport: int
    remote: str
    rport: int
    timer: int
    expires_ms: int
    retrans: int
    rqueue: int
    wqueue: int
    uid: int
    inode: int
    cookie: int
    inbound: bool | None = None
    owner: Owner | None = None
    #: The process that held this socket when twtop last saw it live (found by cookie), for a
    #: socket no process holds now: a TIME_WAIT or an orphan. None: not seen live, or owned.
    made_by: Owner | None = None

    @property
    def key(self) -> str:
        """A stable identity for tables: the kernel's socket cookie."""
        return f"{self.cookie:x}"

    def aged(self, elapsed_ms: int) -> Socket:
        """This socket as it is ``elapsed_ms`` after it was read: its timer counted down."""
        if not self.timer or elapsed_ms <= 0:
            return self
        return replace(self, expires_ms=max(0, self.expires_ms - elapsed_ms))

    @property
    def local_ep(self) -> str:
        """Local address:port."""
        return fmt_endpoint(self.local, self.lport)

    @property
    def remote_ep(self) -> str:
        """Remote address:port."""
        return fmt_endpoint(self.remote, self.rport)

    @property
    def timer_name(self) -> str:
        """The timer kind as `ss -o` names it."""
        return timer_name(self.timer)

    @property
    def orphan(self) -> bool:
        """True when no file descriptor holds a full socket (the application has closed it)."""
        return self.inode == 0 and self.state not in (TcpState.TIME_WAIT, TcpState.SYN_RECV)

    @property
    def ipv6(self) -> bool:
        """True for an AF_INET6 socket that is not IPv4-mapped."""
        return self.family == _socket.AF_INET6 and ":" in self.local

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "family": "ipv6" if self.family == _socket.AF_INET6 else "ipv4",
            "state": self.state.name,
            "local": self.local_ep,
            "remote": self.remote_ep,
            "timer": self.timer_name,
            "expires_ms": self.expires_ms,
            "retrans": self.retrans,
            "rqueue": self.rqueue,
            "wqueue": self.wqueue,
            "uid": self.uid,
            "inode": self.inode,
            "cookie": self.cookie,
            "inbound": self.inbound,
            "pid": self.owner.pid if self.owner else None,
            "process": self.owner.name if self.owner else None,
            **(self.owner.to_dict() if self.owner else NO_OWNER_FIELDS),
            "made_by_pid": self.made_by.pid if self.made_by else None,
        }


def _round3(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def state_dict(counts: dict[TcpState, int]) -> dict[str, int]:
    """All 11 states by name, zeros included, in kernel order."""
    return {s.name: counts.get(s, 0) for s in ALL_STATES}


#: PeerKey.pid of the process grouping's "(no owner)" group: sockets no known process holds.
NO_OWNER = -1


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class PeerKey:
    """What a peer group is, in raw parts (the engine derives its label and kernel filter).

    ``group`` is the grouping mode. ``ip``: ``family`` and ``addr`` (raw bytes, 4 for IPv4 -- an
    IPv4-mapped IPv6 address counts as IPv4 -- or 16); ``ipport``: the same plus the remote
    ``port``; ``lport``: the local ``port``; ``process``: ``pid`` (NO_OWNER: no known process).
    Keys order by their raw parts: 9.x before 10.x, IPv4 before IPv6, ports and pids numerically,
    "(no owner)" last.
    """

    group: str
    family: int = 0
    addr: bytes = b""
    port: int = 0
    pid: int = NO_OWNER

    def _rank(self) -> tuple[str, int, int, bytes, int, int]:
        return (self.group, self.family, len(self.addr), self.addr, self.port,
                self.pid if self.pid != NO_OWNER else 1 << 31)  # fmt: skip

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PeerKey):
            return NotImplemented
        return self._rank() < other._rank()


@dataclass(frozen=True, slots=True)
class PeerRow:
    """One group of sockets (a remote IP, IP:port, local port or process) with per-state counts."""

    peer: str
    total: int
    states: dict[TcpState, int]
    inbound: int
    outbound: int
    processes: tuple[str, ...] = ()
    #: The group's identity (set by the engine; None only in rows built by hand, e.g. fixtures).
    key: PeerKey | None = None

    def count(self, state: TcpState) -> int:
        """How many sockets of this group are in ``state``."""
        return self.states.get(state, 0)

    @property
    def listed(self) -> int:
        """How many sockets ``Collector.peer_sockets(row)`` lists: all of them (listeners are in
        no peer group; a hand-built process row's LISTEN count is left out)."""
        if self.key is not None and self.key.group == "process":
            return self.total - self.count(TcpState.LISTEN)
        return self.total

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "peer": self.peer,
            "total": self.total,
            "states": {s.name: n for s, n in self.states.items() if n},
            "inbound": self.inbound,
            "outbound": self.outbound,
            "processes": list(self.processes),
        }


@dataclass(frozen=True, slots=True)
class PortUsage:
    """The ephemeral port range, what connect() may pick from it, and the worst outbound tuples
    (the port model: twtop.ports)."""

    low: int
    high: int
    reserved: int  # reserved ports inside the range
    tuples: tuple[PortTuple, ...]
    tuples_total: int
    time_wait_total: int | None = None  # outbound TIME_WAIT of every tuple, kept or not
    budget: PortBudget | None = None  # available and its parts (None: bound ports not known)
    sources: tuple[SourceView, ...] = ()  # per source IP, where bind() is the tighter limit

    @property
    def size(self) -> int:
        """Ports in ip_local_port_range."""
        return max(0, self.high - self.low + 1)

    @property
    def bound(self) -> int | None:
        """Ports in the range held by bind()-ed sockets (None: not known)."""
        return None if self.budget is None else self.budget.bound

    @property
    def available(self) -> int:
        """Ports connect() may choose for one tuple: range - reserved - bound."""
        if self.budget is not None:
            return self.budget.available
        return max(0, self.size - self.reserved)

    @property
    def worst_ratio(self) -> float:
        """The highest blocking/available ratio of any tuple."""
        return max((t.ratio for t in self.tuples), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "range": [self.low, self.high],
            "reserved": self.reserved,
            "bound": self.bound,
            "available": self.available,
            "budget": None if self.budget is None else self.budget.to_dict(),
            "tuples": [t.to_dict() for t in self.tuples],
            "tuples_total": self.tuples_total,
            "time_wait_total": self.time_wait_total,
            "worst_ratio": round(self.worst_ratio, 6),
            "sources": [v.to_dict() for v in self.sources],
        }


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """Sockets owned by one process, by state."""

    pid: int
    name: str
    user: str
    states: dict[TcpState, int]
    comm: str | None = None  # the kernel's name; name is the service (see Owner)
    unit: str | None = None
    container: str | None = None

    @property
    def total(self) -> int:
        """All sockets of this process."""
        return sum(self.states.values())

    @property
    def display(self) -> str:
        """``name[pid]``, e.g. ``orders-api.py[4242]``."""
        return display(self.name, self.pid)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "pid": self.pid,
            "name": self.name,
            "user": self.user,
            "states": {s.name: n for s, n in self.states.items() if n},
            "owner": self.display,
            "comm": self.comm,
            "unit": self.unit,
            "container": self.container,
        }


@dataclass(frozen=True, slots=True)
class Churn:
    """How fast TIME_WAITs are being made."""

    window_s: float  # the timer window: TIME_WAITs with more than 60 s - window left are new
    tw_per_s_timers: float  # from TIME_WAIT timers (needs no history)
    tw_per_s_counter: float | None  # from the TW + TWKilled counters between polls
    tw_per_s_delta: float | None  # from the change in the TIME_WAIT count between polls

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "window_s": self.window_s,
            "tw_per_s_timers": _round3(self.tw_per_s_timers),
            "tw_per_s_counter": _round3(self.tw_per_s_counter),
            "tw_per_s_delta": _round3(self.tw_per_s_delta),
        }


@dataclass(frozen=True, slots=True)
class Listener:
    """A listening socket with its accept queue (rqueue = queued, wqueue = backlog limit)."""

    local: str
    lport: int
    queued: int
    backlog: int
    owner: Owner | None
    syn_recv: int | None = None  # request sockets on this listener (None: not counted)
    unaccepted_close_wait: int | None = None  # CLOSE_WAITs in its accept queue (inode 0)
    #: TIME_WAITs of inbound connections on this listener's port, whatever its address (None:
    #: not counted); a TIME_WAIT keeps its local port, so these are the connections this
    #: service closed first.
    tw_on_port: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "local": fmt_endpoint(self.local, self.lport),
            "queued": self.queued,
            "backlog": self.backlog,
            "syn_recv": self.syn_recv,
            "unaccepted_close_wait": self.unaccepted_close_wait,
            "time_wait_on_port": self.tw_on_port,
            "pid": self.owner.pid if self.owner else None,
            "process": self.owner.name if self.owner else None,
            **(self.owner.to_dict() if self.owner else NO_OWNER_FIELDS),
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything twtop knows after one poll."""

    taken_at: float
    host: str
    kernel: str
    netns: str | None
    collect_ms: float
    filter: str | None
    group: str
    states: dict[TcpState, int]
    ipv4: int
    ipv6: int
    peers: tuple[PeerRow, ...]
    peers_total: int
    ports: PortUsage
    churn: Churn
    sysctl: dict[str, str | None]
    counters: dict[str, int]
    rates: dict[str, float]  # per-second deltas of counters since the previous poll
    state_rates: dict[TcpState, float]  # per-second change of each state count
    processes: tuple[ProcessRow, ...]
    listeners: tuple[Listener, ...]
    notes: tuple[str, ...]
    malformed: int = 0
    interval_s: float | None = None
    sockets: tuple[Socket, ...] = field(default=())
    close_wait_oldest_s: float | None = None  # since twtop first saw it (by socket cookie)
    close_wait_aged: int | None = 0  # seen for CLOSE_WAIT_AGED_S or longer (None: not known)
    close_wait_unread: int = 0  # CLOSE_WAITs with unread bytes in the receive queue
    cpu_budget: float | None = None  # percent of one core the collector may use (None: no limit)
    detail_age_s: float = 0.0  # age of peers, processes, port tuples, IPv4/IPv6 split (budget.py)
    #: Percent of one core the collector used over the last minute, everything it spends (counts,
    #: detail, drill-down), and whether the counts and the rest alone exceed ``cpu_budget``.
    cpu_used_pct: float | None = None
    cpu_over: bool = False
    #: Of ``tw_counted`` TIME_WAITs (the detail poll's), how many twtop attributed to the process
    #: that made them, having seen their sockets live (by cookie: procs.CookieOwners).
    tw_attributed: int = 0
    tw_counted: int = 0

    @property
    def total(self) -> int:
        """All sockets counted."""
        return sum(self.states.values())

    def count(self, state: TcpState) -> int:
        """Sockets in ``state``."""
        return self.states.get(state, 0)

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """The stable JSON document (schema 1), lists cut to ``top`` entries when given."""

        def cut(xs: tuple[Any, ...]) -> tuple[Any, ...]:
            return xs if top is None else xs[:top]

        return {
            "schema": SCHEMA,
            "taken_at": self.taken_at,
            "host": self.host,
            "kernel": self.kernel,
            "netns": self.netns,
            "collect_ms": round(self.collect_ms, 3),
            "filter": self.filter,
            "group": self.group,
            "total": self.total,
            "ipv4": self.ipv4,
            "ipv6": self.ipv6,
            "states": state_dict(self.states),
            "state_rates": {s.name: round(v, 3) for s, v in self.state_rates.items()},
            "peers": [p.to_dict() for p in cut(self.peers)],
            "peers_total": self.peers_total,
            "ports": {
                **self.ports.to_dict(),
                "tuples": [t.to_dict() for t in cut(self.ports.tuples)],
            },
            "churn": self.churn.to_dict(),
            "sysctl": dict(self.sysctl),
            "counters": dict(self.counters),
            "rates": {k: round(v, 3) for k, v in self.rates.items()},
            "processes": [p.to_dict() for p in cut(self.processes)],
            "listeners": [x.to_dict() for x in cut(self.listeners)],
            "close_wait": {
                "oldest_s": None
                if self.close_wait_oldest_s is None
                else round(self.close_wait_oldest_s, 1),
                "aged": self.close_wait_aged,
                "unread": self.close_wait_unread,
            },
            "notes": list(self.notes),
            "malformed": self.malformed,
            "time_wait_attribution": {
                "attributed": self.tw_attributed,
                "time_wait": self.tw_counted,
            },
            "cpu_budget_pct": self.cpu_budget,
            "detail_age_s": round(self.detail_age_s, 1),
        }
