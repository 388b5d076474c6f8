"""The ephemeral-port model: what connect() and bind() have left, per tuple and per source IP.

Pure: sysctl values and counts in, numbers out (kernel-facts 5 and 6).

- connect() without bind() needs a local port free for its own (src IP, dst IP, dst port) tuple.
  It may pick from ``ip_local_port_range`` minus ``ip_local_reserved_ports`` minus every port in
  the range held by a bind()-ed socket (listeners, bound sockets): ``__inet_hash_connect`` skips
  those for every destination. That is the tuple's ``available``, kept with its parts.
- A tuple's port is blocked by its live sockets and by the TIME_WAITs connect() cannot take over.
  When tcp_tw_reuse applies to the tuple (1, or 2 with a loopback source or destination) and
  tcp_timestamps is on, a TIME_WAIT older than tcp_tw_reuse_delay is taken over
  (``tcp_twsk_unique``), so only the younger ones block; otherwise every TIME_WAIT blocks for its
  60 s. The age of a TIME_WAIT is read from its timer: 60 s minus the time left. A TIME_WAIT
  re-armed by a late segment restarts its timer but not its entry stamp, which reuse counts
  from: it looks younger than it is and is counted as blocking although it may not be
  (conservative). Reuse also needs the connection to have negotiated timestamps, which the dump
  does not show: a peer without them keeps its TIME_WAITs blocking.
- A tuple at FULL_RATIO or more of its ports blocked is FULL: a new connect() to it fails now
  with EADDRNOTAVAIL. Below that, the time to full comes from the demand (new connections per
  second to the tuple, from TIME_WAIT timers and the TW counters), smoothed across polls with
  hysteresis so the state does not flip between polls (``PortTracker``).
- Clients that bind(ip, 0) before connect() hold a port for every destination: their limit is
  per source IP, the range minus reserved minus every port held from that address
  (``SourceView``), reached with EADDRINUSE.

Not modelled: sockets bound to a device (SO_BINDTODEVICE). The kernel keys a connection by
4-tuple + bound device, and ``tcp_twsk_unique`` (net/ipv4/tcp_ipv4.c) treats a TIME_WAIT as
loopback under tcp_tw_reuse=2 when ``tw_bound_dev_if == LOOPBACK_IFINDEX`` as well as when either
address is loopback. Measured on 6.18 (a netns with 10.9.0.1/32 on lo, range of 10 ports, 10
TIME_WAITs from sockets bound to "lo" to 10.9.0.1:6000): with tcp_tw_reuse=2 a connect() bound to
lo takes one over (TWRecycled +1), and an unbound connect() succeeds without taking any over (a
device-bound TIME_WAIT never matches an unbound socket: ``inet_bound_dev_eq``); with
tcp_tw_reuse=0 the bound connect() fails with EADDRNOTAVAIL and the unbound one still succeeds.
The reverse does not hold: an unbound socket blocks a device-bound connect() of the same 4-tuple.
A faithful model needs the device in the tuple key (``TupleKey``), in every aggregation path
(the decoded rows carry no ``idiag_if`` today) and in the regime, with a device-bound tuple's
blocking set including its unbound twin's. Until then the TIME_WAIT fast path counts the
TIME_WAITs bound to a device (``wire.OFF_IF``, a C-speed test per buffer) and the Snapshot says
so in a note: such a tuple may be less full than shown (never more).
"""

from __future__ import annotations

import enum
import ipaddress
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from twtop.sysinfo import parse_port_range, parse_reserved

#: TCP_TIMEWAIT_LEN (include/net/tcp.h): a TIME_WAIT holds its tuple for 60 s, fixed.
TIME_WAIT_MS = 60_000
#: tcp_tw_reuse_delay's default; kernels before 6.14 have no sysctl and a fixed 1 s.
DEFAULT_REUSE_DELAY_MS = 1000
#: Share of a tuple's ports blocked at which it is FULL: the last ports free for a moment only
#: (a client retrying takes each one as soon as it frees), so connect() fails now.
FULL_RATIO = 0.98
#: A FULL tuple stays FULL until it has been below FULL_RATIO for this many polls in a row: a
#: saturated tuple frees a port now and then (10/10, 9/10, 10/10) and must read FULL throughout.
FULL_EXIT_POLLS = 3
#: A tuple is FILLING when its demand would hold at least FULL_RATIO of its ports; it stops
#: FILLING only when the demand would hold less than this share of that (hysteresis).
FILLING_EXIT = 0.9
#: Time constant of the demand's exponential smoothing across polls.
DEMAND_TAU_S = 10.0
#: A source IP's bind() view is worth showing from this share of its ports held (and only when
#: it is tighter than its tuples).
SOURCE_NOTABLE_RATIO = 0.5
#: At most this factor between the TW counters and the TIME_WAITs still visible is believed
#: (TIME_WAITs taken over or reset early are counted by the counter, not seen by the timers).
COUNTER_SCALE_MAX = 10.0


