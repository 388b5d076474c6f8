"""The Snapshot builder and its trackers on hand-made counts: no root, no sockets."""

from __future__ import annotations

import socket

import pytest

from twtop.build import CloseWaitAges, Counts, PollEnv, Rates, build_snapshot, poll_notes
from twtop.keys import TupleKey
from twtop.model import CLOSE_WAIT_AGED_S, NO_OWNER, Owner, PeerKey
from twtop.states import TcpState as S
from twtop.wire import DecodeStats

V4 = socket.AF_INET
A = socket.inet_aton
OWNERS = {42: Owner(42, "api", "www")}
SYSCTL: dict[str, str | None] = {"ip_local_port_range": "40000 40099",
                                 "ip_local_reserved_ports": "40010-40019"}  # fmt: skip


def env(now: float, counters: dict[str, int] | None = None) -> PollEnv:
    return PollEnv(now=now, collect_ms=1.0, sysctl=SYSCTL, counters=counters or {},
                   owner=OWNERS.get)  # fmt: skip


def counts(cw_cookies: list[int] = ()) -> Counts:  # type: ignore[assignment]
    c = Counts("ip")
    k9, k10 = PeerKey("ip", V4, A("9.0.0.1")), PeerKey("ip", V4, A("10.0.0.1"))
    c.states.update({int(S.TIME_WAIT): 30, int(S.ESTABLISHED): 5, int(S.CLOSE_WAIT): 5})
    c.families[V4] = 40
    c.groups[(k10, int(S.TIME_WAIT), False)] = 30
    c.groups[(k10, int(S.ESTABLISHED), False)] = 5
    c.groups[(k9, int(S.CLOSE_WAIT), True)] = 3
    c.groups[(k9, int(S.ESTABLISHED), True)] = 2
    c.peer_pids[(k9, 42)] = 5
    c.procs[(42, int(S.CLOSE_WAIT))] = 3
    c.procs[(7, int(S.ESTABLISHED))] = 1  # a pid whose process is gone: not listed
    t = TupleKey(V4, A("10.0.0.2"), A("10.0.0.1"), 80)
    c.tuples[t] = 35
    c.tuples_tw[t] = 30
    c.tuples_recent[t] = 20
    c.recent_tw = 20
    c.cw_cookies = list(cw_cookies)
    return c


def test_snapshot_from_counts() -> None:
    snap = build_snapshot(counts(), env(100.0), Rates(), CloseWaitAges())
    assert [(p.peer, p.total, p.inbound, p.outbound) for p in snap.peers] == [
        ("10.0.0.1", 35, 0, 35), ("9.0.0.1", 5, 5, 0),
    ]  # fmt: skip
    assert snap.peers[1].processes == ("api[42]",)
    assert snap.peers[0].key == PeerKey("ip", V4, A("10.0.0.1"))
    (t,) = snap.ports.tuples
    assert (t.src, t.dst, t.dport, t.used, t.time_wait, t.available) == (
        "10.0.0.2", "10.0.0.1", 80, 35, 30, 90,
    )  # fmt: skip
    assert t.tw_per_s == pytest.approx(2.0) and snap.churn.tw_per_s_timers == pytest.approx(2.0)
    assert [(p.pid, p.name) for p in snap.processes] == [(42, "api")]
    assert snap.total == 40 and snap.ipv4 == 40 and snap.interval_s is None
    assert snap.close_wait_oldest_s is None


def test_equal_totals_order_on_the_raw_key() -> None:
    c = Counts("ip")
    for text in ("10.0.0.1", "9.0.0.1", "10.0.0.0"):
        c.groups[(PeerKey("ip", V4, A(text)), int(S.ESTABLISHED), False)] = 1
    snap = build_snapshot(c, env(1.0), Rates(), CloseWaitAges())
    assert [p.peer for p in snap.peers] == ["9.0.0.1", "10.0.0.0", "10.0.0.1"]


