"""Paging and sorting a group without root (pages.list_page: the same keys, anchors and offsets
as a kernel pass), the first-sighting memory, and the drill-down's column layout."""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import replace
from typing import Any

import pytest

from twtop import pages, wire
from twtop.model import Socket
from twtop.pages import AFTER, BEFORE, FIRST, LAST, PageQuery, Seen, list_page, next_query
from twtop.states import TcpState
from widgets.sockets import layout

BASE = Socket(socket.AF_INET, TcpState.TIME_WAIT, "10.0.0.1", 1, "10.0.0.2", 80, 3, 0, 0, 0, 0,
              0, 0, 0)  # fmt: skip


def _group(n: int) -> list[Socket]:
    """n sockets: TIME_WAITs with distinct timers, every 7th ESTABLISHED (no timer) with a queue."""
    out = []
    for i in range(n):
        s = replace(BASE, lport=1000 + i, cookie=10_000 + i, expires_ms=(i * 37) % 60_000)
        if i % 7 == 0:
            s = replace(s, state=TcpState.ESTABLISHED, timer=0, expires_ms=0, rqueue=i)
        out.append(s)
    return out


def _walk(socks: list[Socket], sort: str, reverse: bool = False, size: int = 10) -> list[Socket]:
    seen, q, shown = Seen(), PageQuery(sort, reverse, size=size), []
    while True:
        page = list_page(socks, q, seen, 1000.0)
        shown += page.sockets
        assert page.offset == len(shown) - len(page.sockets)  # "11-20 of N"
        if page.offset + len(page.sockets) >= page.total:
            return shown
        q = next_query(page, AFTER)


def test_every_sort_pages_through_all_exactly_once_in_order() -> None:
    socks = _group(95)
    for sort in pages.SORTS:
        for reverse in (False, True):
            shown = _walk(socks, sort, reverse)
            assert sorted(s.cookie for s in shown) == [s.cookie for s in socks], (sort, reverse)
    timers = [s.expires_ms for s in _walk(socks, "timer") if s.timer]
    assert timers == sorted(timers)
    by_timer = _walk(socks, "timer")
    assert all(not s.timer for s in by_timer[-14:])  # no timer: last
    rq = [s.rqueue for s in _walk(socks, "rq")]
    assert rq == sorted(rq, reverse=True)  # the fullest first
    reversed_rq = [s.rqueue for s in _walk(socks, "rq", True)]
    assert reversed_rq == sorted(reversed_rq)  # r: the emptiest first
    state = [s.state for s in _walk(socks, "state")]
    assert state.index(TcpState.ESTABLISHED) > state.index(TcpState.TIME_WAIT)


def test_before_last_and_first_pages() -> None:
    socks, seen = _group(95), Seen()
    first = list_page(socks, PageQuery("rq", size=10), seen, 1.0)
    second = list_page(socks, next_query(first, AFTER), seen, 1.0)
    third = list_page(socks, next_query(second, AFTER), seen, 1.0)
    back = list_page(socks, next_query(third, BEFORE), seen, 1.0)
    assert back.sockets == second.sockets and back.offset == 10
    top = list_page(socks, next_query(second, BEFORE), seen, 1.0)
    assert top.query.direction == FIRST and top.sockets == first.sockets  # one pass
    last = list_page(socks, next_query(third, LAST), seen, 1.0)
    assert last.offset == 85 and len(last.sockets) == 10
    assert next_query(third, FIRST).direction == FIRST


def test_seen_keeps_first_sightings_forgets_the_gone_and_stops_at_its_cap() -> None:
    seen = Seen(cap=3)
    seen.begin(10.0)
    seen.observe([1, 2])
    seen.end()
    assert seen.since(1) is None  # seen only in the latest pass: unknown
    seen.begin(20.0)
    seen.observe([1, 3, 4, 5])  # 2 is gone; 4 and 5 do not fit under the cap of 3 with 1, 3
    seen.end()
    assert seen.since(1) == 10.0 and seen.since(2) is None
    assert set(seen.first) == {1, 3, 4} or set(seen.first) == {1, 3, 5}