class Why(enum.StrEnum):
    """Why a tuple's TIME_WAITs are or are not taken over by connect() (the regime's reason)."""

    REUSE_ON = "tcp_tw_reuse=1"
    REUSE_LOOPBACK = "tcp_tw_reuse=2, loopback"
    REUSE_OFF = "tcp_tw_reuse=0"
    NOT_LOOPBACK = "tcp_tw_reuse=2, not loopback"
    NO_TIMESTAMPS = "tcp_timestamps=0"
    UNKNOWN = "tcp_tw_reuse unknown"


@dataclass(frozen=True, slots=True)
class Regime:
    """How long a TIME_WAIT of one tuple keeps its port from connect(), and why."""

    reuse: bool  # connect() takes over TIME_WAITs older than hold_ms
    hold_ms: int  # tcp_tw_reuse_delay with reuse, else the full 60 s
    why: Why

    @property
    def hold_s(self) -> float:
        """hold_ms in seconds."""
        return self.hold_ms / 1000

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"reuse": self.reuse, "hold_s": self.hold_s, "why": str(self.why)}


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").split()[0])
    except (ValueError, IndexError):
        return None


@lru_cache(maxsize=4096)
def is_loopback(addr: str) -> bool:
    """127.0.0.0/8, ::1 and IPv4-mapped loopback, as ``tcp_twsk_unique`` tests them."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


@lru_cache(maxsize=4)
def _pickable(low: int, high: int, reserved: tuple[tuple[int, int], ...]) -> frozenset[int]:
    ports = set(range(low, high + 1))
    for a, b in reserved:
        ports.difference_update(range(a, b + 1))
    return frozenset(ports)


@dataclass(frozen=True, slots=True)
class PortPolicy:
    """The sysctls that decide how many ports connect() has and when a TIME_WAIT frees one."""

    low: int = 32768
    high: int = 60999
    reserved: tuple[tuple[int, int], ...] = ()  # ip_local_reserved_ports, clipped to the range
    tw_reuse: int | None = 2
    timestamps: int | None = 1
    reuse_delay_ms: int = DEFAULT_REUSE_DELAY_MS
    reuse_delay_sysctl: bool = True  # False: no tcp_tw_reuse_delay (before 6.14), a fixed 1 s

    @classmethod
    def from_sysctl(cls, sysctl: Mapping[str, str | None]) -> PortPolicy:
        """The policy from twtop's sysctl map (short names; None = absent or unreadable)."""
        low, high = parse_port_range(sysctl.get("ip_local_port_range"))
        reserved = tuple(
            (max(a, low), min(b, high))
            for a, b in parse_reserved(sysctl.get("ip_local_reserved_ports"))
            if max(a, low) <= min(b, high)
        )
        delay = _int(sysctl.get("tcp_tw_reuse_delay"))
        return cls(
            low=low, high=high, reserved=reserved, tw_reuse=_int(sysctl.get("tcp_tw_reuse")),
            timestamps=_int(sysctl.get("tcp_timestamps")),
            reuse_delay_ms=DEFAULT_REUSE_DELAY_MS if delay is None else max(1, delay),
            reuse_delay_sysctl=delay is not None,
        )  # fmt: skip

    @property
    def size(self) -> int:
        """Ports in ip_local_port_range."""
        return max(0, self.high - self.low + 1)

    @property
    def reserved_count(self) -> int:
        """Reserved ports inside the range (overlapping entries counted once)."""
        return self.size - len(self.pickable())

    def pickable(self) -> frozenset[int]:
        """The ports connect() and bind(0) may pick before anything is bound: range - reserved
        (a set, so counting what a socket population holds of it is a C-speed intersection)."""
        return _pickable(self.low, self.high, self.reserved)

    def regime(self, src: str, dst: str) -> Regime:
        """Whether connect() from ``src`` to ``dst`` takes over TIME_WAITs, and after how long."""
        off = TIME_WAIT_MS
        if self.tw_reuse is None:
            return Regime(False, off, Why.UNKNOWN)  # conservative: every TIME_WAIT blocks
        if self.tw_reuse == 0:
            return Regime(False, off, Why.REUSE_OFF)
        if self.tw_reuse == 2 and not (is_loopback(src) or is_loopback(dst)):
            return Regime(False, off, Why.NOT_LOOPBACK)
        if self.timestamps == 0:
            return Regime(False, off, Why.NO_TIMESTAMPS)
        why = Why.REUSE_ON if self.tw_reuse == 1 else Why.REUSE_LOOPBACK
        return Regime(True, min(self.reuse_delay_ms, TIME_WAIT_MS), why)

    def young_threshold_ms(self) -> int:
        """A TIME_WAIT with more than this left (expires_ms) is younger than the reuse delay."""
        return TIME_WAIT_MS - min(self.reuse_delay_ms, TIME_WAIT_MS)


