"""The port model on hand-built inputs (no kernel, no root): available and its parts, the
blocking set per regime, FULL at saturation held steadily, demand-based time to full, and the
per-source bind() view (kernel-facts 5 and 6)."""

from __future__ import annotations

import pytest

from twtop.ports import (
    FULL_EXIT_POLLS,
    Bound,
    PortBudget,
    PortPolicy,
    PortTracker,
    PortTuple,
    TupleCounts,
    TupleState,
    Why,
    bound_only_dumpable,
    budget,
    demand_scale,
    is_loopback,
    judge_once,
    source_views,
)

SYSCTL = {
    "ip_local_port_range": "40000 40009",
    "ip_local_reserved_ports": "",
    "tcp_tw_reuse": "2",
    "tcp_tw_reuse_delay": "1000",
    "tcp_timestamps": "1",
}


def policy(**changes: str | None) -> PortPolicy:
    return PortPolicy.from_sysctl({**SYSCTL, **changes})


def counts(
    used: int, tw: int, young: int = 0, rate: float = 0.0, dst: str = "127.0.0.1"
) -> TupleCounts:
    src = "127.0.0.1" if dst.startswith("127.") else "10.0.0.1"
    return TupleCounts(src, dst, 6000, used, tw, young, rate)


NO_BOUND = PortBudget(10, 0, 0, 0)


# -- available and its parts --
def test_available_subtracts_reserved_and_bound_ports_in_range_once() -> None:
    pol = policy(ip_local_reserved_ports="40000-40001,40001,39000-39999")
    bound = [
        Bound("0.0.0.0", 40002, listening=True),
        Bound("::", 40002, listening=True),  # the same port, v6: counted once
        Bound("127.0.0.1", 40003, listening=False),  # bound-only (state CLOSE)
        Bound("127.0.0.1", 40002, listening=False),  # a listener's port: counted as listen
        Bound("127.0.0.1", 40000, listening=False),  # reserved already: not twice
        Bound("0.0.0.0", 8080, listening=True),  # outside the range
    ]
    b = budget(pol, bound)
    assert (b.size, b.reserved, b.bound_listen, b.bound_other) == (10, 2, 1, 1)
    assert b.available == 10 - 2 - 2
    assert b.to_dict()["available"] == 6


def test_defaults_when_sysctls_are_absent() -> None:
    pol = PortPolicy.from_sysctl({"tcp_tw_reuse": "2", "tcp_timestamps": "1"})
    assert (pol.low, pol.high, pol.size) == (32768, 60999, 28232)
    assert pol.reuse_delay_ms == 1000 and not pol.reuse_delay_sysctl  # before 6.14: fixed 1 s
    assert policy(tcp_tw_reuse_delay="250").reuse_delay_ms == 250


# -- the regime per tuple --
@pytest.mark.parametrize(
    ("reuse", "ts", "src", "dst", "expect", "why"),
    [
        ("2", "1", "127.0.0.1", "127.0.0.1", True, Why.REUSE_LOOPBACK),
        ("2", "1", "10.0.0.1", "127.0.0.5", True, Why.REUSE_LOOPBACK),
        ("2", "1", "::1", "::1", True, Why.REUSE_LOOPBACK),
        ("2", "1", "10.0.0.1", "10.0.0.2", False, Why.NOT_LOOPBACK),
        ("1", "1", "10.0.0.1", "10.0.0.2", True, Why.REUSE_ON),
        ("1", "2", "10.0.0.1", "10.0.0.2", True, Why.REUSE_ON),
        ("1", "0", "10.0.0.1", "10.0.0.2", False, Why.NO_TIMESTAMPS),
        ("0", "1", "127.0.0.1", "127.0.0.1", False, Why.REUSE_OFF),
        (None, "1", "127.0.0.1", "127.0.0.1", False, Why.UNKNOWN),
    ],
)
def test_regime(reuse: str | None, ts: str, src: str, dst: str, expect: bool, why: Why) -> None:
    r = policy(tcp_tw_reuse=reuse, tcp_timestamps=ts).regime(src, dst)
    assert (r.reuse, r.why) == (expect, why)
    assert r.hold_ms == (1000 if expect else 60_000)


