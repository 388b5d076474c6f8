"""One peer group's sockets a page at a time, sorted across the whole group, in bounded memory.

Every page is one streaming pass over the group's kernel-filtered dump. Every socket has one
integer sort key (the sort value, then the cookie, so no two keys are equal) and the page is the
``size`` best keys past its anchor. A receive buffer whose messages have one length (every
TIME_WAIT) is read by columns: the sort value's and the cookies, strided memoryview slices read in
C, and only the few sockets whose value can reach the page are keyed (``_take_columns``); other
buffers give the sort's columns by ``struct.iter_unpack`` and key every socket (``_take``). Only
the page's rows are decoded into Sockets. Memory: one receive buffer, the page, and the
first-seen memory (``Seen``, at most MAX_SEEN cookies).

Pages are anchored by keys (keyset paging), not by offsets: the next page is the ``size``
smallest keys above the last one shown, so paging through a steady group meets every socket
exactly once, and the offset shown ("501-1,000 of 1,995") is counted in the same pass. Timer keys
are deadlines (receive time + ``idiag_expires``, the ms left), which each dump reads at a slightly
different moment: timer-ordered pages overlap by JITTER_MS and the cookies already shown near the
boundary are left out, so a socket on a page boundary is neither lost nor repeated (unless its
deadline really moved: a TIME_WAIT re-armed by an incoming segment, kernel-facts 4). Going back
(BEFORE) has no such margin: only the shown page's cookies are known, and a page of a big group
spans less than JITTER_MS; a socket whose deadline moved over the boundary between the two dumps
is then on neither page going back (it is on the page going forward again).
"""

from __future__ import annotations

import contextlib
import ctypes
import heapq
import struct
import sys
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from itertools import compress, islice, repeat
from operator import add, and_, itemgetter, lshift, mul, neg, or_
from typing import Any, Protocol

from twtop import wire
from twtop.filter import Node
from twtop.keys import AddrCache, Listeners, python_accepts
from twtop.model import Socket
from twtop.session import Session
from twtop.states import ATTENTION_RANK, MASK_ALL, TcpState

#: Cookies carried from page to page to leave out near a boundary (bounded by their density):
#: those within NEAR_SPAN margins under the anchor. A socket shown earlier comes back only if
#: two dumps disagree about it by more than that.
MAX_NEAR = 65_536
NEAR_SPAN = 8
#: Sort orders of a drill-down; the first is the default (the timer that fires first on top).
SORTS = ("timer", "state", "age", "rq", "wq")
#: Sockets on one page.
PAGE_SIZE = 500
#: Cookies whose first sighting a drill-down remembers (~80 bytes each); beyond, ages are unknown.
MAX_SEEN = 200_000
#: How far two dumps may disagree about one socket's deadline: each buffer is read a little after
#: the kernel wrote it (up to ~250 ms on a loaded machine, measured).
JITTER_MS = 250
COOKIE_BITS = 64
COOKIE_MASK = (1 << COOKIE_BITS) - 1
NO_TIMER = (1 << 50) - 1  # sorts after every deadline
QUEUE_MAX = 1 << 32
#: Directions of a page request.
FIRST, AT, AFTER, BEFORE, LAST = "first", "at", "after", "before", "last"


class Cancelled(Exception):
    """The page was no longer wanted (the screen closed)."""


class Seen:
    """When this drill-down first saw each socket (by cookie), wall-clock seconds. Sockets first
    seen in the latest pass have no known age: they may be new, or older than twtop's watch."""

    def __init__(self, known: dict[int, float] | None = None, cap: int = MAX_SEEN) -> None:
        self.first: dict[int, float] = dict(known or {})
        self.cap = cap
        self.now = 0.0  # the latest pass
        self._next: dict[int, float] = {}

    def begin(self, now: float) -> None:
        """Start a pass at ``now``."""
        self.now = now
        self._next = {}

    def observe(self, cookies: list[int]) -> None:
        """Cookies met in this pass (remembered while under the cap). Dict operations in C:
        this runs for every socket of the group on every pass."""
        new = self._next
        if len(new) + len(cookies) <= self.cap:
            new.update(dict.fromkeys(cookies, self.now))
            return
        old = self.first  # at the cap: known ones first, then new ones while room is left
        known = old.keys() & cookies
        new.update(zip(known, map(old.__getitem__, known), strict=True))
        for c in cookies:
            if len(new) >= self.cap:
                break
            new.setdefault(c, self.now)

    def end(self) -> None:
        """Finish the pass: known cookies keep their first sighting, the others are forgotten."""
        old, new = self.first, self._next
        kept = old.keys() & new.keys()
        new.update(zip(kept, map(old.__getitem__, kept), strict=True))
        self.first, self._next = new, {}

    def clear(self) -> None:
        """Forget everything, the pass under way included (a cancelled pass never reaches
        ``end``: its cookies stayed in ``_next``, up to MAX_SEEN)."""
        self.first = {}
        self._next = {}

    def since(self, cookie: int) -> float | None:
        """When ``cookie`` was first seen; None when only the latest pass saw it (unknown age)."""
        t = self.first.get(cookie)
        return None if t is None or t >= self.now else t