def bound_only_dumpable(release: str) -> bool:
    """Whether a kernel (``uname -r``) dumps bound-only sockets (idiag_states bit 13: 6.8+)."""
    try:
        major, minor = (int(x) for x in release.split("-")[0].split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (6, 8)


@dataclass(frozen=True, slots=True)
class Bound:
    """A socket holding a port by bind(): a listener, or a bound-only socket (dump bit 13)."""

    addr: str
    port: int
    listening: bool


@dataclass(frozen=True, slots=True)
class PortBudget:
    """The ports connect() may pick for any tuple, with what was subtracted from the range."""

    size: int  # ports in ip_local_port_range
    reserved: int  # of them in ip_local_reserved_ports
    bound_listen: int  # of the rest, held by listeners
    bound_other: int  # of the rest, held by bound, not listening sockets (state CLOSE)
    #: False when the kernel cannot dump bound-only sockets (idiag_states bit 13, Linux 6.8):
    #: bound_other is then 0 for want of data, not a count.
    bound_other_known: bool = True

    @property
    def bound(self) -> int:
        """Ports in the range held by bind()-ed sockets (not counting reserved ones)."""
        return self.bound_listen + self.bound_other

    @property
    def available(self) -> int:
        """Ports connect() may pick for one tuple: range - reserved - bound."""
        return max(0, self.size - self.reserved - self.bound)

    def to_dict(self) -> dict[str, int | None]:
        """A JSON-ready dict."""
        return {
            "size": self.size,
            "reserved": self.reserved,
            "bound_listen": self.bound_listen,
            "bound_other": self.bound_other if self.bound_other_known else None,
            "available": self.available,
        }


def budget(policy: PortPolicy, bound: Iterable[Bound], bound_only_known: bool = True) -> PortBudget:
    """``available`` and its parts: a bound port counts once, as a listener's if any listens on
    it, and not at all when it is reserved (already subtracted) or outside the range.
    ``bound_only_known``: whether bound-only sockets could be dumped at all."""
    pickable = policy.pickable()
    listen: set[int] = set()
    other: set[int] = set()
    for b in bound:
        if b.port in pickable:
            (listen if b.listening else other).add(b.port)
    reserved = policy.size - len(pickable)
    return PortBudget(policy.size, reserved, len(listen), len(other - listen), bound_only_known)


@dataclass(frozen=True, slots=True)
class TupleCounts:
    """What the dump says about one outbound (src IP, dst IP, dst port) tuple."""

    src: str
    dst: str
    dport: int
    used: int  # live sockets + TIME_WAITs holding a local port towards this destination
    time_wait: int
    tw_young: int  # TIME_WAITs younger than tcp_tw_reuse_delay (from their timers)
    tw_per_s: float  # new TIME_WAITs per second over the timer window (from their timers)
    owners: tuple[str, ...] = ()  # processes of its live sockets (name[pid]), most sockets first
    tw_made_by: tuple[tuple[str, int], ...] = ()  # (name[pid], TIME_WAITs it made), most first
    tw_attributed: int = 0  # of its TIME_WAITs, those whose maker twtop saw live (by cookie)

    @property
    def key(self) -> tuple[str, str, int]:
        """(src, dst, dport)."""
        return (self.src, self.dst, self.dport)


class TupleState(enum.StrEnum):
    """Where a tuple stands: FULL now, FILLING at this demand, or STEADY (the demand fits)."""

    FULL = "full"
    FILLING = "filling"
    STEADY = "steady"


#: The regime assumed for a tuple built by hand without one: every TIME_WAIT blocks for 60 s.
NO_REUSE = Regime(False, TIME_WAIT_MS, Why.UNKNOWN)


@dataclass(frozen=True, slots=True)
class PortTuple:
    """Ephemeral-port use of one outbound (src IP, dst IP, dst port) tuple, judged.

    ``PortTracker`` builds these (``judged=True``). One built by hand from the first seven
    fields (a fixture, a one-off) is judged from its own numbers as a single sample, with the
    given regime (default: no reuse, every TIME_WAIT blocks).
    """

    src: str
    dst: str
    dport: int
    used: int  # live sockets + every TIME_WAIT of the tuple
    time_wait: int
    available: int  # ports connect() may pick (PortBudget.available)
    tw_per_s: float  # new TIME_WAITs per second from their timers (this poll)
    tw_young: int = 0  # TIME_WAITs younger than tcp_tw_reuse_delay
    regime: Regime = NO_REUSE
    demand_per_s: float = 0.0  # new connections per second, smoothed across polls
    state: TupleState = TupleState.STEADY  # set by judging unless judged=True
    seconds_to_full: float | None = None  # 0 when FULL; None when STEADY
    judged: bool = False
    owners: tuple[str, ...] = ()  # processes of its live sockets (name[pid]), most sockets first
    #: (name[pid], count) of the processes that made its TIME_WAITs, as twtop saw their sockets
    #: live (a TIME_WAIT keeps its socket's cookie); most first.
    tw_made_by: tuple[tuple[str, int], ...] = ()
    tw_attributed: int = 0  # TIME_WAITs of the tuple attributed so (the rest: unattributed)

    def __post_init__(self) -> None:
        if self.judged:
            return
        demand = self.demand_per_s or self.tw_per_s
        state, eta = judge(
            self.live, self.blocking, self.available, self.tw_blocking, demand,
            self.regime.hold_s,
        )  # fmt: skip
        object.__setattr__(self, "demand_per_s", demand)
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "seconds_to_full", eta)
        object.__setattr__(self, "judged", True)

    @property
    def key(self) -> tuple[str, str, int]:
        """(src, dst, dport)."""
        return (self.src, self.dst, self.dport)

    @property
    def live(self) -> int:
        """Sockets of this tuple that are not in TIME_WAIT."""
        return self.used - self.time_wait

    @property
    def tw_blocking(self) -> int:
        """TIME_WAITs connect() cannot take over."""
        return self.tw_young if self.regime.reuse else self.time_wait

    @property
    def blocking(self) -> int:
        """Ports of this tuple connect() cannot use: live sockets + blocking TIME_WAITs."""
        return self.live + self.tw_blocking

    @property
    def ratio(self) -> float:
        """blocking / available (1.0 when no port is available at all)."""
        return self.blocking / self.available if self.available else 1.0

    @property
    def full(self) -> bool:
        """A new connect() to this tuple fails now with EADDRNOTAVAIL."""
        return self.state is TupleState.FULL

    @property
    def demand_known(self) -> bool:
        """Whether the TIME_WAIT rate measures the demand. Not when FULL: every connect() beyond
        the freed ports fails and makes no TIME_WAIT, so the rate is capped by how fast ports
        free up (kernel-facts 6), whatever the clients try."""
        return self.state is not TupleState.FULL

    @property
    def frees_per_s(self) -> float:
        """Ports freed per second as the blocking TIME_WAITs age out (each blocks hold_s): at
        saturation, the most new connections the tuple can take."""
        return self.tw_blocking / self.regime.hold_s

    @property
    def sustainable_per_s(self) -> float:
        """New connections per second the tuple sustains: each blocks its port for hold_s."""
        return self.available / self.regime.hold_s

    @property
    def steady_ratio(self) -> float:
        """The share of ports the current demand holds once it has run for hold_s."""
        held = self.live + self.demand_per_s * self.regime.hold_s
        return held / self.available if self.available else 1.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "src": self.src,
            "dst": self.dst,
            "dport": self.dport,
            "used": self.used,
            "time_wait": self.time_wait,
            "time_wait_young": self.tw_young,
            "blocking": self.blocking,
            "available": self.available,
            "ratio": round(self.ratio, 6),
            "regime": self.regime.to_dict(),
            "sustainable_per_s": round(self.sustainable_per_s, 1),
            "tw_per_s": round(self.tw_per_s, 3),
            # null when FULL: the TIME_WAIT rate is then how fast ports free up, not the demand
            "demand_per_s": round(self.demand_per_s, 3) if self.demand_known else None,
            "frees_per_s": round(self.frees_per_s, 3),
            "steady_ratio": round(self.steady_ratio, 6),
            "state": str(self.state),
            "seconds_to_full": (
                None if self.seconds_to_full is None else round(self.seconds_to_full, 1)
            ),
            "processes": list(self.owners),
            "time_wait_attributed": self.tw_attributed,
            "time_wait_made_by": [{"process": n, "count": c} for n, c in self.tw_made_by],
        }