def test_age_sort_puts_the_first_seen_first_and_unknown_last() -> None:
    socks, seen = _group(20), Seen()
    list_page(socks[:10], PageQuery("age", size=50), seen, 100.0)
    page = list_page(socks, PageQuery("age", size=50), seen, 200.0)
    assert {s.cookie for s in page.sockets[:10]} == {s.cookie for s in socks[:10]}
    assert page.seen[:10] == (100.0,) * 10 and page.seen[10:] == (None,) * 10


def test_the_sort_column_stays_on_screen_at_80_columns() -> None:
    for sort, column in (("age", "seen"), ("rq", "rq"), ("wq", "wq")):
        widths = layout(80, sort)
        assert column in widths and "process" in widths, sort
        assert sum(widths.values()) <= 77
    assert "seen" not in layout(80, "timer") and "rq" not in layout(80, "timer")
    assert {"seen", "rq", "wq"} <= set(layout(120, "timer"))


def test_a_costly_group_refreshes_less_often() -> None:
    """The drill-down's refresh keeps within the CPU budget: max(interval, pass CPU / budget)."""
    from tui.screens.peer import refresh_after

    assert refresh_after(1.0, 0.45, 10.0) == 4.5  # 0.45 s a pass at 10% of a core
    assert refresh_after(2.0, 0.01, 10.0) == 2.0


# -- the column path against a plain decode and sort --------------------------------------------
HDR = struct.Struct("=IHHII")


def _msg(i: int, state: int, timer: int, expires: int, rq: int, pad: int, v6: bool) -> bytes:
    """One inet_diag_msg (cookie 1000 + i) padded with ``pad`` bytes of attributes."""
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    body = struct.pack("=BBBBHH16s16sIQIIIII", fam, state, timer, 0, 1000 + i % 60000, 80,
                       bytes(16), bytes(16), 0, 1000 + i, expires, rq, 0, 0, 0)  # fmt: skip
    return HDR.pack(16 + len(body) + pad, wire.SOCK_DIAG_BY_FAMILY, 2, 1, 0) + body + bytes(pad)


def _buffers(n: int, kind: str, pad: int, v6: bool) -> list[bytes]:
    """Buffers of ~700 messages: TIME_WAITs with few distinct timers (ties: the cookie decides),
    no timers, mixed states and timers (the general way), CLOSE_WAITs with keepalive timers among
    TIME_WAITs (the state sort goes the general way), or queues."""
    msgs = []
    for i in range(n):
        tw = (6, 3, (i * 7919) % 97 * 13, 0)
        if kind == "mixed" and i % 5 == 0:
            tw = (1, 0, 0, i % 11)
        elif kind == "states" and i % 3 == 0:  # every socket has a timer; states differ
            tw = (8, 2, (i * 7919) % 89 * 17, 0)
        elif kind == "notimer":
            tw = (1, 0, 0, (i * 31) % 7)
        msgs.append(_msg(i, *tw, pad, v6))
    return [b"".join(msgs[j : j + 700]) for j in range(0, n, 700)]


def _plain(
    bufs: list[bytes] | list[pages.Chunk], sort: str, reverse: bool, seen: Seen, now_ms: int
) -> list[int]:
    """Every key by decoding every row and sorting them all."""
    keys = []
    for buf, length, rows in _chunks(bufs):
        for r in wire.unpack_rows(buf, length) if length else rows or ():
            t, e, c = r[wire.R_TIMER], r[wire.R_EXPIRES], r[wire.R_COOKIE]
            deadline = now_ms + e if t else pages.NO_TIMER
            if sort == "timer":
                v = deadline
            elif sort == "state":
                v = (pages._RANK.get(r[wire.R_STATE], pages._UNRANKED) << 51) | deadline
            elif sort == "age":
                v = int(seen.first.get(c, seen.now) * 1000)
            else:
                v = pages.QUEUE_MAX - r[wire.R_RQUEUE if sort == "rq" else wire.R_WQUEUE]
            k = (v << pages.COOKIE_BITS) | c
            keys.append(-k if reverse else k)
    return sorted(keys)