@dataclass(frozen=True, slots=True)
class PageQuery:
    """Which page: ``direction`` from the sort key ``anchor`` (FIRST and LAST need none)."""

    sort: str = SORTS[0]
    reverse: bool = False
    direction: str = FIRST
    anchor: int | None = None
    #: Cookies on the page shown now (left out of the next/previous page: see JITTER_MS).
    exclude: frozenset[int] = frozenset()
    size: int = PAGE_SIZE


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a group: sockets in sort order, their keys and first sightings."""

    query: PageQuery
    sockets: tuple[Socket, ...]
    keys: tuple[int, ...]
    seen: tuple[float | None, ...]  # wall-clock first sighting; None: first seen in this pass
    offset: int  # sockets of the group before this page, in this pass's order
    total: int  # sockets in the group in this pass
    fetched_at: float  # wall clock of the pass
    cpu_s: float  # CPU time of the pass (this thread)
    #: Cookies shown on earlier pages whose keys lie within the margin of ``high``.
    near: frozenset[int] = frozenset()
    high: int | None = None  # the anchor of the next page (see _high)

    def cookie(self, i: int) -> int:
        """The cookie of the i-th socket, from its key."""
        return cookie_of(self.keys[i], self.query.reverse)


def next_query(page: Page, direction: str) -> PageQuery:
    """The query of the page after (AFTER) or before (BEFORE) ``page``; FIRST/LAST any page.
    Going forward, every socket already shown near the boundary is left out (JITTER_MS). The page
    before one that starts within a page of the top is the first page (one pass, not a short
    BEFORE page and then the first: fetch_page)."""
    q = page.query
    if direction == BEFORE and page.offset <= q.size:
        direction = FIRST
    if direction not in (AFTER, BEFORE) or not page.keys:
        return PageQuery(q.sort, q.reverse, direction if direction == LAST else FIRST, size=q.size)
    shown = frozenset(page.cookie(i) for i in range(len(page.keys)))
    if direction == AFTER:
        high = page.keys[-1] if page.high is None else page.high
        return PageQuery(q.sort, q.reverse, AFTER, high, shown | page.near, q.size)
    return PageQuery(q.sort, q.reverse, BEFORE, page.keys[0], shown, q.size)


def cookie_of(key: int, reverse: bool) -> int:
    """The cookie a sort key ends with."""
    return (-key if reverse else key) & COOKIE_MASK


# -- sort keys ---------------------------------------------------------------------------------
#: Fields each sort reads from a message (besides the cookie and, for process groups, the inode).
_FIELDS: dict[str, tuple[tuple[int, str], ...]] = {
    "timer": ((wire.OFF_TIMER, "B"), (wire.OFF_EXPIRES, "I")),
    "state": ((wire.OFF_STATE, "B"), (wire.OFF_TIMER, "B"), (wire.OFF_EXPIRES, "I")),
    "age": (),
    "rq": ((wire.OFF_RQUEUE, "I"),),
    "wq": ((wire.OFF_WQUEUE, "I"),),
}
_ROW_INDEX = {wire.OFF_STATE: wire.R_STATE, wire.OFF_TIMER: wire.R_TIMER,
              wire.OFF_EXPIRES: wire.R_EXPIRES, wire.OFF_RQUEUE: wire.R_RQUEUE,
              wire.OFF_WQUEUE: wire.R_WQUEUE, wire.OFF_COOKIE: wire.R_COOKIE,
              wire.OFF_INODE: wire.R_INODE}  # fmt: skip
_RANK = {int(s): r for s, r in ATTENTION_RANK.items()}
_UNRANKED = len(_RANK)


def fields(sort: str, inode: bool) -> tuple[tuple[int, str], ...]:
    """The (offset, code) pairs a pass reads: the sort's fields, the cookie, maybe the inode;
    in message order."""
    want = {*_FIELDS[sort], (wire.OFF_COOKIE, "Q")}
    if inode:
        want.add((wire.OFF_INODE, "I"))
    return tuple(sorted(want))


def sort_keys(
    sort: str, cols: list[tuple[int, ...]], at_ms: int, seen: Seen, reverse: bool
) -> list[int]:
    """One key per socket (``cols``: tuples of ``fields(sort, ...)`` values), smaller first: the
    sort value shifted over the cookie. Values: a deadline; an attention rank, then a deadline; a
    first sighting (ms); a queue, inverted so the fullest comes first."""
    b = COOKIE_BITS
    if sort == "timer":
        keys = [((at_ms + e if t else NO_TIMER) << b) | c for t, c, e, *_ in cols]
    elif sort == "state":
        keys = [(((_RANK.get(s, _UNRANKED) << 51) | (at_ms + e if t else NO_TIMER)) << b) | c
                for s, t, c, e, *_ in cols]  # fmt: skip
    elif sort == "age":
        first, now = seen.first, seen.now
        keys = [(int(first.get(c, now) * 1000) << b) | c for c, *_ in cols]
    else:  # rq / wq
        keys = [((QUEUE_MAX - q) << b) | c for c, q, *_ in cols]
    return [-k for k in keys] if reverse else keys


def margin(sort: str, reverse: bool, anchor: int) -> int:
    """How far a page reaches back over its anchor: deadlines move between dumps; every other
    value (a socket with no timer, a rank, a queue, a first sighting) stays put."""
    if sort not in ("timer", "state"):
        return 0
    primary = (-anchor if reverse else anchor) >> COOKIE_BITS
    return 0 if primary & NO_TIMER == NO_TIMER else JITTER_MS << COOKIE_BITS


# -- one pass --------------------------------------------------------------------------------------
Chunk = tuple[bytes, int, list[wire.Row] | None]


@dataclass(slots=True)
class _Pass:
    """What one pass keeps: the best (key, row) pairs, counts for the offset."""

    q: PageQuery
    lo: int | None  # candidates have keys >= lo (FIRST/LAST/BEFORE: None)
    hi: int | None  # ... and < hi (BEFORE only)
    largest: bool  # keep the largest keys (BEFORE, LAST) rather than the smallest
    best: list[tuple[int, Any]]  # (key, a row or a Socket)
    total: int = 0
    below: int = 0  # sockets under ``lo``
    candidates: int = 0
    excluded: list[tuple[int, int]] | None = None  # (key, cookie) of excluded sockets
    zone: int | None = None  # excluded sockets are looked for from this key up (AFTER)


def _plan(q: PageQuery) -> _Pass:
    m = 0 if q.anchor is None else margin(q.sort, q.reverse, q.anchor)
    if q.direction in (AT, AFTER) and q.anchor is not None:  # AT: the page on screen again
        if q.direction == AT:
            return _Pass(q, q.anchor, None, False, [], excluded=[])
        zone = q.anchor - NEAR_SPAN * m
        return _Pass(q, q.anchor - m, None, False, [], excluded=[], zone=zone)
    if q.direction == BEFORE and q.anchor is not None:  # no margin: above the anchor are the
        # pages after the one shown, and only that one's cookies are known (a page of a big
        # group spans less than JITTER_MS: a margin brought back a later page, not this one)
        return _Pass(q, None, q.anchor, True, [], excluded=[])
    return _Pass(q, None, None, q.direction == LAST, [], excluded=[])


def _take(p: _Pass, keys: list[int], row: Callable[[int], Any]) -> None:
    """Fold one buffer's keys into the pass (``row(i)`` decodes the i-th socket)."""
    p.total += len(keys)
    q, lo, hi = p.q, p.lo, p.hi
    idx: Iterable[int] = range(len(keys))
    out: set[int] = set()
    if q.exclude and p.excluded is not None:  # sockets shown already: left out, remembered
        zone = p.zone if p.zone is not None else (lo if lo is not None else -(1 << 127))
        for i in [i for i in idx if keys[i] >= zone]:
            c = cookie_of(keys[i], q.reverse)
            if c in q.exclude:
                out.add(i)
                p.excluded.append((keys[i], c))
    if lo is not None:
        idx = [i for i in idx if keys[i] >= lo]
        p.below += len(keys) - len(idx)
    if hi is not None:
        idx = [i for i in idx if keys[i] < hi]
    idx = [i for i in idx if i not in out] if out else list(idx)
    p.candidates += len(idx)
    size, best = q.size, p.best
    if len(best) >= size:  # only keys that beat the page's worst
        worst = best[0][0] if p.largest else best[-1][0]
        idx = [i for i in idx if (keys[i] > worst if p.largest else keys[i] < worst)]
    pick = heapq.nlargest if p.largest else heapq.nsmallest
    won = pick(size, idx, key=keys.__getitem__)
    if won:
        merged = best + [(keys[i], row(i)) for i in won]
        p.best = sorted(pick(size, merged, key=_first))


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