def demand_scale(counter_per_s: float | None, timers_per_s: float | None) -> float:
    """How many more TIME_WAITs were made than the timers still show (>= 1).

    The TW and TWKilled counters count every TIME_WAIT at creation; the timers only see those
    still there. TIME_WAITs taken over by connect() (tcp_tw_reuse), reset or destroyed early are
    missing from the timers, so per-tuple timer rates are scaled by this factor (capped at
    COUNTER_SCALE_MAX; 1 when either rate is unknown or zero).
    """
    if not counter_per_s or not timers_per_s or counter_per_s <= timers_per_s:
        return 1.0
    return min(COUNTER_SCALE_MAX, counter_per_s / timers_per_s)


def judge(
    live: int,
    blocking: int,
    available: int,
    tw_blocking: int,
    demand_per_s: float,
    hold_s: float,
    prev: TupleState | None = None,
) -> tuple[TupleState, float | None]:
    """State and seconds to full below saturation (FULL itself is decided by the caller).

    At a steady demand ``d`` the tuple holds ``live + d * hold_s`` ports; when that reaches
    FULL_RATIO of ``available`` it is FILLING (it stops only below FILLING_EXIT of that). The
    blocking TIME_WAITs grow by ``d`` and expire at about ``tw_blocking / hold_s`` per second,
    which gives the time to reach FULL_RATIO.
    """
    limit = FULL_RATIO * available
    if blocking >= limit:
        return TupleState.FULL, 0.0
    projected = live + demand_per_s * hold_s
    threshold = limit * (FILLING_EXIT if prev in (TupleState.FILLING, TupleState.FULL) else 1.0)
    growth = demand_per_s - tw_blocking / hold_s
    if projected < threshold or growth <= 0:
        return TupleState.STEADY, None
    return TupleState.FILLING, (limit - blocking) / growth