def _chunks(bufs: list[bytes] | list[pages.Chunk]) -> list[pages.Chunk]:
    """Receive buffers as the session gives them (a real dump's, or buffers made here)."""
    return [b if isinstance(b, tuple) else (b, wire.uniform_length(b), None) for b in bufs]


def _fetch(bufs: list[bytes] | list[pages.Chunk], q: PageQuery, seen: Seen) -> pages.Page:
    seen.begin(2000.0)
    p = pages.run_pass(_chunks(bufs), q, seen, None, None)
    seen.end()
    rows = tuple(r for _k, r in p.best)
    keys = tuple(k for k, _r in p.best)
    return pages.Page(q, rows, keys, (), pages._offset(p), p.total, 0.0, 0.0,  # type: ignore[arg-type]
                      pages._near(p), pages._high(p))  # fmt: skip


@pytest.mark.parametrize("pad", [0, 4])  # 88 bytes: cookies as u64; 92: as two u32
@pytest.mark.parametrize("kind", ["tw", "notimer", "mixed", "states"])
def test_columns_page_like_a_full_sort(kind: str, pad: int, monkeypatch: Any) -> None:
    """Every sort, both directions, v4 and v6: paging forward from the first page and back from
    the last gives exactly the full sort's order, offsets and total (the clock stands still)."""
    monkeypatch.setattr(pages.time, "monotonic", lambda: 1000.0)
    if os.environ.get("SLOW"):
        monkeypatch.setattr(pages, "_fast", lambda *a: False)
    for v6 in (False, True):
        check_paging(_buffers(2345, kind, pad, v6))


def check_paging(bufs: list[bytes] | list[pages.Chunk], size: int = 250) -> None:
    """Pages forward from the first and back from the last, every sort and direction, against a
    plain decode and sort of the same buffers (with pages.time.monotonic standing still)."""
    n = sum(len(wire.unpack_rows(b, k)) if k else len(r or ()) for b, k, r in _chunks(bufs))
    for sort in pages.SORTS:
        for reverse in (False, True):
            cookies = [r[wire.R_COOKIE] for b, k, rs in _chunks(bufs)
                       for r in (wire.unpack_rows(b, k) if k else rs or ())]  # fmt: skip
            seen = Seen({c: 1.0 + i % 3 for i, c in enumerate(cookies[::2])})
            ref = Seen(seen.first)
            ref.now = 2000.0  # _fetch's
            want = _plain(bufs, sort, reverse, ref, 1_000_000)
            assert len(want) == n
            got, page = [], _fetch(bufs, PageQuery(sort, reverse, size=size), seen)
            while True:
                assert page.offset == len(got) and page.total == len(want)
                got += page.keys
                if len(got) >= page.total:
                    break
                page = _fetch(bufs, next_query(page, AFTER), seen)
            assert got == want, (sort, reverse)
            back, page = [], _fetch(bufs, PageQuery(sort, reverse, LAST, size=size), seen)
            while True:
                if page.query.direction == FIRST:  # the first page, over the top of the last
                    assert page.offset == 0 and len(page.keys) == min(size, len(want))
                    back = list(page.keys) + back[size - (len(want) - len(back)) :]
                    break
                assert page.offset + len(page.keys) == len(want) - len(back)
                back = list(page.keys) + back
                if page.offset == 0:
                    break
                page = _fetch(bufs, next_query(page, BEFORE), seen)
            assert back == want, (sort, reverse, "back")


def test_seen_clear_forgets_a_pass_cut_short() -> None:
    """A cancelled pass (Esc) never reaches end(): clear() lets go of its cookies too."""
    seen = Seen({1: 1.0})
    seen.begin(2.0)
    seen.observe([2, 3])  # the pass is cancelled here
    seen.clear()
    seen.end()  # nothing of the cut pass comes back
    assert seen.first == {}
