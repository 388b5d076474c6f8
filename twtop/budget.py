"""The CPU budget: counts every poll, the expensive detail as often as the budget allows.

A full poll walks every socket: at ~1M TIME_WAITs that is most of a core. The collector keeps
the count of every state fresh each interval from cheap sources, and refreshes the detail (the
per-peer, per-process and per-port aggregation) when the budget has room for it:

- the small states (everything but LISTEN, ESTABLISHED and TIME_WAIT) by a state-filtered dump;
  the kernel sends only those sockets;
- TIME_WAIT = /proc/net/sockstat ``tw`` minus the FIN_WAIT2 minisockets of that dump: ``tw``
  counts every minisocket, orphaned FIN_WAIT2 included (kernel-facts 7); a minisocket is the
  FIN_WAIT2 row with the TIME_WAIT timer (3), a full FIN_WAIT2 socket never has it;
- ESTABLISHED = /proc/net/snmp ``CurrEstab`` minus the CLOSE_WAITs of that dump: the kernel's
  ``tcp_set_state`` counts a socket from ESTABLISHED until it leaves ESTABLISHED or CLOSE_WAIT
  (measured on 6.18 by tests/kernel/test_budget.py, IPv4 and IPv6 alike).

The schedule is a token bucket in CPU seconds: credit accrues at ``fraction`` per wall second
(banked up to one detail's cost), every poll spends what it cost, and so does every other piece of
collector work (``charge``: the drill-down's passes), and a detail poll runs when the credit covers
the last measured detail cost. So cost/period <= budget over time, counts included. If the counts
(and the rest) alone exceed the budget, ``over_budget`` says so and the detail still runs at least
every MAX_DETAIL_AGE_S. The counts and the detail run on different threads (schedule.py), and the
drill-down on a third: every method takes the lock.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import replace

from twtop import wire
from twtop.aggregate import Aggregator
from twtop.build import Counts
from twtop.filter import Plan
from twtop.keys import Listeners
from twtop.states import MASK_ALL, TcpState, Timer

DEFAULT_CPU_BUDGET_PCT = 10.0
#: The detail is never older than this, whatever the counts cost.
MAX_DETAIL_AGE_S = 120.0
#: ``usage`` and ``over_budget`` look back this far (wall seconds).
WINDOW_S = 60.0
TW = int(TcpState.TIME_WAIT)
EST = int(TcpState.ESTABLISHED)
CW = int(TcpState.CLOSE_WAIT)
FW2 = int(TcpState.FIN_WAIT2)
#: What the counts-only poll dumps: every state but the big ones (LISTEN has its own dump).
SMALL_MASK = MASK_ALL & ~((1 << TW) | (1 << EST) | (1 << TcpState.LISTEN))


class Budget:
    """When the next detail poll may run, so the collector stays within ``fraction`` of a core."""

    def __init__(self, fraction: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < fraction <= 1:
            raise ValueError(f"budget fraction must be in (0, 1], not {fraction}")
        self.fraction = fraction
        self.clock = clock
        self.credit = 0.0  # CPU seconds the collector may still spend
        self.detail_cost: float | None = None  # CPU seconds of the last detail poll
        self.detail_at: float | None = None  # when it ran
        self._at: float | None = None
        self._start = clock()
        self._spends: deque[tuple[float, float, bool]] = deque()  # (when, CPU s, a detail)
        self._lock = threading.Lock()

    def _accrue(self) -> float:
        now = self.clock()
        if self._at is not None:
            self.credit += (now - self._at) * self.fraction
        self._at = now
        if self.detail_cost is not None:
            self.credit = min(self.credit, self.detail_cost)
        return now

    def wants_detail(self, plan: Plan, agg: Aggregator, counters: dict[str, int]) -> bool:
        """Whether this poll must be a full one: whenever the counts alone cannot stand in for
        it (``counts_suffice``), else when the budget allows."""
        return not counts_suffice(plan, agg, counters) or self.detail_due()

    def detail_due(self) -> bool:
        """True when the next poll should be a full one."""
        with self._lock:
            now = self._accrue()
            if self.detail_cost is None or self.detail_at is None:
                return True
            return self.credit >= self.detail_cost or now - self.detail_at >= MAX_DETAIL_AGE_S

    def spent(self, cpu_s: float, detail: bool, at: float | None = None) -> None:
        """Account one poll's CPU time (``detail``: it was a full poll, whose data is as old as
        ``at``, the clock when it began; None: now)."""
        with self._lock:
            now = self._accrue()
            if detail and self.detail_cost is None:
                self.credit += cpu_s  # the first picture is on the house: starting asked for it
            self.credit -= cpu_s
            self._record(now, cpu_s, detail)
            if detail:
                self.detail_cost = cpu_s
                self.detail_at = now if at is None else at

    def charge(self, cpu_s: float) -> None:
        """Spend CPU seconds the collector used on anything but a detail poll (a counts poll,
        a drill-down pass): the next detail waits for them too."""
        self.spent(cpu_s, False)

    def _record(self, now: float, cpu_s: float, detail: bool) -> None:
        self._spends.append((now, cpu_s, detail))
        while self._spends and self._spends[0][0] < now - WINDOW_S:
            self._spends.popleft()

    def usage(self) -> tuple[float, float]:
        """(everything, everything but detail polls) spent over the last WINDOW_S (or since the
        budget began, when sooner), as fractions of one core."""
        with self._lock:
            now = self.clock()
            span = max(1.0, min(WINDOW_S, now - self._start))
            spends = [(c, d) for t, c, d in self._spends if t >= now - WINDOW_S]
        return sum(c for c, _d in spends) / span, sum(c for c, d in spends if not d) / span

    def over_budget(self) -> bool:
        """The counts (and the other work ``charge``d), without any detail, use more than the
        budget: the detail then refreshes only every MAX_DETAIL_AGE_S."""
        return self.usage()[1] > self.fraction

    def detail_age(self) -> float:
        """Seconds since the last detail poll (0 before any)."""
        with self._lock:
            at = self.detail_at
        return 0.0 if at is None else max(0.0, self.clock() - at)


def counts_suffice(plan: Plan, agg: Aggregator, counters: dict[str, int]) -> bool:
    """Whether a counts-only poll gives right state counts: not under a filter (the kernel's
    counters are not filtered), not when sockets are kept, and only with both counters read."""
    return (
        plan.node is None
        and not plan.bytecode
        and plan.mask & MASK_ALL == MASK_ALL
        and agg.sockets is None
        and "sockstat_tw" in counters
        and "CurrEstab" in counters
    )


def minisockets(rows: Iterable[wire.Row]) -> int:
    """FIN_WAIT2 minisockets among ``rows`` (state FIN_WAIT2 with the TIME_WAIT timer)."""
    return sum(1 for r in rows if r[wire.R_STATE] == FW2 and r[wire.R_TIMER] == Timer.TIMEWAIT)


def fresh_states(small: Counter[int], counters: dict[str, int], fw2_mini: int) -> Counter[int]:
    """Every state's count from the small states' dump and the kernel's counters."""
    out = Counter(small)
    out[TW] = max(0, counters["sockstat_tw"] - fw2_mini)
    out[EST] = max(0, counters["CurrEstab"] - small.get(CW, 0))
    return out