def _high(p: _Pass) -> int | None:
    """The highest key shown so far going forward: the next page's anchor. Deadlines from
    different dumps disagree by a few ms, so a page can end below the anchor it started from;
    the anchor never moves back, so the margin below it only ever covers sockets left out."""
    last = p.best[-1][0] if p.best else None
    if p.q.direction == AFTER and p.q.anchor is not None:
        return p.q.anchor if last is None else max(last, p.q.anchor)
    return last


def _near(p: _Pass) -> frozenset[int]:
    """The excluded cookies the next page must leave out too (see Page.near)."""
    high = _high(p)
    if high is None or not p.excluded:
        return frozenset()
    lo = high - NEAR_SPAN * margin(p.q.sort, p.q.reverse, high)
    return frozenset(islice((c for k, c in p.excluded if k >= lo), MAX_NEAR))


def _offset(p: _Pass) -> int:
    """Sockets before the page's first one, in this pass."""
    if not p.best:
        return p.total if p.q.direction in (AFTER, LAST) else 0
    first = p.best[0][0]
    if p.q.direction == LAST:
        return p.total - len(p.best)
    if p.q.direction == AFTER:  # every socket left out was shown before this page
        lo = p.lo if p.lo is not None else 0
        return p.below + sum(1 for k, _c in p.excluded or () if k >= lo)
    before_first = sum(1 for k, _c in p.excluded or () if k < first)
    if p.largest:
        return p.candidates - len(p.best) + before_first
    return p.below + before_first