@dataclass(slots=True)
class _Track:
    demand: float
    state: TupleState
    below: int = 0  # polls in a row below FULL_RATIO while FULL


@dataclass(slots=True)
class PortTracker:
    """Smooths each tuple's demand and holds its state across polls (pure: no I/O).

    The demand is an exponential average (time constant DEMAND_TAU_S) of the tuple's TIME_WAIT
    rate; FULL is entered at once and left only after FULL_EXIT_POLLS polls below FULL_RATIO;
    FILLING has the hysteresis of ``judge``. Tuples not seen in a poll are forgotten.
    """

    tracks: dict[tuple[str, str, int], _Track] = field(default_factory=dict)
    last: float | None = None

    def reset(self) -> None:
        """Forget everything (the namespace changed)."""
        self.tracks.clear()
        self.last = None

    def update(
        self,
        now: float,
        counts: Iterable[TupleCounts],
        policy: PortPolicy,
        budget: PortBudget,
        scale: float = 1.0,
    ) -> list[PortTuple]:
        """Judge every tuple of one poll; ``scale`` from ``demand_scale``."""
        dt = None if self.last is None else max(0.0, now - self.last)
        self.last = now
        alpha = 1.0 if dt is None else 1.0 - math.exp(-dt / DEMAND_TAU_S)
        available = budget.available
        tracks: dict[tuple[str, str, int], _Track] = {}
        out = []
        for c in counts:
            regime = policy.regime(c.src, c.dst)
            raw = c.tw_per_s * scale
            old = self.tracks.get(c.key)
            demand = raw if old is None else old.demand + alpha * (raw - old.demand)
            live = c.used - c.time_wait
            tw_blocking = c.tw_young if regime.reuse else c.time_wait
            blocking = live + tw_blocking
            prev = old.state if old is not None else None
            state, eta = judge(live, blocking, available, tw_blocking, demand, regime.hold_s, prev)
            below = 0
            if prev is TupleState.FULL and state is not TupleState.FULL:
                below = old.below + 1 if old is not None else 1
                if below < FULL_EXIT_POLLS:
                    state, eta = TupleState.FULL, 0.0
                else:
                    below = 0
            tracks[c.key] = _Track(demand, state, below)
            out.append(
                PortTuple(
                    c.src, c.dst, c.dport, c.used, c.time_wait, available, c.tw_per_s,
                    tw_young=c.tw_young, regime=regime, demand_per_s=demand, state=state,
                    seconds_to_full=eta, judged=True, owners=c.owners, tw_made_by=c.tw_made_by,
                    tw_attributed=c.tw_attributed,
                )
            )  # fmt: skip
        self.tracks = tracks
        return out


