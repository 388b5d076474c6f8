"""TIME_WAITs attributed by cookie on every aggregation path (no kernel): the same-head IPv4
buffers, keyed buffers with several makers, cookies above 2**32, and decoded rows; a tuple's live
sockets name their owners (issue 8)."""

from __future__ import annotations

import socket
import struct

from tests.test_wire import HDR, attr
from twtop import wire
from twtop.aggregate import Aggregator
from twtop.build import CloseWaitAges, PollEnv, Rates, build_snapshot
from twtop.filter import compile_filter
from twtop.keys import Listeners, TupleKey
from twtop.model import Owner
from twtop.text import port_made_by, port_who, tw_attribution

TW, ESTAB = 6, 1
A, B = socket.inet_aton("10.0.0.5"), socket.inet_aton("10.0.0.6")
DST = socket.inet_aton("10.1.2.3")
T_A, T_B = TupleKey(socket.AF_INET, A, DST, 80), TupleKey(socket.AF_INET, B, DST, 80)


def msg(state: int, src: bytes, sport: int, cookie: int, inode: int = 0) -> bytes:
    """One 96-byte inet_diag_msg to DST:80 with the given cookie."""
    body = struct.pack(
        "=BBBBHH16s16sIQIIIII", socket.AF_INET, state, 3, 0, socket.htons(sport),
        socket.htons(80), src + bytes(12), DST + bytes(12), 0, cookie, 50_000, 0, 0, 0, inode,
    )  # fmt: skip
    payload = body + attr(wire.INET_DIAG_MARK, bytes(4))
    return HDR.pack(16 + len(payload), wire.SOCK_DIAG_BY_FAMILY, wire.NLM_F_MULTI, 1, 0) + payload


def agg(made_by: dict[int, int], pid_of: dict[int, int] | None = None) -> Aggregator:
    return Aggregator("ip", compile_filter(None), Listeners(), pid_of or {}, made_by=made_by)


BIG = 1 << 33  # a cookie whose high word is not 0


def test_same_head_buffer_one_maker() -> None:
    a = agg({100: 7, 101: 7, BIG + 102: 7})
    a.add_tw_any(b"".join(msg(TW, A, 40000 + i, c) for i, c in
                          enumerate([100, 101, BIG + 102, 103])), 96)  # fmt: skip
    counts = a.finish()
    assert counts.tuples_tw[T_A] == 4
    assert dict(counts.tuples_tw_pids) == {(T_A, 7): 3}
    assert (counts.tw_attributed, counts.tw_counted) == (3, 4)


def test_keyed_buffer_several_makers_and_unknown() -> None:
    a = agg({1: 7, 2: 8, 3: 7})
    buf = msg(TW, A, 40000, 1) + msg(TW, B, 40001, 2) + msg(TW, A, 40002, 3) + msg(TW, B, 40003, 4)
    a.add_tw_any(buf, 96)
    counts = a.finish()
    assert dict(counts.tuples_tw_pids) == {(T_A, 7): 2, (T_B, 8): 1}
    assert counts.tw_attributed == 3


def test_many_makers_in_one_buffer() -> None:
    made = {i: 1000 + i for i in range(20)}  # more makers than the per-pid passes take
    a = agg(made)
    a.add_tw_any(b"".join(msg(TW, A if i % 2 else B, 40000 + i, i) for i in range(20)), 96)
    counts = a.finish()
    assert sum(counts.tuples_tw_pids.values()) == 20 and counts.tw_attributed == 20
    assert counts.tuples_tw_pids[(T_A, 1001)] == 1 and counts.tuples_tw_pids[(T_B, 1000)] == 1


def test_rows_path_and_live_owners() -> None:
    a = agg({5: 9}, pid_of={77: 3})
    a.add_rows(wire.unpack_rows(msg(TW, A, 40000, 5) + msg(TW, A, 40001, 6), 96))
    a.add_full(msg(ESTAB, A, 40002, 50, inode=77), 96)
    counts = a.finish()
    assert dict(counts.tuples_tw_pids) == {(T_A, 9): 1}
    assert dict(counts.tuple_pids) == {(T_A, 3): 1}


def test_empty_memory_reads_no_cookie() -> None:
    a = agg({})
    assert a.made_by is None
    a.add_tw_any(msg(TW, A, 40000, 1), 96)
    assert a.finish().tw_attributed == 0


def test_snapshot_names_makers_and_owners() -> None:
    a = agg({1: 7, 2: 7}, pid_of={77: 3})
    a.add_tw_any(msg(TW, A, 40000, 1) + msg(TW, A, 40001, 2) + msg(TW, A, 40002, 9), 96)
    a.add_full(msg(ESTAB, A, 40003, 50, inode=77), 96)
    owners = {3: Owner(3, "api.py", "u")}
    gone = {7: Owner(7, "batch.py", "u")}  # exited since: known from the cookie memory only
    env = PollEnv(now=1.0, collect_ms=1.0, sysctl={}, counters={}, owner=owners.get,
                  made_by=gone.get)  # fmt: skip
    snap = build_snapshot(a.finish(), env, Rates(), CloseWaitAges())
    (t,) = snap.ports.tuples
    assert t.owners == ("api.py[3]",) and t.tw_made_by == (("batch.py[7]", 2),)
    assert port_made_by(t) == "TIME_WAIT made by batch.py[7] (2): 2 of 3 attributed"
    assert port_who(t) == "live sockets held by api.py[3]; " + port_made_by(t)
    assert "已归属 2 个" in port_who(t, "zh")
    assert tw_attribution(snap.tw_attributed, snap.tw_counted) == (
        "2 of 3 TIME_WAIT attributed (twtop saw their sockets live); unattributed: closed "
        "before twtop started or made by a process twtop cannot see"
    )
