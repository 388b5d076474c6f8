"""The one vocabulary: formatting and states, defined once (twtop.text, twtop.states)."""

from __future__ import annotations

import widgets.format
from twtop import explain, model, text
from twtop.ports import PortTuple, Regime, Why
from twtop.states import (
    ATTENTION_ORDER,
    KEY_STATES,
    PEER_STATES,
    TcpState,
    Timer,
    from_wire,
    timer_name,
)


def test_numbers() -> None:
    assert [text.count(n) for n in (999, 1234, 123_456, 12_345_678)] == [
        "999", "1,234", "123.5k", "12.3M",
    ]  # fmt: skip
    assert [text.compact(n) for n in (9999, 20_600, 312_400, 1_200_000)] == [
        "9999", "20.6k", "312k", "1.2M",
    ]  # fmt: skip
    assert [text.rate(r) for r in (None, 0.01, 12.4, -1234.0, 2.25)] == [
        "", "0/s", "+12/s", "-1.2k/s", "+2.2/s",
    ]  # fmt: skip
    assert [text.per_s(r) for r in (None, 0.0, 0.5, 12.4)] == ["unknown", "0", "0.5", "12"]


def test_durations() -> None:
    assert [text.duration(s) for s in (None, 42.4, 190, 7500)] == ["-", "42s", "3m10s", "2h05m"]
    assert text.duration(None, "unknown") == "unknown"
    assert [text.ms(v) for v in (850, 42_000, 185_000)] == ["850 ms", "42.0 s", "3m05s"]


def test_port_wording() -> None:
    full = PortTuple("a", "b", 80, 100, 90, 100, 1.0)
    filling = PortTuple("a", "b", 80, 24720, 24600, 28232, 690.0)
    steady = PortTuple("a", "b", 80, 10, 0, 100, 0.0)
    assert text.port_state(full) == "new connect() to this tuple fails now: EADDRNOTAVAIL"
    assert text.port_state(filling) == "full in 11s at this demand"
    assert text.port_state(steady) == "steady at this demand (~10% of its ports)"
    assert text.port_state(full, "zh").endswith("EADDRNOTAVAIL")
    assert [text.port_state_short(t) for t in (full, filling, steady)] == [
        "FULL",
        "full in 11s",
        "steady",
    ]
    assert text.port_regime(Regime(True, 1000, Why.REUSE_LOOPBACK)) == "reuse after 1s"
    assert (
        text.port_regime(Regime(False, 60_000, Why.REUSE_OFF))
        == "no reuse (tcp_tw_reuse=0): TIME_WAIT holds 60s"
    )
    assert text.hold(0.25) == "0.25s"


def test_endpoints_and_wrap() -> None:
    assert text.endpoint("10.0.0.1", 80) == "10.0.0.1:80"
    assert text.endpoint("::1", 80) == "[::1]:80"
    assert text.cols("TIME_WAIT 状态") == 14
    wrapped = text.wrap("连接" * 30, 20).split("\n")
    assert all(text.cols(line) <= 20 for line in wrapped) and len(wrapped) == 6
    assert text.wrap("aaa bbb ccc", 7) == "aaa bbb\nccc"


def test_defined_once_and_imported_everywhere() -> None:
    assert widgets.format.count is text.count and widgets.format.rate is text.rate
    assert model.fmt_endpoint is text.endpoint
    assert explain.fmt_ms is text.ms and explain._wrap is text.wrap


def test_fold_policy() -> None:
    assert from_wire(1) is TcpState.ESTABLISHED
    assert from_wire(12) is TcpState.SYN_RECV  # NEW_SYN_RECV: request sockets
    assert from_wire(13) is TcpState.CLOSE  # BOUND_INACTIVE: bound-only sockets
    assert from_wire(99) is TcpState.CLOSE


def test_state_orders() -> None:
    assert sorted(ATTENTION_ORDER) == sorted(TcpState)
    assert ATTENTION_ORDER[0] is TcpState.CLOSE_WAIT
    assert KEY_STATES[:4] == PEER_STATES and TcpState.SYN_RECV in KEY_STATES


def test_timer_names_are_ss_names() -> None:
    assert [t.ss_name for t in Timer] == ["off", "on", "keepalive", "timewait", "persist"]
    assert timer_name(3) == "timewait" and timer_name(9) == "9"
