"""Counts every interval, the detail beside them: the TUI's polling (Collector.poll_live).

A full poll at ~740k TIME_WAITs costs 0.64 s of CPU and takes seconds of wall time on a loaded
machine. Polled on one thread, the state counts were as old as a detail walk was long (13 s behind
the clock, measured). Here the counts-only poll (budget.py) runs on the caller's thread every time,
on a netlink session of its own; the detail walk runs in a worker thread when the budget allows
(or, without a budget, whenever the last one has finished), and each Snapshot carries the fresh
counts with the last detail and its age.

Who touches what (collector.py's locks):
- the detail worker holds ``_lock`` (self.session, shared with --once polls and socket listings)
  and is, with them, the only writer of the process map and the cookie owners; both publish new
  dicts or add keys, so the counts thread's lookups in them need no lock;
- the counts thread holds ``_build_lock`` for the Snapshot's trackers (rates, CLOSE_WAIT ages,
  port tracker, held ports), which only Snapshot builders touch;
- the detail a worker made is kept only if nothing changed its meaning meanwhile (filter, group,
  namespace: the collector's ``_epoch``), checked and stored under ``_detail_lock``.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from twtop import wire
from twtop.budget import MAX_DETAIL_AGE_S, Budget
from twtop.keys import AddrCache
from twtop.pages import give_back

if TYPE_CHECKING:
    from twtop.build import Counts
    from twtop.collector import Collector
    from twtop.model import Snapshot


def budget_notes(budget: Budget | None) -> tuple[str, ...]:
    """A note when the counts (and the drill-down) alone spend more than the budget."""
    if budget is None or not budget.over_budget():
        return ()
    used = budget.usage()[1] * 100
    return (
        f"the counts alone use {used:.0f}% of a core, over the {budget.fraction * 100:g}% "
        f"CPU budget: the detail refreshes only every {MAX_DETAIL_AGE_S:.0f} s",
    )


def name_thread(name: bytes) -> None:
    """Name the calling thread for ``top -H`` and /proc/PID/task/TID/comm (best effort)."""
    with contextlib.suppress(OSError, AttributeError):  # not this libc: unnamed
        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name[:15]), 0, 0, 0)  # PR_SET_NAME


def stamp(snap: Snapshot, budget: Budget | None, age: float) -> Snapshot:
    """``snap`` with its detail's age and (with a budget) the budget, its use and overrun."""
    if budget is None:
        return replace(snap, detail_age_s=age)
    used, notes = budget.usage()[0] * 100, budget_notes(budget)
    return replace(snap, cpu_budget=budget.fraction * 100, detail_age_s=age, cpu_used_pct=used,
                   cpu_over=bool(notes), notes=(*snap.notes, *notes))  # fmt: skip


def detail_counts(c: Collector) -> Counts:
    """The detail alone: a full walk on ``c.session`` (the caller holds ``c._lock``)."""
    c.session.reset_stats()
    sysctl, _counters, _notes = c._read()
    listeners = c._listeners()
    c.procs.refresh(r[wire.R_INODE] for _f, r in listeners.rows)
    agg = c._aggregator(sysctl, listeners)
    c._walk(agg, listeners)
    counts = agg.finish()
    # The bound-only dump walks every bound socket (TIME_WAITs too): here, not every interval.
    c.held.read(c.session.rows, listeners, AddrCache(), c._generation)
    c.procs.after_poll(counts.unowned, counts.unowned_cw)
    c.made_by.remember(agg.owned_cookies, agg.owned_pids, c.procs.owner)
    return counts


class Live:
    """Counts on the caller's thread, the detail in a worker (one at a time)."""

    def __init__(self, collector: Collector) -> None:
        self.c = collector
        self.clock = time.monotonic
        self.detail_at: float | None = None  # clock() when the detail on show began its walk
        self.details = 0  # detail walks kept (tests, bench)
        self.error: Exception | None = None  # the worker's, raised by the next poll
        self._go = threading.Event()  # set: walk now; cleared by the worker when it is done
        self._idle = threading.Event()
        self._worker: threading.Thread | None = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no detail walk is under way; False on timeout."""
        return self._idle.wait(timeout) if self.running() else True

    def running(self) -> bool:
        """A detail walk is under way (or asked for)."""
        return self._go.is_set()

    def poll(self) -> Snapshot:
        """Fresh counts and the last detail; starts a detail walk when one is due."""
        c = self.c
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        if c._detail is None:  # the first picture, or the first of a new filter or grouping:
            return self._full()  # (after a walk of the old kind under way, which is dropped)
        budget = c.budget
        # Asked before this poll is charged: the bank holds one detail's cost, no more.
        # Not while a drill-down reads a page: on one GIL both would take twice as long.
        paging = c._page_lock.locked()
        due = not self.running() and not paging and (budget is None or budget.detail_due())
        cpu0 = time.thread_time()
        with c._build_lock:
            snap = c._poll(False, c._counts, live=True)
        if snap is None:  # a filter, sockets kept, or no detail of this kind: in full, now
            return self._full()
        if budget is not None:
            budget.charge(time.thread_time() - cpu0)
        age = 0.0 if self.detail_at is None else max(0.0, self.clock() - self.detail_at)
        if due:
            self._start()
        return stamp(snap, budget, age)

    def _full(self) -> Snapshot:
        started = self.clock()
        snap = self.c.poll()
        self.detail_at = started
        give_back()  # the detail it replaced (a regrouping at ~1M: 100+ MB) back to the system
        return snap

    def _start(self) -> None:
        self._idle.clear()
        self._go.set()
        if self._worker is None:  # one thread for the collector's life: `top -H` sees it
            self._worker = threading.Thread(target=self._loop, name="twtop-detail", daemon=True)
            self._worker.start()

    def _loop(self) -> None:
        name_thread(b"twtop-detail")
        while True:
            self._go.wait()
            self._work(self.c._epoch)
            self._idle.set()  # before: a poll in between sees it running and starts none
            self._go.clear()

    def _work(self, epoch: int) -> None:
        c = self.c
        started, cpu0 = self.clock(), time.thread_time()
        try:
            with c._lock:
                counts = detail_counts(c)
            with c._detail_lock:
                if c._epoch == epoch:  # else: counted under an old filter, group or namespace
                    c._detail = counts
                    self.detail_at = started
                    self.details += 1
            give_back()  # the detail replaced, and the walk's garbage: freed heap to the system
        except Exception as exc:  # the counts thread reports it
            self.error = exc
        finally:
            if c.budget is not None:
                c.budget.spent(time.thread_time() - cpu0, True, at=started)
