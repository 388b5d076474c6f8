"""Building a Snapshot from aggregated counts: pure (no sockets, no /proc), tested without root.

``build_snapshot`` takes the ``Counts`` of one poll (canonical keys, see aggregate.py), the poll's
environment (sysctls, counters, clock, owners) and two trackers that carry state between polls:
``Rates`` (per-second deltas) and ``CloseWaitAges`` (how long each CLOSE_WAIT has been seen).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from twtop import ports as port_model
from twtop import sysinfo, wire
from twtop.keys import AF_INET, AF_INET6, TupleKey, addr_text, label
from twtop.knowledge import PORT_WORDS
from twtop.model import (
    CLOSE_WAIT_AGED_S,
    Churn,
    Listener,
    Owner,
    PeerKey,
    PeerRow,
    PortTuple,
    PortUsage,
    ProcessRow,
    Snapshot,
    Socket,
)
from twtop.states import TcpState

#: Peer groups kept in a Snapshot (top by total and by each key state); the rest are counted only.
MAX_PEERS = 2000
#: Outbound port tuples kept in a Snapshot (top by use).
MAX_TUPLES = 500
#: The window of TIME_WAIT timers read as "entered TIME_WAIT recently" (see aggregate.py).
CHURN_WINDOW_S = 10.0

_KEY_STATES = (TcpState.ESTABLISHED, TcpState.TIME_WAIT, TcpState.CLOSE_WAIT, TcpState.FIN_WAIT2)


def fold_state(n: int) -> TcpState:
    """A state number from the wire; numbers outside the 11 states count as CLOSE."""
    return TcpState(n) if n in TcpState._value2member_map_ else TcpState.CLOSE


@dataclass
class Counts:
    """What one poll counted, keyed canonically (the aggregator's result)."""

    group: str
    states: Counter[int] = field(default_factory=Counter)
    families: Counter[int] = field(default_factory=Counter)
    groups: Counter[tuple[PeerKey, int, bool]] = field(default_factory=Counter)  # key, st, in
    peer_pids: Counter[tuple[PeerKey, int]] = field(default_factory=Counter)
    procs: Counter[tuple[int, int]] = field(default_factory=Counter)  # (pid, state)
    tuples: Counter[TupleKey] = field(default_factory=Counter)  # outbound sockets per tuple
    tuples_tw: Counter[TupleKey] = field(default_factory=Counter)
    tuples_recent: Counter[TupleKey] = field(default_factory=Counter)  # TIME_WAITs in the window
    tuples_young: Counter[TupleKey] = field(default_factory=Counter)  # younger than reuse delay
    # local ports (host order) of outbound sockets by canonical source (family, address)
    src_ports: dict[tuple[int, bytes], set[int]] = field(default_factory=dict)
    recent_tw: int = 0
    cw_cookies: list[int] = field(default_factory=list)
    cw_unread: int = 0  # CLOSE_WAITs with unread data in the receive queue
    unowned: set[int] = field(default_factory=set)  # inodes no known process holds
    unowned_cw: set[int] = field(default_factory=set)  # the CLOSE_WAITs among them
    # Attribution: the owners of each outbound tuple's live sockets, and the processes that made
    # its TIME_WAITs (found by cookie among the sockets twtop saw live; procs.CookieOwners).
    tuple_pids: Counter[tuple[TupleKey, int]] = field(default_factory=Counter)
    tuples_tw_pids: Counter[tuple[TupleKey, int]] = field(default_factory=Counter)
    tw_attributed: int = 0  # TIME_WAITs (either direction) whose maker twtop saw live
    tw_counted: int = 0  # TIME_WAITs this detail poll counted (the base of tw_attributed)
    tw_bound_dev: int = 0  # TIME_WAITs bound to a device (SO_BINDTODEVICE), fast path only
    #: TIME_WAITs of inbound connections by their local port (a TIME_WAIT keeps it, kernel-facts
    #: 6): the listening port of the service that closed first.
    tw_in_ports: Counter[int] = field(default_factory=Counter)


@dataclass(frozen=True)
class PollEnv:
    """Everything besides the counts that a Snapshot states about one poll."""

    now: float
    collect_ms: float
    sysctl: dict[str, str | None]
    counters: dict[str, int]
    host: str = ""
    kernel: str = ""
    netns: str | None = None
    filter: str | None = None
    notes: tuple[str, ...] = ()
    malformed: int = 0
    owner: Callable[[int], Owner | None] = lambda pid: None
    #: The owner of a pid that made a socket twtop saw live (it may have exited since).
    made_by: Callable[[int], Owner | None] = lambda pid: None
    listeners: tuple[Listener, ...] = ()
    sockets: tuple[Socket, ...] = ()
    #: Sockets holding a port by bind(): listeners and bound-only sockets (None: not dumped).
    bound: tuple[port_model.Bound, ...] | None = None
    bound_only_known: bool = True  # the kernel dumps bound-only sockets (6.8+)


@dataclass
class RateDeltas:
    """Per-second changes since the previous poll (empty on the first one)."""

    interval: float | None = None
    rates: dict[str, float] = field(default_factory=dict)
    state_rates: dict[TcpState, float] = field(default_factory=dict)
    tw_counter: float | None = None
    tw_delta: float | None = None


class Rates:
    """Remembers the previous poll's counters and state counts to turn them into rates."""

    def __init__(self) -> None:
        self._prev: tuple[float, dict[str, int], dict[TcpState, int]] | None = None

    def reset(self) -> None:
        """Forget the previous poll (deltas across two namespaces would be nonsense)."""
        self._prev = None

    def update(
        self, now: float, counters: dict[str, int], states: dict[TcpState, int]
    ) -> RateDeltas:
        """Deltas against the previous poll; this poll becomes the previous one."""
        out = RateDeltas()
        prev, self._prev = self._prev, (now, counters, states)
        if prev is None or now - prev[0] <= 0:
            return out
        pt, pc, ps = prev
        dt = out.interval = now - pt
        for k, v in counters.items():
            if k not in sysinfo.GAUGES and k in pc:
                out.rates[k] = max(0, v - pc[k]) / dt
        for s in TcpState:
            out.state_rates[s] = (states.get(s, 0) - ps.get(s, 0)) / dt
        if "TW" in out.rates:
            out.tw_counter = out.rates["TW"] + out.rates.get("TWKilled", 0.0)
        out.tw_delta = out.state_rates[TcpState.TIME_WAIT]
        return out


class CloseWaitAges:
    """When each CLOSE_WAIT (by socket cookie) was first seen; cookies not seen again are dropped,
    so memory follows the current CLOSE_WAIT count."""

    def __init__(self) -> None:
        self.first_seen: dict[int, float] = {}
        self.since: float | None = None  # when watching began

    def reset(self) -> None:
        """Forget every CLOSE_WAIT."""
        self.first_seen = {}
        self.since = None

    def update(self, now: float, cookies: Iterable[int]) -> tuple[float | None, int | None]:
        """(age of the oldest, how many are aged) after seeing ``cookies`` at ``now``. Until
        twtop has watched for CLOSE_WAIT_AGED_S the aged count is unknown (None), not 0: a
        CLOSE_WAIT seen at the first poll may be hours old (the kernel reports no age)."""
        if self.since is None:
            self.since = now
        seen = self.first_seen
        self.first_seen = {c: seen.get(c, now) for c in cookies}
        ages = [now - t for t in self.first_seen.values()]
        aged = sum(1 for a in ages if a >= CLOSE_WAIT_AGED_S)
        if aged == 0 and now - self.since < CLOSE_WAIT_AGED_S:
            return max(ages, default=None), None
        return max(ages, default=None), aged


def socket_of(
    family: int, r: wire.Row, addr: Callable[[bytes, int], str], inbound: bool | None,
    owner: Owner | None, made_by: Owner | None,
) -> Socket:  # fmt: skip
    """A Socket from a decoded row."""
    return Socket(
        family=family, state=fold_state(r[wire.R_STATE]), local=addr(r[wire.R_SRC], family),
        lport=wire.port(r[wire.R_SPORT]), remote=addr(r[wire.R_DST], family),
        rport=wire.port(r[wire.R_DPORT]), timer=r[wire.R_TIMER], expires_ms=r[wire.R_EXPIRES],
        retrans=r[wire.R_RETRANS], rqueue=r[wire.R_RQUEUE], wqueue=r[wire.R_WQUEUE],
        uid=r[wire.R_UID], inode=r[wire.R_INODE], cookie=r[wire.R_COOKIE], inbound=inbound,
        owner=owner, made_by=made_by,
    )  # fmt: skip


#: How the note about an unprivileged run begins (the TUI's status line looks for it).
NOT_ROOT_NOTE = "process names need root"


def poll_notes(unreadable: int, root: bool, stats: Iterable[wire.DecodeStats]) -> tuple[str, ...]:
    """What a reader should know about how complete a poll is."""
    notes = []
    if unreadable and not root:
        notes.append(
            f"{NOT_ROOT_NOTE}: {unreadable} processes' file descriptors "
            "could not be read; only your own sockets are attributed"
        )
    stats = list(stats)
    malformed = sum(s.malformed for s in stats)
    if malformed:
        notes.append(f"{malformed} malformed netlink messages skipped")
    if any(s.interrupted for s in stats):
        notes.append("the kernel flagged a dump as interrupted (sockets changed during it)")
    return tuple(notes)


def _by_weight(names: Counter[str] | None) -> tuple[str, ...]:
    """Names by how many sockets they hold, most first; ties by name."""
    return tuple(sorted(names or (), key=lambda n: (-(names or {})[n], n)))


def build_peers(counts: Counts, owner: Callable[[int], Owner | None]) -> tuple[list[PeerRow], int]:
    """Peer rows (the top ones kept: by total and by each key state) and how many there were."""
    per: dict[PeerKey, dict[TcpState, int]] = {}
    inb: Counter[PeerKey] = Counter()
    outb: Counter[PeerKey] = Counter()
    for (key, st, is_in), n in counts.groups.items():
        d = per.setdefault(key, {})
        state = fold_state(st)
        d[state] = d.get(state, 0) + n
        (inb if is_in else outb)[key] += n
    # A group's processes, the one holding most of its sockets first (the UI shows the first).
    names: dict[PeerKey, Counter[str]] = {}
    for (key, pid), n in counts.peer_pids.items():
        o = owner(pid)
        if o is not None:
            names.setdefault(key, Counter())[f"{o.name}[{pid}]"] += n
    rows = {
        key: PeerRow(peer=label(key), total=sum(d.values()), states=d, inbound=inb[key],
                     outbound=outb[key], processes=_by_weight(names.get(key)), key=key)
        for key, d in per.items()
    }  # fmt: skip
    keep: dict[PeerKey, PeerRow] = {}
    for by in (None, *_KEY_STATES):  # so sorting the UI by a key state is right at the top too
        keep.update(heapq.nlargest(MAX_PEERS, rows.items(), key=_rank_by(by)))
    order = sorted(keep, key=lambda k: (-keep[k].total, k))
    return [keep[k] for k in order], len(rows)


def _rank_by(state: TcpState | None) -> Callable[[tuple[PeerKey, PeerRow]], int]:
    if state is None:
        return lambda kr: kr[1].total
    return lambda kr: kr[1].count(state)


#: Source IPs whose bind() view is kept in a Snapshot (the tightest, only where it is tighter
#: than their tuples).
MAX_SOURCES = 20


def _port_rank(t: PortTuple) -> tuple[int, int, int]:
    rank = {port_model.TupleState.FULL: 2, port_model.TupleState.FILLING: 1}.get(t.state, 0)
    return (rank, t.blocking, t.used)


def _named(
    per: Counter[tuple[TupleKey, int]], owner: Callable[[int], Owner | None]
) -> dict[TupleKey, tuple[tuple[str, int], ...]]:
    """Per tuple, (name[pid], count) most first (ties by name); pids without a name left out."""
    out: dict[TupleKey, Counter[str]] = {}
    for (tkey, pid), n in per.items():
        o = owner(pid)
        if o is not None:
            out.setdefault(tkey, Counter())[o.display] += n
    return {k: tuple((name, c[name]) for name in _by_weight(c)) for k, c in out.items()}


def tuple_processes(
    counts: Counts, env: PollEnv
) -> tuple[
    dict[TupleKey, tuple[str, ...]], dict[TupleKey, tuple[tuple[str, int], ...]], Counter[TupleKey]
]:
    """Per tuple: the processes of its live sockets, the processes that made its TIME_WAITs
    (as twtop saw their sockets live, by cookie) and how many of its TIME_WAITs those made."""
    live = {k: tuple(n for n, _c in v) for k, v in _named(counts.tuple_pids, env.owner).items()}

    def maker(pid: int) -> Owner | None:
        return env.made_by(pid) or env.owner(pid)

    made = _named(counts.tuples_tw_pids, maker)
    attributed: Counter[TupleKey] = Counter()
    for (tkey, _pid), n in counts.tuples_tw_pids.items():
        attributed[tkey] += n
    return live, made, attributed


def build_ports(
    counts: Counts,
    env: PollEnv,
    tracker: port_model.PortTracker,
    tw_counter: float | None = None,
) -> PortUsage:
    """The ephemeral port range, what connect() may pick from it, the outbound tuples judged by
    the port model (worst first: FULL, FILLING, then most blocked) and the per-source bind()
    views that are tighter than their tuples."""
    policy = port_model.PortPolicy.from_sysctl(env.sysctl)
    bound = env.bound or ()
    budget = port_model.budget(policy, bound, env.bound_only_known and env.bound is not None)
    owners, made_by, attributed = tuple_processes(counts, env)
    tcounts = [
        port_model.TupleCounts(
            *tkey.parts(), used, counts.tuples_tw.get(tkey, 0), counts.tuples_young.get(tkey, 0),
            counts.tuples_recent.get(tkey, 0) / CHURN_WINDOW_S, owners.get(tkey, ()),
            made_by.get(tkey, ()), attributed.get(tkey, 0),
        )
        for tkey, used in counts.tuples.items()
    ]  # fmt: skip
    scale = port_model.demand_scale(tw_counter, counts.recent_tw / CHURN_WINDOW_S)
    judged = tracker.update(env.now, tcounts, policy, budget, scale)
    top = tuple(heapq.nlargest(MAX_TUPLES, judged, key=_port_rank))
    held = {addr_text(f, a): ports for (f, a), ports in counts.src_ports.items()}
    views = port_model.source_views(policy, held, bound, judged)
    sources = tuple(v for v in views if v.tighter)[:MAX_SOURCES]
    return PortUsage(
        policy.low, policy.high, policy.reserved_count, top, len(judged),
        sum(t.time_wait for t in judged), budget if env.bound is not None else None, sources,
    )  # fmt: skip


def build_processes(counts: Counts, owner: Callable[[int], Owner | None]) -> tuple[ProcessRow, ...]:
    """Sockets per known process, the CLOSE_WAIT holders first."""
    pstates: dict[int, dict[TcpState, int]] = {}
    for (pid, st), n in counts.procs.items():
        if st in TcpState._value2member_map_:
            pstates.setdefault(pid, {})[TcpState(st)] = n
    rows = []
    for pid, d in pstates.items():
        o = owner(pid)
        if o is not None:
            rows.append(ProcessRow(pid, o.name, o.user, d, o.comm, o.unit, o.container))
    rows.sort(key=lambda p: (-p.states.get(TcpState.CLOSE_WAIT, 0), -p.total, p.pid))
    return tuple(rows)


def _bound_dev_note(n: int) -> tuple[str, ...]:
    """Say it when TIME_WAITs are bound to a device: the port model counts them as unbound
    (ports.py says why that can overstate a tuple)."""
    return (PORT_WORDS["en"]["bound_dev_note"].format(n=f"{n:,}"),) if n else ()


def build_snapshot(
    counts: Counts,
    env: PollEnv,
    rates: Rates,
    ages: CloseWaitAges,
    ports: port_model.PortTracker | None = None,
) -> Snapshot:
    """The Snapshot of one poll (updates the trackers; without a port tracker the tuples are
    judged as one sample)."""
    states = {TcpState(s): n for s, n in counts.states.items() if s in TcpState._value2member_map_}
    peers, peers_total = build_peers(counts, env.owner)
    deltas = rates.update(env.now, env.counters, states)
    oldest, aged = ages.update(env.now, counts.cw_cookies)
    churn = Churn(
        CHURN_WINDOW_S, counts.recent_tw / CHURN_WINDOW_S, deltas.tw_counter, deltas.tw_delta
    )
    on_port = counts.tw_in_ports
    listeners = sorted((replace(x, tw_on_port=on_port.get(x.lport, 0)) for x in env.listeners),
                       key=lambda x: (-x.queued, x.lport, x.local))  # fmt: skip
    return Snapshot(
        taken_at=env.now,
        host=env.host,
        kernel=env.kernel,
        netns=env.netns,
        collect_ms=env.collect_ms,
        filter=env.filter,
        group=counts.group,
        states=states,
        ipv4=counts.families.get(AF_INET, 0),
        ipv6=counts.families.get(AF_INET6, 0),
        peers=tuple(peers),
        peers_total=peers_total,
        ports=build_ports(counts, env, ports or port_model.PortTracker(), deltas.tw_counter),
        churn=churn,
        sysctl=env.sysctl,
        counters=env.counters,
        rates=deltas.rates,
        state_rates=deltas.state_rates,
        processes=build_processes(counts, env.owner),
        listeners=tuple(listeners),
        notes=env.notes + _bound_dev_note(counts.tw_bound_dev),
        malformed=env.malformed,
        interval_s=deltas.interval,
        sockets=env.sockets,
        close_wait_oldest_s=oldest,
        close_wait_aged=aged,
        close_wait_unread=counts.cw_unread,
        tw_attributed=counts.tw_attributed,
        tw_counted=counts.tw_counted,
    )