def test_reuse_delay_sets_the_hold_and_the_young_threshold() -> None:
    pol = policy(tcp_tw_reuse_delay="5000")
    assert pol.regime("127.0.0.1", "127.0.0.1").hold_s == 5.0
    assert pol.young_threshold_ms() == 55_000  # expires_ms above this: younger than 5 s


def test_loopback_forms() -> None:
    assert is_loopback("127.255.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("10.0.0.1") and not is_loopback("::") and not is_loopback("nonsense")


# -- blocking and FULL --
def test_ten_old_time_waits_on_loopback_with_reuse_do_not_block() -> None:
    """The false alarm: 10 TIME_WAITs older than 1 s in a 10-port range, tcp_tw_reuse=2."""
    (t,) = judge_once([counts(10, 10, young=0, rate=1.0)], policy(), NO_BOUND)
    assert (t.used, t.blocking, t.available) == (10, 0, 10)
    assert t.state is TupleState.STEADY and t.seconds_to_full is None
    assert t.regime.reuse and t.sustainable_per_s == pytest.approx(10.0)


def test_the_same_without_reuse_is_full() -> None:
    (t,) = judge_once([counts(10, 10, rate=1.0)], policy(tcp_tw_reuse="0"), NO_BOUND)
    assert t.blocking == 10 and t.ratio == 1.0
    assert t.state is TupleState.FULL and t.seconds_to_full == 0.0
    assert t.sustainable_per_s == pytest.approx(10 / 60)
    d = t.to_dict()
    assert (d["state"], d["blocking"], d["used"], d["regime"]["reuse"]) == ("full", 10, 10, False)


def test_young_time_waits_block_even_with_reuse() -> None:
    (t,) = judge_once([counts(10, 9, young=9)], policy(), NO_BOUND)
    assert t.blocking == 10 and t.state is TupleState.FULL


def test_remote_tuple_with_reuse_2_counts_every_time_wait() -> None:
    pol = PortPolicy.from_sysctl({**SYSCTL, "ip_local_port_range": "40000 41999"})
    b = budget(pol, [])
    (t,) = judge_once([counts(1990, 1980, young=20, dst="10.0.0.2")], pol, b)
    assert t.blocking == 1990 and t.ratio == pytest.approx(0.995)
    assert t.state is TupleState.FULL


def test_bound_ports_shrink_every_tuple() -> None:
    b = budget(policy(), [Bound("127.0.0.1", 40000 + i, listening=False) for i in range(5)])
    assert b.available == 5
    (t,) = judge_once([counts(5, 0)], policy(tcp_tw_reuse="0"), b)
    assert t.state is TupleState.FULL and t.available == 5


def test_no_port_available_at_all_is_full() -> None:
    (t,) = judge_once([counts(0, 0)], policy(), PortBudget(10, 10, 0, 0))
    assert t.state is TupleState.FULL and t.ratio == 1.0


# -- demand, time to full, hysteresis --
def wide() -> tuple[PortPolicy, PortBudget]:
    pol = PortPolicy.from_sysctl({**SYSCTL, "ip_local_port_range": "40000 41999"})
    return pol, budget(pol, [])


def test_sustainable_demand_is_steady_never_a_countdown() -> None:
    pol, b = wide()
    # 20 new/s * 60 s = 1200 ports: fits in 2000 without reuse
    (t,) = judge_once([counts(1000, 990, rate=20.0, dst="10.0.0.2")], pol, b)
    assert t.state is TupleState.STEADY and t.seconds_to_full is None
    assert t.steady_ratio == pytest.approx((10 + 1200) / 2000)


def test_filling_eta_comes_from_demand() -> None:
    pol, b = wide()
    # 50/s * 60 s = 3000 > 1960: filling; 600 TW expire at ~10/s, so the pile grows by ~40/s
    (t,) = judge_once([counts(610, 600, rate=50.0, dst="10.0.0.2")], pol, b)
    assert t.state is TupleState.FILLING
    assert t.seconds_to_full == pytest.approx((0.98 * 2000 - 610) / (50 - 600 / 60))


def test_saturation_held_for_20_polls_is_a_steady_full() -> None:
    """The missed alarm: at saturation the measured TIME_WAIT rate is capped by how fast ports
    free up (here 2000/60 = 33/s), which the old model read as "not at risk" or a sawtooth."""
    pol, b = wide()
    tracker = PortTracker()
    seen = []
    for i in range(20):
        used = (2000, 1995, 1999, 2000, 1990)[i % 5]  # ports free and are taken again at once
        (t,) = tracker.update(i * 1.0, [counts(used, used - 3, rate=33.3, dst="10.0.0.2")], pol, b)
        seen.append((t.state, t.seconds_to_full))
    assert seen == [(TupleState.FULL, 0.0)] * 20


def test_full_is_left_only_after_several_polls_below() -> None:
    tracker = PortTracker()
    pol = policy(tcp_tw_reuse="0")
    states = []
    # a 10-port tuple: full, then one port free now and then, then really drained
    for i, used in enumerate([10, 9, 10, 9, 9, 10, 2, 2, 2, 2]):
        (t,) = tracker.update(float(i), [counts(used, used, rate=0.1)], pol, NO_BOUND)
        states.append(t.state)
    full, steady = TupleState.FULL, TupleState.STEADY
    assert states[:6] == [full] * 6
    assert states[6 : 6 + FULL_EXIT_POLLS - 1] == [full] * (FULL_EXIT_POLLS - 1)
    assert states[-1] is steady


def test_filling_does_not_flip_on_a_noisy_demand() -> None:
    pol, b = wide()
    tracker = PortTracker()
    states = set()
    for i in range(30):
        rate = 34.0 if i % 2 else 31.0  # around the limit (1960/60 = 32.7/s), noisy
        (t,) = tracker.update(float(i), [counts(300, 290, rate=rate, dst="10.0.0.2")], pol, b)
        states.add(t.state)
        if i > 0:
            assert t.demand_per_s == pytest.approx(32.5, abs=1.6)  # smoothed
    assert len(states) == 1


def test_demand_is_smoothed_across_polls() -> None:
    pol, b = wide()
    tracker = PortTracker()
    (t0,) = tracker.update(0.0, [counts(100, 90, rate=10.0, dst="10.0.0.2")], pol, b)
    (t1,) = tracker.update(1.0, [counts(100, 90, rate=110.0, dst="10.0.0.2")], pol, b)
    assert t0.demand_per_s == 10.0
    assert 10.0 < t1.demand_per_s < 30.0  # one second of a 10 s time constant
    tracker.reset()
    (t2,) = tracker.update(2.0, [counts(100, 90, rate=110.0, dst="10.0.0.2")], pol, b)
    assert t2.demand_per_s == 110.0


def test_tuples_gone_are_forgotten() -> None:
    tracker = PortTracker()
    tracker.update(0.0, [counts(10, 10)], policy(tcp_tw_reuse="0"), NO_BOUND)
    tracker.update(1.0, [], policy(tcp_tw_reuse="0"), NO_BOUND)
    assert tracker.tracks == {}


def test_demand_scale_from_counters() -> None:
    assert demand_scale(None, 10.0) == 1.0
    assert demand_scale(5.0, 10.0) == 1.0
    assert demand_scale(30.0, 10.0) == 3.0
    assert demand_scale(1e6, 1.0) == 10.0  # capped
    pol, b = wide()
    (t,) = judge_once([counts(10, 5, rate=2.0, dst="10.0.0.2")], pol, b, scale=3.0)
    assert t.demand_per_s == 6.0 and t.tw_per_s == 2.0


# -- the per-source view (bind() before connect()) --
def test_source_view_counts_ports_across_destinations() -> None:
    pol = policy()
    tuples = judge_once(
        [counts(3, 3, dst="127.0.0.2"), counts(3, 3, dst="127.0.0.3")], pol, NO_BOUND
    )
    bound = [Bound("0.0.0.0", 40009, True), Bound("10.9.9.9", 40008, False)]
    held = {"127.0.0.1": [40000, 40001, 40002, 40000, 40003, 40004, 40005, 50000]}
    (v,) = source_views(pol, held, bound, tuples)
    # 6 distinct in range + the wildcard listener; the other address's bound port is not ours
    assert (v.held, v.available) == (7, 10)
    assert v.tighter and not v.full  # each tuple blocks 0 (old TIME_WAITs are reused)
    full = source_views(pol, {"127.0.0.1": range(40000, 40010)}, [], tuples)[0]
    assert full.full and full.to_dict()["full"] is True


def test_source_view_skips_reserved_ports() -> None:
    pol = policy(ip_local_reserved_ports="40000-40004")
    (v,) = source_views(pol, {"10.0.0.1": range(40000, 40010)}, [], [])
    assert (v.held, v.available, v.ratio) == (5, 5, 1.0)


def test_a_tuple_built_by_hand_is_judged_as_one_sample() -> None:
    full = PortTuple("10.0.0.1", "10.0.0.2", 80, 28232, 28000, 28232, 10.0)
    assert full.state is TupleState.FULL and full.seconds_to_full == 0.0 and full.full
    # 690/s * 60 s > 28232 without reuse: filling, by 690 - 24600/60 = 280/s with 3427 to go
    filling = PortTuple("10.0.0.1", "10.0.0.2", 80, 24720, 24600, 28232, 690.0)
    assert filling.state is TupleState.FILLING
    assert filling.seconds_to_full == pytest.approx((0.98 * 28232 - 24720) / 280)
    steady = PortTuple("10.0.0.1", "10.0.0.2", 80, 5100, 5000, 28232, 300.0)
    assert steady.state is TupleState.STEADY and steady.seconds_to_full is None
    assert steady.demand_per_s == 300.0 and steady.blocking == 5100


def test_bound_only_sockets_unknown_before_6_8() -> None:
    assert bound_only_dumpable("6.18.44-generic") and bound_only_dumpable("6.8.0")
    assert not bound_only_dumpable("6.6.30") and not bound_only_dumpable("5.15.0-91-generic")
    assert not bound_only_dumpable("weird")
    b = budget(policy(), [Bound("0.0.0.0", 40001, True)], bound_only_known=False)
    assert b.available == 9 and b.to_dict()["bound_other"] is None


@pytest.mark.parametrize(
    ("used", "tw", "rate", "severity"),
    [
        (10, 10, 0.0, "critical"),
        (10, 9, 0.0, "critical"),
        (6, 5, 1.0, "critical"),
        (6, 6, 0.0, "warning"),
    ],
)
def test_the_finding_says_what_the_gauge_says(
    used: int, tw: int, rate: float, severity: str
) -> None:
    """The advisor's evidence carries the tuple's state in the gauge's words, and its severity
    follows that state: never "critical ... not at risk"."""
    from dataclasses import replace

    from tests.unit.builders import snapshot
    from twtop.advisor import Context, advise
    from twtop.model import PortUsage
    from twtop.text import port_state

    (t,) = judge_once([counts(used, tw, rate=rate)], policy(tcp_tw_reuse="0"), NO_BOUND)
    snap = replace(snapshot(), ports=PortUsage(40000, 40009, 0, (t,), 1, tw, NO_BOUND))
    (f,) = [f for f in advise(snap, ctx=Context()) if f.id == "tw_port_pressure"]
    assert f.severity == severity and port_state(t) in f.evidence
    assert "not at risk" not in f.evidence


def test_demand_at_saturation_is_unknown() -> None:
    """FULL: the TIME_WAIT rate is capped by how fast ports free up, so it is not shown as the
    demand (text, gauge words, JSON); below saturation the demand is the smoothed rate."""
    from twtop.text import port_demand, port_demand_short

    (full,) = judge_once([counts(10, 10, rate=5.0)], policy(tcp_tw_reuse="0"), NO_BOUND)
    assert full.state is TupleState.FULL and not full.demand_known
    assert full.frees_per_s == pytest.approx(10 / 60)
    assert port_demand(full) == "ports free up at ~0.2/s; demand unknown while connect() fails"
    assert port_demand_short(full) == "frees 0.2/s"
    assert "需求未知" in port_demand(full, "zh")
    d = full.to_dict()
    assert d["demand_per_s"] is None and d["frees_per_s"] == pytest.approx(0.167, abs=0.001)
    (steady,) = judge_once([counts(3, 2, rate=0.5)], policy(tcp_tw_reuse="0"), NO_BOUND)
    assert steady.demand_known and port_demand(steady) == "~0.5 new connections/s"
    assert steady.to_dict()["demand_per_s"] == 0.5