def run_pass(
    chunks: Iterable[Chunk],
    q: PageQuery,
    seen: Seen,
    accept: Callable[[wire.Row], bool] | None,
    keep_inode: Callable[[int], bool] | None,
    cancelled: Callable[[], bool] | None = None,
) -> _Pass:
    """One pass over a group's dump: the page's (key, row) pairs in sort order (``best``), the
    group's size and what the offset needs. ``accept``: the filter's Python part (rows are then
    decoded in full); ``keep_inode``: a process group's owner test. Raises Cancelled between
    buffers."""
    p = _plan(q)
    layout = fields(q.sort, keep_inode is not None)
    pos = {off: i for i, (off, _c) in enumerate(layout)}
    cookie_col = itemgetter(pos[wire.OFF_COOKIE])
    for buf, length, rows in chunks:
        if cancelled is not None and cancelled():
            raise Cancelled()
        at_ms = int(time.monotonic() * 1000)
        if length and accept is None and _fast(p, buf, length, at_ms, seen, keep_inode):
            continue
        cols, row = _columns(buf, length, rows, layout, accept)
        if keep_inode is not None:
            cols, row = _owned(cols, row, pos[wire.OFF_INODE], keep_inode)
        seen.observe(list(map(cookie_col, cols)))
        keys = sort_keys(q.sort, cols, at_ms, seen, q.reverse)
        _take(p, keys, partial(_deadline_row, row, at_ms))
    return p


