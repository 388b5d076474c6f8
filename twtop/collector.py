"""The collector: orchestrates a poll, and lists sockets straight from kernel-filtered dumps.

One poll reads sysctls and counters, makes a LISTEN dump (cheap: the kernel walks only the
listening hash) and then two walks of the socket tables, each covering IPv4 and IPv6 at once
(TCPDIAG_GETSOCK): one for TIME_WAIT, one for every other state. The session (session.py) talks to
the kernel, the aggregator (aggregate.py) counts, build.py turns the counts into a Snapshot.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from twtop import keys, queues, sysinfo, wire
from twtop import netns as netns_mod
from twtop.aggregate import Aggregator
from twtop.budget import Budget, counts_only, counts_suffice, wants_full
from twtop.build import CloseWaitAges, PollEnv, Rates, build_snapshot, poll_notes, socket_of
from twtop.errors import UsageError
from twtop.filter import compile_filter
from twtop.held import HeldPorts
from twtop.keys import AddrCache, Listeners
from twtop.listing import SocketLists
from twtop.model import GROUPS, Listener, Snapshot, Socket
from twtop.ports import PortPolicy, PortTracker
from twtop.procs import CookieOwners, ProcessMap
from twtop.queues import Keep
from twtop.schedule import Live, stamp
from twtop.session import Session
from twtop.states import MASK_ALL, TcpState

if TYPE_CHECKING:
    from twtop.build import Counts

LISTEN = int(TcpState.LISTEN)
TW_BIT = 1 << TcpState.TIME_WAIT
LISTEN_BIT = 1 << TcpState.LISTEN


class Collector(SocketLists):
    """Polls one network namespace; keeps what deltas and caches need between polls."""

    def __init__(
        self,
        netns: str | None = None,
        filter: str | None = None,
        group: str = "ip",
        process_refresh_s: float = 5.0,
        keep_sockets: bool = False,
        cpu_budget: float | None = None,
    ) -> None:
        self.netns_spec = netns
        self.budget = Budget(cpu_budget / 100) if cpu_budget else None  # percent of one core
        self._detail: Counts | None = None  # the last full poll's counts
        self._detail_lock = threading.Lock()
        self._epoch = 0  # bumped when the detail's meaning changes (filter, group, namespace)
        self.netns_path = netns_mod.resolve(netns) if netns else None
        self.plan = compile_filter(filter)
        self.set_group(group)
        self.keep_sockets = keep_sockets
        self.procs = ProcessMap(process_refresh_s, netns=self.netns_path)
        self.made_by = CookieOwners()
        self.session = Session(self.netns_path)
        self.rates = Rates()
        self.close_wait_ages = CloseWaitAges()
        self.port_tracker = PortTracker()
        self.held = HeldPorts(sysinfo.kernel_release())
        self._generation = 0  # bumped when a builder session follows a new namespace
        self._ns: int | None = None  # the namespace (inode) the trackers follow
        # Threads (schedule.py): ``_lock`` is self.session's (the detail walk, --once, listings)
        # and the only one under which procs and made_by are written; ``_build_lock`` guards the
        # trackers a Snapshot is built with (rates, CLOSE_WAIT ages, ports, held); the counts
        # thread takes only it, on a session of its own.
        self._lock = threading.RLock()
        self._build_lock = threading.Lock()
        self._counts = Session(self.netns_path)  # poll_live's counts polls
        self.live = Live(self)
        self._pages = Session(self.netns_path)  # the drill-down's, apart from the polls'
        self._page_lock = threading.Lock()

    # -- configuration -------------------------------------------------------------------------
    def set_filter(self, expr: str | None) -> None:
        """Replace the filter (raises FilterError and keeps the old one when it does not parse)."""
        self.plan = compile_filter(expr)
        self._forget_detail()  # counted under the old filter

    def set_group(self, group: str) -> None:
        """Choose how peers are grouped: ip, ipport, lport or process."""
        if group not in GROUPS:
            raise UsageError(f"--group must be one of {', '.join(GROUPS)}, not '{group}'")
        self.group = group
        self._forget_detail()

    def _forget_detail(self) -> None:
        with self._detail_lock:  # a detail walk running now is of the old kind: dropped
            self._detail = None
            self._epoch += 1

    def close(self) -> None:
        """Close the netlink sockets."""
        self.session.close()
        self._counts.close()
        self._pages.close()

    def __enter__(self) -> Collector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _listeners(self, session: Session | None = None) -> Listeners:
        listeners = Listeners()
        for rows in (session or self.session).rows(LISTEN_BIT):
            for r in rows:
                if r[wire.R_STATE] == LISTEN:
                    listeners.add(r[wire.R_FAMILY], r)
        return listeners

    def _follow(self, session: Session) -> None:
        """A builder session in a new namespace: no deltas across (under ``_build_lock``). By the
        namespace's inode: the counts' and --once's sessions are in the same one."""
        if session._sock_ns != self._ns:
            self._ns = session._sock_ns
            self._generation += 1
            self.rates.reset()
            self.close_wait_ages.reset()
            self.port_tracker.reset()
            self._forget_detail()

    # -- polling ---------------------------------------------------------------------------------
    def poll(self, detail: bool = True) -> Snapshot:
        """One Snapshot (thread-safe, never overlapping); detail=False: counts only (budget.py).
        With a budget, detail=True still defers the detail when the budget says so."""
        with self._lock, self._build_lock:
            return self._poll(detail, self.session)  # type: ignore[return-value]

    def poll_live(self) -> Snapshot:
        """Fresh counts now, on their own session; the detail walks in a worker thread when the
        budget allows, never delaying the counts; the Snapshot carries the last detail and its
        age (schedule.py). For a caller that polls every interval (the TUI)."""
        return self.live.poll()

    def _read(self) -> tuple[dict[str, str | None], dict[str, int], list[str]]:
        with netns_mod.entered(self.netns_path):
            sysctl = sysinfo.read_sysctls()
            proc_notes: list[str] = []  # what of /proc could not be read
            counters = sysinfo.read_counters(proc_notes)
        return sysctl, counters, proc_notes

    def _aggregator(self, sysctl: dict[str, str | None], listeners: Listeners) -> Aggregator:
        young_ms = PortPolicy.from_sysctl(sysctl).young_threshold_ms()
        agg = Aggregator(self.group, self.plan, listeners, self.procs.pid_of(), young_ms,
                         self.made_by.pids())  # fmt: skip
        if self.keep_sockets:
            agg.sockets = []
        return agg

    def _poll(self, detail: bool, session: Session, live: bool = False) -> Snapshot | None:
        """One poll on ``session`` (under ``_build_lock``; self.session: under ``_lock`` too).
        ``live``: counts only, or None when they cannot stand in (the caller polls in full)."""
        t0, cpu0 = time.perf_counter(), time.thread_time()
        now = time.time()
        session.reset_stats()
        sysctl, counters, proc_notes = self._read()
        listeners = self._listeners(session)
        self._follow(session)
        if detail:
            self.procs.refresh(r[wire.R_INODE] for _f, r in listeners.rows)
        agg = self._aggregator(sysctl, listeners)
        budget, last = self.budget, self._detail
        if live and (last is None or not counts_suffice(self.plan, agg, counters)):
            return None  # no detail of this kind yet (a new filter or grouping), or a filter
        paging = self._page_lock.locked()  # a drill-down reads a page: its user waits, not ours
        if not live and wants_full(detail and not paging, budget, last, self.plan, agg, counters):
            small = self._walk(agg, listeners)  # and the rows the listen queues need
            counts = self._detail = agg.finish()
            # Name the owners of new unowned sockets (procs.py: when, and how it stays bounded).
            self.procs.after_poll(counts.unowned, counts.unowned_cw)
            self.made_by.remember(agg.owned_cookies, agg.owned_pids, self.procs.owner)
        else:  # counts only (budget.py): the small states and the kernel's counters
            counts, small = counts_only(session.rows, agg, listeners, counters, last)
        addr = AddrCache()
        # A dump too: before its stats and time are read.
        bound = self.held.read(session.rows, listeners, addr, self._generation, not live)
        found = self._queues(tuple(self._listener(f, r, addr) for f, r in listeners.rows),
                             addr, small, session)  # fmt: skip
        env = PollEnv(
            now=now,
            collect_ms=(time.perf_counter() - t0) * 1000,
            sysctl=sysctl,
            counters=counters,
            host=sysinfo.hostname(),
            kernel=sysinfo.kernel_release(),
            netns=self.netns_spec,
            filter=self.plan.text,
            notes=(
                *proc_notes,
                *poll_notes(self.procs.unreadable, os.geteuid() == 0, session.stats),
                *self.procs.notes(len(counts.unowned)),
            ),
            malformed=sum(s.malformed for s in session.stats),
            owner=self.procs.owner,
            made_by=self.made_by.owner,
            listeners=found,
            sockets=tuple(self.to_socket(f, r, listeners, addr) for f, r in agg.sockets or ()),
            bound=bound,
            bound_only_known=self.held.bound_only_known,
        )
        snap = build_snapshot(counts, env, self.rates, self.close_wait_ages, self.port_tracker)
        if budget is None or live:
            return snap  # live: schedule.py charges the budget and says how old the detail is
        fresh = counts is self._detail
        budget.spent(time.thread_time() - cpu0, fresh)
        return stamp(snap, budget, 0.0 if fresh else budget.detail_age())

    def _queues(
        self, found: tuple[Listener, ...], addr: AddrCache, small: list[wire.Row] | None,
        session: Session,
    ) -> tuple[Listener, ...]:  # fmt: skip
        """Listeners with SYN_RECV, unaccepted CLOSE_WAIT: ``small`` (the poll's rows), or dumps."""
        rows = queues.dumped_queue_rows(session.rows, found) if small is None else small
        return queues.listener_queues(found, [self.to_socket(r[wire.R_FAMILY], r, None, addr)
                                       for r in queues.queue_rows(found, rows)])  # fmt: skip

    def _walk(self, agg: Aggregator, listeners: Listeners) -> Keep:
        """Aggregate what the filter takes; unfiltered, return the listen queues' rows too."""
        plan = self.plan
        keep: Keep = [] if queues.unfiltered(plan) else None
        # Listeners count like any socket when the filter lets them through.
        if plan.accepts_state(TcpState.LISTEN):
            agg.add_rows(
                [r for f, r in listeners.rows if keys.kernel_accepts(plan, f, r)], all_inbound=True
            )
        mask = plan.mask & MASK_ALL & ~LISTEN_BIT
        if plan.node is None and self.group in ("ip", "process") and not self.keep_sockets:
            # TIME_WAITs -- the bulk of an incident -- in their own walk: uniform messages,
            # aggregated from key bytes without building a row per socket.
            if mask & TW_BIT:
                self._dump_into(TW_BIT, agg.add_tw_any, agg, None)
            mask &= ~TW_BIT
        if mask:
            self._dump_into(mask, agg.add_full, agg, keep)
        return keep

    def _dump_into(
        self, states: int, uniform: Callable[[bytes, int], None], agg: Aggregator, keep: Keep
    ) -> None:
        """One dump: uniform buffers go to ``uniform``, others (already decoded) to rows."""
        for buf, length, rows in self.session.chunks(states, self.plan.bytecode):
            if length:
                uniform(buf, length)
            elif rows:
                agg.add_rows(rows)
            if keep is not None:  # the listen queues' candidates (queues.py)
                keep += queues.pick(buf, length, rows)

    def _listener(self, family: int, r: wire.Row, addr: AddrCache) -> Listener:
        pid = self.procs.pid_of().get(r[wire.R_INODE])
        owner = self.procs.owner(pid) if pid is not None else None
        return Listener(addr(r[wire.R_SRC], family), wire.port(r[wire.R_SPORT]),
                        r[wire.R_RQUEUE], r[wire.R_WQUEUE], owner)  # fmt: skip

    def to_socket(
        self, family: int, r: wire.Row, listeners: Listeners | None = None,
        addr: AddrCache | None = None,
    ) -> Socket:  # fmt: skip
        """Turn a decoded row into a Socket (with owner and direction when known)."""
        pid = self.procs.pid_of().get(r[wire.R_INODE]) if r[wire.R_INODE] else None
        inbound = None
        if listeners is not None:
            inbound = r[wire.R_STATE] == LISTEN or listeners.is_inbound(
                r[wire.R_SRC], r[wire.R_SPORT]
            )
        owner = self.procs.owner(pid) if pid is not None else None
        made_by = None if pid is not None else self.made_by.get(r[wire.R_COOKIE])
        return socket_of(family, r, addr or AddrCache(), inbound, owner, made_by)


def take_snapshot(
    netns: str | None = None,
    filter: str | None = None,
    group: str = "ip",
    keep_sockets: bool = False,
) -> Snapshot:
    """One Snapshot of the namespace (None: the current one), optionally filtered and grouped."""
    with Collector(netns=netns, filter=filter, group=group, keep_sockets=keep_sockets) as c:
        return c.poll()


def list_sockets(netns: str | None = None, filter: str | None = None) -> list[Socket]:
    """The sockets matching ``filter``, from a kernel-filtered dump."""
    with Collector(netns=netns) as c:
        return c.sockets(filter)


__all__ = ["Collector", "list_sockets", "take_snapshot"]