def wants_full(
    detail: bool,
    budget: Budget | None,
    last: Counts | None,
    plan: Plan,
    agg: Aggregator,
    counters: dict[str, int],
) -> bool:
    """Whether a poll must be a full one: when the caller asks for the detail, unless the
    budget (if any) says it can wait; when it does not, only if the counts cannot stand alone."""
    if not detail:
        return not counts_suffice(plan, agg, counters)
    return budget is None or last is None or budget.wants_detail(plan, agg, counters)


def counts_only(
    dump: Callable[[int], Iterable[list[wire.Row]]],
    agg: Aggregator,
    listeners: Listeners,
    counters: dict[str, int],
    detail: Counts | None,
) -> tuple[Counts, list[wire.Row]]:
    """The Counts of a counts-only poll, and the rows of its one dump (the small states:
    ``dump(SMALL_MASK)``; the listen queues are counted from them too). Fresh: the state totals
    and CLOSE_WAIT cookies (their ages), from that dump and the counters. From the last detail
    poll (``detail``; None: nothing yet), whose age the Snapshot's ``detail_age_s`` gives:
    everything per peer, process and port, and the IPv4/IPv6 split."""
    agg.add_rows([r for _f, r in listeners.rows], all_inbound=True)
    rows = [r for chunk in dump(SMALL_MASK) for r in chunk]
    agg.add_rows(rows)
    small = agg.finish()
    counts = replace(
        detail or Counts(agg.group),
        states=fresh_states(small.states, counters, minisockets(rows)),
        cw_cookies=small.cw_cookies,
        cw_unread=small.cw_unread,
    )
    return counts, rows