def test_no_owner_group_label() -> None:
    c = Counts("process")
    c.groups[(PeerKey("process", pid=NO_OWNER), int(S.FIN_WAIT2), False)] = 4
    snap = build_snapshot(c, env(1.0), Rates(), CloseWaitAges())
    assert [(p.peer, p.count(S.FIN_WAIT2)) for p in snap.peers] == [("(no owner)", 4)]


def test_rates_between_polls() -> None:
    rates = Rates()
    first = build_snapshot(counts(), env(100.0, {"TW": 10, "CurrEstab": 5}), rates,
                           CloseWaitAges())  # fmt: skip
    assert first.rates == {} and first.interval_s is None
    c = counts()
    c.states[int(S.TIME_WAIT)] = 50
    snap = build_snapshot(c, env(102.0, {"TW": 30, "CurrEstab": 9}), rates, CloseWaitAges())
    assert snap.interval_s == pytest.approx(2.0)
    assert snap.rates == {"TW": pytest.approx(10.0)}  # a gauge has no rate
    assert snap.state_rates[S.TIME_WAIT] == pytest.approx(10.0)
    assert snap.churn.tw_per_s_counter == pytest.approx(10.0)
    rates.reset()
    again = build_snapshot(c, env(103.0, {"TW": 40}), rates, CloseWaitAges())
    assert again.interval_s is None


def test_close_wait_ages_follow_cookies() -> None:
    ages = CloseWaitAges()
    build_snapshot(counts([1, 2]), env(100.0), Rates(), ages)
    snap = build_snapshot(counts([1, 2, 3]), env(100.0 + CLOSE_WAIT_AGED_S), Rates(), ages)
    assert snap.close_wait_oldest_s == pytest.approx(CLOSE_WAIT_AGED_S)
    assert snap.close_wait_aged == 2  # 1 and 2; 3 is new
    snap = build_snapshot(counts([3]), env(101.0 + CLOSE_WAIT_AGED_S), Rates(), ages)
    assert snap.close_wait_oldest_s == pytest.approx(1.0) and snap.close_wait_aged == 0


def test_poll_notes() -> None:
    bad = DecodeStats(malformed=2, interrupted=True)
    notes = poll_notes(3, False, [DecodeStats(), bad])
    assert len(notes) == 3 and "3 processes" in notes[0] and "2 malformed" in notes[1]
    assert poll_notes(3, True, [DecodeStats()]) == ()


def test_aged_close_waits_are_unknown_until_watched_long_enough() -> None:
    """A CLOSE_WAIT seen at the first poll may be hours old: until twtop has watched for
    CLOSE_WAIT_AGED_S the aged count is unknown (None), not 0 (the TUI said "0 open 30 s")."""
    ages = CloseWaitAges()
    first = build_snapshot(counts([1, 2]), env(100.0), Rates(), ages)
    assert first.close_wait_aged is None
    later = build_snapshot(counts([1, 2]), env(110.0), Rates(), ages)
    assert later.close_wait_aged is None
    quiet = CloseWaitAges()
    build_snapshot(counts([]), env(100.0), Rates(), quiet)
    assert (
        build_snapshot(counts([5]), env(100.0 + CLOSE_WAIT_AGED_S), Rates(), quiet).close_wait_aged
        == 0
    )  # watched long enough: none of them is old


def test_peer_processes_list_the_biggest_holder_first() -> None:
    """The UI shows a group's first process: it must be the one holding most of its sockets,
    not the alphabetically first (an on-call run showed 'kasvc.py' beside orders-api.py's 200
    CLOSE_WAITs)."""
    owners = {1: Owner(1, "kasvc.py", "www"), 2: Owner(2, "orders-api.py", "www")}
    c = counts()
    k9 = PeerKey("ip", V4, A("9.0.0.1"))
    c.peer_pids.clear()
    c.peer_pids[(k9, 1)] = 2
    c.peer_pids[(k9, 2)] = 200
    e = PollEnv(now=1.0, collect_ms=1.0, sysctl=SYSCTL, counters={}, owner=owners.get)
    snap = build_snapshot(c, e, Rates(), CloseWaitAges())
    (row,) = [p for p in snap.peers if p.key == k9]
    assert row.processes == ("orders-api.py[2]", "kasvc.py[1]")
