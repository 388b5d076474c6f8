"""What the listeners and counters views show, decided here (pure; the widgets only draw it).

A value twtop did not measure is written "unknown" (VALUE_WORDS), never 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from twtop import sysinfo
from twtop.advisor import Context, owner_reason, rate
from twtop.knowledge import VALUE_WORDS
from twtop.knowledge_views import COUNTER_TEXT, VIEW_WORDS
from twtop.model import Listener, Owner, Snapshot
from twtop.text import endpoint, per_s

#: Counters in the order twtop reads them (sysinfo.COUNTERS), then the sockstat levels.
COUNTER_ORDER = (*(name for _f, _s, name in sysinfo.COUNTERS), "sockstat_tw", "sockstat_orphan",
                 "sockstat_inuse")  # fmt: skip


def owner_text(owner: Owner | None, lang: str) -> str:
    """``service[pid]``, or "unknown" (``unknown_owners`` says why, never "?")."""
    return owner.display if owner is not None else VALUE_WORDS[lang]["unknown"]


def unknown_owners(snap: Snapshot, lang: str = "en", root: bool | None = None) -> str | None:
    """Why some listeners' owners are unknown, in words (None: every owner is known)."""
    if all(x.owner is not None for x in snap.listeners):
        return None
    return owner_reason(Context(lang, os.geteuid() == 0 if root is None else root))


def queue_full(x: Listener) -> bool:
    """More queued than the backlog: the queue holds backlog + 1 at most (sk_acceptq_is_full),
    so a new connection is dropped now (kernel-facts 7b)."""
    return x.queued > x.backlog


@dataclass(frozen=True, slots=True)
class ListenerLine:
    """One row of the listeners view: raw values to sort on, words to show."""

    listener: Listener
    where: str
    queue: str  # "3/2 full" or "0/4096"
    full: bool
    syn: str  # a count, or "unknown"
    unaccepted: str
    tw_in: str  # TIME_WAITs on the port (connections its service closed first), or "unknown"
    owner: str


def listener_lines(
    snap: Snapshot, lang: str = "en", root: bool | None = None
) -> list[ListenerLine]:
    """Each listener: accept queue / backlog ("full" past it), SYN_RECV, not-yet-accepted
    CLOSE_WAIT, owner; fullest first (the engine's order, full ones on top)."""
    words, unknown = VIEW_WORDS[lang], VALUE_WORDS[lang]["unknown"]

    def num(v: int | None) -> str:
        return unknown if v is None else f"{v:,}"

    out = []
    for x in sorted(snap.listeners, key=lambda x: not queue_full(x)):
        full = queue_full(x)
        queue = words["queue"].format(queued=f"{x.queued:,}", backlog=f"{x.backlog:,}")
        out.append(ListenerLine(
            listener=x, where=endpoint(x.local, x.lport),
            queue=f"{queue} {words['full']}" if full else queue, full=full,
            syn=num(x.syn_recv), unaccepted=num(x.unaccepted_close_wait),
            tw_in=num(x.tw_on_port), owner=owner_text(x.owner, lang),
        ))  # fmt: skip
    return out


def listen_rates(snap: Snapshot, lang: str = "en") -> str:
    """The namespace's ListenOverflows and ListenDrops per second ("unknown" with one sample)."""
    unknown = VALUE_WORDS[lang]["unknown"]
    return VIEW_WORDS[lang]["listen_rates"].format(
        overflows=per_s(rate(snap, "ListenOverflows"), unknown),
        drops=per_s(rate(snap, "ListenDrops"), unknown),
    )


@dataclass(frozen=True, slots=True)
class CounterLine:
    """One row of the counters view."""

    name: str
    value: int
    rate: float | None  # None: a level, or not measured yet
    rate_text: str  # "12", "0", "unknown" or "level"
    moved: bool
    meaning: str


def counter_lines(snap: Snapshot, lang: str = "en") -> list[CounterLine]:
    """Every counter twtop read, the ones that moved since the previous poll first (fastest
    first), then the others in the order twtop reads them. Counters not read are left out."""
    words, unknown = VIEW_WORDS[lang], VALUE_WORDS[lang]["unknown"]
    out = []
    for i, name in enumerate(COUNTER_ORDER):
        if name not in snap.counters:
            continue
        gauge = name in sysinfo.GAUGES
        r = None if gauge else rate(snap, name)
        text = words["level"] if gauge else per_s(r, unknown)
        out.append((i, CounterLine(name, snap.counters[name], r, text, bool(r and r > 0),
                                   COUNTER_TEXT[lang][name])))  # fmt: skip
    out.sort(key=lambda p: (not p[1].moved, -(p[1].rate or 0.0) if p[1].moved else 0.0, p[0]))
    return [line for _i, line in out]


def counters_sampling(snap: Snapshot, lang: str = "en") -> str:
    """Over what the rates are measured, or that they are not yet."""
    words = VIEW_WORDS[lang]
    if snap.interval_s is None:
        return words["counters_one_sample"]
    return words["counters_sampling"].format(s=f"{snap.interval_s:.1f}")