# -- the fast path: one uniform buffer by columns --------------------------------------------------
# A buffer of messages of one length L (every TIME_WAIT of a group: no attributes) is a table with
# a fixed stride, so a column is a strided slice of a memoryview, read in C (``tolist``). Only the
# sort value's column and the cookies are read; a socket's full key is made only when its sort
# value could put it on the page or on a bound (the "window" below), which for a big group is a
# few per buffer. Counts (the offset) come from the sorted column with bisect. Buffers it cannot
# take (mixed states or timers for these sorts, owned sockets, a filter's Python part) go the
# general way (``_columns`` and ``_take``), with the same keys.


def _fast(
    p: _Pass, buf: bytes, length: int, at_ms: int, seen: Seen,
    keep_inode: Callable[[int], bool] | None,
) -> bool:  # fmt: skip
    """Fold one uniform buffer into the pass by columns; False: it needs the general way."""
    if length % 4:
        return False
    words = memoryview(buf).cast("I")
    step = length // 4
    if keep_inode is not None:
        if any(words[wire.OFF_INODE // 4 :: step].tolist()):
            return False  # owned sockets: a test per inode
        if not keep_inode(0):
            return True  # none of this buffer is in the group
    value = _values(p.q.sort, buf, length, words, at_ms)
    if value is None:
        return False
    cookies = _cookies(buf, length, words)
    seen.observe(cookies)
    base, sign, xs = value
    if xs is None:  # the age: the first sighting before this pass, in ms
        first, now = seen.first, seen.now
        when = list(map(first.get, cookies, repeat(now)))  # a few distinct values: one a pass
        ms = {f: int(f * 1000) for f in set(when)}
        xs = list(map(ms.__getitem__, when))
    _take_columns(
        p, cookies, base, sign, xs, partial(_deadline_row, partial(_unpack, buf, length), at_ms)
    )
    return True


def _unpack(buf: bytes, length: int, i: int) -> wire.Row:
    return wire.unpack_row(buf, i * length)


def _values(
    sort: str, buf: bytes, length: int, words: memoryview, at_ms: int
) -> tuple[int, int, list[int] | None] | None:
    """Each socket's sort value as ``base + sign * x`` (x: a column; None: the age, from the
    first sightings), or None when the buffer needs the general way."""
    step = length // 4
    if sort in ("timer", "state"):
        timers = buf[wire.OFF_TIMER :: length]
        base = 0
        if sort == "state":
            states = buf[wire.OFF_STATE :: length]
            if states.count(states[0]) != len(states):
                return None
            base = _RANK.get(states[0], _UNRANKED) << 51
        if 0 not in timers:
            return base + at_ms, 1, words[wire.OFF_EXPIRES // 4 :: step].tolist()
        if timers.count(0) == len(timers):
            return base + NO_TIMER, 1, [0] * len(timers)
        return None
    if sort == "age":
        return 0, 1, None
    off = wire.OFF_RQUEUE if sort == "rq" else wire.OFF_WQUEUE
    return QUEUE_MAX, -1, words[off // 4 :: step].tolist()


def _cookies(buf: bytes, length: int, words: memoryview) -> list[int]:
    """The cookie (a native u64 at OFF_COOKIE) of every message of a uniform buffer."""
    if length % 8 == 0 and wire.OFF_COOKIE % 8 == 4:  # every cookie 4 bytes past an 8-byte slot
        quads = memoryview(buf)[4 : len(buf) - 4].cast("Q")
        return quads[(wire.OFF_COOKIE - 4) // 8 :: length // 8].tolist()
    step = length // 4
    lo = words[wire.OFF_COOKIE // 4 :: step].tolist()
    hi = words[wire.OFF_COOKIE // 4 + 1 :: step].tolist()
    if sys.byteorder == "big":
        lo, hi = hi, lo
    return [a | b << 32 for a, b in zip(lo, hi, strict=True)]


_INF = 1 << 200  # beyond every sort value


def _take_columns(
    p: _Pass, cookies: list[int], base: int, sign: int, xs: list[int],
    row: Callable[[int], Any],
) -> None:  # fmt: skip
    """``_take`` for a buffer given by columns: socket i's sort value is ``base + sign * xs[i]``
    and its key ``(value << COOKIE_BITS | cookie)``, negated when reversed.

    With u the value (negated when reversed) and P = X >> COOKIE_BITS for a key bound X, a key is
    surely below X when u < P and surely not when u > P + 1; only sockets between are keyed. When
    the whole buffer has one value, u is the key itself (x: the cookie), and bounds are exact."""
    q, lo, hi = p.q, p.lo, p.hi
    n = len(xs)
    p.total += n
    r = -1 if q.reverse else 1
    b, slack = COOKIE_BITS, 1
    if n and xs[0] == min(xs) == max(xs):  # one sort value (no queue, no timer): u is the key
        base, sign, xs, b, slack = (base + sign * xs[0]) << b, 1, cookies, 0, 0
    ub, us = r * base, r * sign  # u = ub + us * x
    full = len(p.best) >= q.size

    def key(i: int) -> int:
        return r * (((base + sign * xs[i]) << b) | cookies[i])

    out, out_in = _left_out(p, cookies, key)
    if p.largest:  # window [A, B]: below A surely in range and no winner; above B out of range
        a = (p.best[0][0] >> b) if full else -_INF
        z = (hi >> b) + slack if hi is not None else _INF
    else:  # below A surely under lo; above B surely in range and no winner
        a = (lo >> b) if lo is not None else -_INF
        z = (p.best[-1][0] >> b) + slack if full else _INF
    under, idx = _window(xs, a - ub, z - ub) if us > 0 else _window(xs, ub - z, ub - a, True)
    inside = len(idx)
    above = n - under - inside
    pairs: list[tuple[int, int]] = []
    below = in_range = 0
    if inside:
        sel = idx if isinstance(idx, range) else list(idx)
        keys = _window_keys(sel, xs, cookies, base, sign, b, r)
        pairs, below, in_range = _window_winners(p, keys, sel, full, out)
    if p.largest:
        in_range += under
    else:
        below += under
        in_range += above
    p.below += below
    p.candidates += in_range - out_in
    if pairs:  # keys are unique: tuples compare by key alone; sorted runs merge in C
        size = q.size
        won = pairs[-size:] if p.largest else pairs[:size]
        merged = sorted(p.best + [(k, row(i)) for k, i in won])
        p.best = merged[-size:] if p.largest else merged[:size]


def _window_keys(
    sel: Sequence[int], xs: list[int], cookies: list[int], base: int, sign: int, b: int, r: int
) -> Iterator[int]:
    """The keys of the window's sockets ``sel``: ``r * ((base + sign * x) << b | cookie)``, by
    C-level maps (no Python frame per socket)."""
    vals = map(xs.__getitem__, sel)
    if sign != 1:
        vals = map(mul, vals, repeat(sign))
    vals = map(add, vals, repeat(base))
    keys = map(or_, map(lshift, vals, repeat(b)), map(cookies.__getitem__, sel))
    return map(neg, keys) if r < 0 else keys


def _window_winners(
    p: _Pass, keys: Iterator[int], sel: Sequence[int], full: bool, out: set[int]
) -> tuple[list[tuple[int, int]], int, int]:
    """The window's (key, index) pairs that can reach the page, sorted; with how many keys fall
    below the page's range and within it (bounds by bisect over the sorted keys)."""
    lo, hi = p.lo, p.hi
    pairs = sorted(zip(keys, sel, strict=True))
    ks = list(map(itemgetter(0), pairs))
    i0 = 0 if lo is None else bisect_left(ks, lo)
    i1 = len(ks) if hi is None else bisect_left(ks, hi)
    below, in_range = i0, max(0, i1 - i0)
    if full and p.largest:  # only keys that beat the page's worst
        i0 = max(i0, bisect_right(ks, p.best[0][0]))
    elif full:
        i1 = min(i1, bisect_left(ks, p.best[-1][0]))
    pairs = pairs[i0:i1]
    if out:
        pairs = [(k, i) for k, i in pairs if i not in out]
    return pairs, below, in_range


def _left_out(p: _Pass, cookies: list[int], key: Callable[[int], int]) -> tuple[set[int], int]:
    """The buffer's sockets shown already (``PageQuery.exclude``) that this page leaves out, as
    ``_take`` does, and how many of them have keys in [lo, hi)."""
    q, lo, hi = p.q, p.lo, p.hi
    out: set[int] = set()
    out_in = 0
    if q.exclude and p.excluded is not None:
        zone = p.zone if p.zone is not None else (lo if lo is not None else -(1 << 127))
        for c in q.exclude.intersection(cookies):
            i = cookies.index(c)
            k = key(i)
            if k >= zone:
                out.add(i)
                p.excluded.append((k, c))
                out_in += (lo is None or k >= lo) and (hi is None or k < hi)
    return out, out_in


def _window(xs: list[int], lx: int, hx: int, high: bool = False) -> tuple[int, Sequence[int]]:
    """How many ``xs`` are under ``lx`` (``high``: over ``hx``), and the indexes of those in
    [lx, hx]. Most buffers of a big group lie wholly outside the window (min and max, in C)."""
    n = len(xs)
    mn, mx = min(xs, default=0), max(xs, default=0)
    if mx < lx or mn > hx:
        return (n if (mn > hx if high else mx < lx) else 0), ()
    if lx <= mn and mx <= hx:
        return 0, range(n)
    srt = sorted(xs)
    i0, i1 = bisect_left(srt, lx), bisect_right(srt, hx)
    under = n - i1 if high else i0
    if i1 - i0 <= 32:
        return under, _positions(xs, srt[i0:i1])
    return under, list(compress(range(n), map(and_, map(lx.__le__, xs), map(hx.__ge__, xs))))


def _positions(xs: list[int], values: list[int]) -> list[int]:
    """The indexes in ``xs`` of ``values`` (sorted, repeats allowed), by C-speed searches."""
    out, prev, at = [], None, 0
    for v in values:
        at = xs.index(v, at + 1 if v == prev else 0)
        out.append(at)
        prev = v
    return out


def _owned(
    cols: list[tuple[int, ...]], row: Callable[[int], wire.Row], at: int,
    keep: Callable[[int], bool],
) -> tuple[list[tuple[int, ...]], Callable[[int], wire.Row]]:  # fmt: skip
    """The sockets of a process group (``keep`` on the inode column ``at``)."""
    inodes = list(map(itemgetter(at), cols))
    if not any(inodes):  # TIME_WAIT and request sockets: inode 0, one answer for all
        return (cols, row) if keep(0) else ([], row)
    sel = [i for i, ino in enumerate(inodes) if keep(ino)]
    return [cols[i] for i in sel], lambda i: row(sel[i])


def _deadline_row(row: Callable[[int], wire.Row], at_ms: int, i: int) -> wire.Row:
    """The i-th row with its timer as a deadline (ms, monotonic): buffers are read at
    different moments, so a page's timers are made relative to one instant at its end."""
    r = row(i)
    if not r[wire.R_TIMER]:
        return r
    return (*r[: wire.R_EXPIRES], at_ms + r[wire.R_EXPIRES], *r[wire.R_EXPIRES + 1 :])


def _columns(
    buf: bytes, length: int, rows: list[wire.Row] | None,
    layout: tuple[tuple[int, str], ...], accept: Callable[[wire.Row], bool] | None,
) -> tuple[list[tuple[int, ...]], Callable[[int], wire.Row]]:  # fmt: skip
    """The sort columns of one receive buffer, and how to decode its i-th socket in full."""
    if length and accept is None:
        fmt = _struct(layout, length)
        cols = list(fmt.iter_unpack(buf))
        return cols, lambda i: wire.unpack_row(buf, i * length)
    if length:
        rows = wire.unpack_rows(buf, length)
    kept = [r for r in rows or () if accept is None or accept(r)]
    idx = [_ROW_INDEX[off] for off, _c in layout]
    if len(idx) == 1:
        return [(r[idx[0]],) for r in kept], kept.__getitem__
    return list(map(itemgetter(*idx), kept)), kept.__getitem__


_structs: dict[tuple[tuple[tuple[int, str], ...], int], struct.Struct] = {}


def _struct(layout: tuple[tuple[int, str], ...], length: int) -> struct.Struct:
    s = _structs.get((layout, length))
    if s is None:
        s = _structs[(layout, length)] = struct.Struct(wire.layout(layout, length))
    return s


class ToSocket(Protocol):
    """Collector.to_socket: a decoded row as a Socket, direction from the listeners."""

    def __call__(self, family: int, r: wire.Row, listeners: Listeners | None = None,
                 addr: AddrCache | None = None) -> Socket: ...  # fmt: skip


def give_back() -> None:
    """Return freed heap to the system (glibc ``malloc_trim``): a drill-down's big dicts come from
    malloc's heap, which keeps freed pages mapped, so RSS stayed up after Esc (measured: +25-35 MB
    at 600k TIME_WAITs). Nothing elsewhere."""
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).malloc_trim(0)


def listeners_of(session: Session) -> Listeners:
    """The listening sockets (a LISTEN dump: the kernel walks only the listening hash)."""
    found = Listeners()
    for rows in session.rows(1 << TcpState.LISTEN):
        for r in rows:
            if r[wire.R_STATE] == TcpState.LISTEN:
                found.add(r[wire.R_FAMILY], r)
    return found


def fetch_page(
    session: Session,
    selection: tuple[int, bytes, Callable[[int], bool] | None],
    node: Node | None,
    q: PageQuery,
    seen: Seen,
    to_socket: ToSocket,
    cancelled: Callable[[], bool] | None = None,
) -> Page:
    """One page of a group (``selection``: keys.group_selection; ``node``: the filter's Python
    part) in one pass over its dump; a page before the first is the first page."""
    c0, now = time.thread_time(), time.time()
    mask, prog, keep = selection
    listeners = listeners_of(session)
    seen.begin(now)
    accept = None if node is None else partial(python_accepts, node)
    chunks = session.chunks(mask & MASK_ALL, prog) if mask & MASK_ALL else iter(())
    try:
        p = run_pass(chunks, q, seen, accept, keep, cancelled)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # an abandoned dump: the session drops its socket (session.py)
    seen.end()
    if q.direction == BEFORE and len(p.best) < q.size and p.total > len(p.best):
        return fetch_page(session, selection, node, replace(q, direction=FIRST, anchor=None),
                          seen, to_socket, cancelled)  # fmt: skip
    addr, end_ms = AddrCache(), int(time.monotonic() * 1000)
    best = [(k, _relative(r, end_ms)) for k, r in p.best]
    return Page(
        query=q,
        sockets=tuple(to_socket(r[wire.R_FAMILY], r, listeners, addr) for _k, r in best),
        keys=tuple(k for k, _r in best),
        seen=tuple(seen.since(r[wire.R_COOKIE]) for _k, r in best),
        offset=_offset(p),
        total=p.total,
        fetched_at=now,
        cpu_s=time.thread_time() - c0,
        near=_near(p),
        high=_high(p),
    )


def _relative(r: wire.Row, end_ms: int) -> wire.Row:
    """A row's timer deadline back to ms left at ``end_ms``."""
    if not r[wire.R_TIMER]:
        return r
    left = max(0, r[wire.R_EXPIRES] - end_ms)
    return (*r[: wire.R_EXPIRES], left, *r[wire.R_EXPIRES + 1 :])


_ATTR = {wire.OFF_STATE: "state", wire.OFF_TIMER: "timer", wire.OFF_EXPIRES: "expires_ms",
         wire.OFF_RQUEUE: "rqueue", wire.OFF_WQUEUE: "wqueue",
         wire.OFF_COOKIE: "cookie"}  # fmt: skip


def list_page(socks: Sequence[Socket], q: PageQuery, seen: Seen, now: float) -> Page:
    """The same page over Sockets already in memory (a fake source, a replay): same keys, same
    anchors, same offsets."""
    seen.begin(now)
    seen.observe([s.cookie for s in socks])
    names = [_ATTR[off] for off, _c in fields(q.sort, False)]
    cols = [tuple(int(getattr(s, n)) for n in names) for s in socks]
    p = _plan(q)
    _take(p, sort_keys(q.sort, cols, 0, seen, q.reverse), list(socks).__getitem__)
    seen.end()
    best: list[tuple[int, Socket]] = p.best
    shown = tuple(s for _k, s in best)
    since = tuple(seen.since(s.cookie) for s in shown)
    keys = tuple(k for k, _s in best)
    return Page(q, shown, keys, since, _offset(p), p.total, now, 0.0, _near(p), _high(p))


def pages_of(fetch: Callable[[PageQuery], Page], q: PageQuery) -> Iterator[Page]:
    """Every page from ``q`` on, each after the one before (benchmarks and tests)."""
    while True:
        page = fetch(q)
        yield page
        if not page.sockets or page.offset + len(page.sockets) >= page.total:
            return
        q = next_query(page, AFTER)