def judge_once(
    counts: Iterable[TupleCounts], policy: PortPolicy, budget: PortBudget, scale: float = 1.0
) -> list[PortTuple]:
    """The tuples of a single sample (no history: demand is this poll's timer rate)."""
    return PortTracker().update(0.0, counts, policy, budget, scale)


@dataclass(frozen=True, slots=True)
class SourceView:
    """The limit of clients that bind(src, 0) before connect(): ports held across all
    destinations from one source IP (reached with EADDRINUSE)."""

    src: str
    held: int  # distinct ports in the range held from src (any state, any destination, bound)
    available: int  # range - reserved (bind(0) skips reserved ports too)
    worst_tuple_ratio: float  # the highest ratio of a tuple from src, for comparison

    @property
    def ratio(self) -> float:
        """held / available (1.0 when no port is available)."""
        return self.held / self.available if self.available else 1.0

    @property
    def full(self) -> bool:
        """bind(src, 0) fails now (or at the next attempt) with EADDRINUSE."""
        return self.ratio >= FULL_RATIO

    @property
    def tighter(self) -> bool:
        """The per-source limit is tighter than the worst of its tuples."""
        return self.ratio > self.worst_tuple_ratio

    @property
    def notable(self) -> bool:
        """Tighter than its tuples and at SOURCE_NOTABLE_RATIO or more: worth showing."""
        return self.tighter and self.ratio >= SOURCE_NOTABLE_RATIO

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "src": self.src,
            "held": self.held,
            "available": self.available,
            "ratio": round(self.ratio, 6),
            "full": self.full,
            "tighter": self.tighter,
            "worst_tuple_ratio": round(self.worst_tuple_ratio, 6),
        }


_WILDCARDS = frozenset({"0.0.0.0", "::"})


def source_views(
    policy: PortPolicy,
    held_by_src: Mapping[str, Iterable[int]],
    bound: Iterable[Bound],
    tuples: Iterable[PortTuple],
) -> list[SourceView]:
    """Per source IP, the ports bind(src, 0) cannot take, worst first.

    ``held_by_src``: the local ports of every socket from that address (any state, any
    destination). Bound sockets on that address or on the wildcard add theirs. Ports outside
    the range or reserved are not counted (bind(0) does not pick them anyway).
    """
    bound = list(bound)
    worst: dict[str, float] = {}
    for t in tuples:
        worst[t.src] = max(worst.get(t.src, 0.0), t.ratio)
    pickable = policy.pickable()
    wild = {b.port for b in bound if b.addr in _WILDCARDS}
    views = []
    for src, ports in held_by_src.items():
        own = {b.port for b in bound if b.addr == src}
        held = pickable.intersection(ports) | pickable.intersection(wild | own)
        views.append(SourceView(src, len(held), len(pickable), worst.get(src, 0.0)))
    views.sort(key=lambda v: (-v.ratio, v.src))
    return views


__all__ = [
    "FULL_RATIO",
    "Bound",
    "PortBudget",
    "PortPolicy",
    "PortTracker",
    "PortTuple",
    "Regime",
    "SourceView",
    "TupleCounts",
    "TupleState",
    "Why",
    "budget",
    "demand_scale",
    "judge",
    "judge_once",
    "source_views",
]
