"""The fast paths count what the port model needs (no kernel): per tuple, the TIME_WAITs younger
than tcp_tw_reuse_delay, and the ports each source address holds -- in every path (same-head
IPv4 TIME_WAIT buffers, keyed TIME_WAIT buffers, IPv4 columns of full sockets)."""

from __future__ import annotations

import socket
import struct

from tests.test_wire import HDR, attr
from twtop import wire
from twtop.aggregate import Aggregator
from twtop.build import CloseWaitAges, PollEnv, Rates, build_snapshot
from twtop.filter import compile_filter
from twtop.keys import Listeners, TupleKey
from twtop.ports import Bound, PortTracker, TupleState

TW, ESTAB = 6, 1
A, B = socket.inet_aton("10.0.0.5"), socket.inet_aton("10.0.0.6")
DST, DST2 = socket.inet_aton("10.1.2.3"), socket.inet_aton("10.1.2.4")


def msg(state: int, src: bytes, sport: int, dst: bytes, dport: int, expires: int) -> bytes:
    """One 96-byte inet_diag_msg (with a MARK attribute, as root gets for TIME_WAIT)."""
    body = struct.pack(
        "=BBBBHH16s16sIQIIIII", socket.AF_INET, state, 3, 0, socket.htons(sport),
        socket.htons(dport), src + bytes(12), dst + bytes(12), 0, 0xABC, expires, 0, 0, 0, 0,
    )  # fmt: skip
    payload = body + attr(wire.INET_DIAG_MARK, bytes(4))
    return HDR.pack(16 + len(payload), wire.SOCK_DIAG_BY_FAMILY, wire.NLM_F_MULTI, 1, 0) + payload


def aggregator() -> Aggregator:
    return Aggregator("ip", compile_filter(None), Listeners(), {}, young_ms=59_000)


def test_young_time_waits_and_held_ports_in_every_path() -> None:
    agg = aggregator()
    # one source, one service: the same-head path; 3 of 5 younger than 1 s (> 59000 ms left)
    expires = [59_900, 59_500, 30_000, 1_000, 59_001]
    same = b"".join(msg(TW, A, 40000 + i, DST, 80, e) for i, e in enumerate(expires))
    agg.add_tw_any(same, 96)
    # two sources: the keyed path; 1 young from A, 1 young + 1 old from B
    keyed = msg(TW, A, 40100, DST2, 443, 59_990) + msg(TW, B, 40200, DST2, 443, 59_990)
    agg.add_tw_any(keyed + msg(TW, B, 40201, DST2, 443, 100), 96)
    # a full socket (IPv4 columns)
    agg.add_full(msg(ESTAB, A, 40300, DST, 80, 0), 96)
    counts = agg.finish()
    t1 = TupleKey(socket.AF_INET, A, DST, 80)
    t2a, t2b = TupleKey(socket.AF_INET, A, DST2, 443), TupleKey(socket.AF_INET, B, DST2, 443)
    assert (counts.tuples[t1], counts.tuples_tw[t1], counts.tuples_young[t1]) == (6, 5, 3)
    assert (counts.tuples_young[t2a], counts.tuples_young[t2b], counts.tuples[t2b]) == (1, 1, 2)
    assert counts.src_ports[(socket.AF_INET, A)] == {40000, 40001, 40002, 40003, 40004,
                                                      40100, 40300}  # fmt: skip
    assert counts.src_ports[(socket.AF_INET, B)] == {40200, 40201}


def test_snapshot_judges_tuples_with_bound_ports_and_source_views() -> None:
    agg = aggregator()
    # 4 old TIME_WAITs from A to each of two services in a 10-port range; tcp_tw_reuse=2 does
    # not apply (neither end is loopback), so all of them block
    agg.add_tw_any(b"".join(msg(TW, A, 40000 + i, DST, 80, 30_000) for i in range(4)), 96)
    agg.add_tw_any(b"".join(msg(TW, A, 40004 + i, DST2, 443, 30_000) for i in range(4)), 96)
    counts = agg.finish()
    sysctl = {"ip_local_port_range": "40000 40009", "tcp_tw_reuse": "2", "tcp_timestamps": "1",
              "tcp_tw_reuse_delay": "1000", "ip_local_reserved_ports": ""}  # fmt: skip
    bound = (Bound("0.0.0.0", 40008, True), Bound("10.0.0.5", 40009, False))
    env = PollEnv(now=1.0, collect_ms=1.0, sysctl=sysctl, counters={}, bound=bound)
    tracker = PortTracker()
    snap = build_snapshot(counts, env, Rates(), CloseWaitAges(), tracker)
    ports = snap.ports
    assert ports.budget is not None and ports.available == 8 and ports.bound == 2
    t, _ = ports.tuples
    assert (t.src, t.dst, t.blocking, t.available, t.ratio) == ("10.0.0.5", "10.1.2.3", 4, 8, 0.5)
    assert t.state is TupleState.STEADY and not t.regime.reuse
    # the bind() view: 8 ports + the wildcard listener + A's bound port: all 10, tighter
    (v,) = ports.sources
    assert (v.src, v.held, v.available, v.full, v.notable) == ("10.0.0.5", 10, 10, True, True)
    doc = snap.to_dict()["ports"]
    assert doc["budget"] == {"size": 10, "reserved": 0, "bound_listen": 1, "bound_other": 1,
                             "available": 8}  # fmt: skip
    assert doc["tuples"][0]["state"] == "steady" and doc["sources"][0]["held"] == 10
    assert tracker.tracks  # the tracker carries the tuple to the next poll
