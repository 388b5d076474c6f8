"""The CPU budget's schedule on a fake clock with fake costs, and the count arithmetic (no root)."""

from __future__ import annotations

from collections import Counter

import pytest

from twtop import wire
from twtop.budget import MAX_DETAIL_AGE_S, Budget, fresh_states, minisockets
from twtop.states import TcpState, Timer


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _run(budget: Budget, clock: Clock, seconds: int, detail_s: float, counts_s: float) -> list[int]:
    """Poll every second for ``seconds``; return the times of the detail polls; the CPU spent
    is checked against the budget by the caller through ``budget``."""
    details = []
    for t in range(seconds):
        clock.t = 1000.0 + t
        full = budget.detail_due()
        budget.spent(detail_s if full else counts_s, full)
        if full:
            details.append(t)
    return details


def test_a_detail_that_fits_runs_every_poll() -> None:
    clock = Clock()
    b = Budget(0.10, clock)
    details = _run(b, clock, 60, detail_s=0.02, counts_s=0.005)
    assert len(details) >= 58  # the first debt is paid within a poll or two


def test_an_expensive_detail_is_spread_so_cost_over_period_stays_within_budget() -> None:
    clock = Clock()
    b = Budget(0.10, clock)
    details = _run(b, clock, 600, detail_s=0.9, counts_s=0.01)
    spent = len(details) * 0.9 + (600 - len(details)) * 0.01
    assert spent / 600 <= 0.10 + 0.9 / 600  # within budget, one detail of slack
    gaps = {b - a for a, b in zip(details, details[1:], strict=False)}
    assert gaps <= {9, 10}  # (0.9 + ~8 * 0.01) / 0.1 s apart: as often as the budget allows
    assert len(details) >= 55


def test_the_detail_age_is_the_time_since_the_last_full_poll() -> None:
    clock = Clock()
    b = Budget(0.05, clock)
    assert b.detail_age() == 0.0
    assert b.detail_due()  # the first poll is always full
    b.spent(1.0, True)
    clock.t += 3
    assert not b.detail_due()
    b.spent(0.01, False)
    assert b.detail_age() == pytest.approx(3.0)


def test_counts_that_alone_exceed_the_budget_still_get_a_detail_every_max_age() -> None:
    clock = Clock()
    b = Budget(0.01, clock)
    details = _run(b, clock, 400, detail_s=0.5, counts_s=0.05)  # counts: 5x the budget
    assert len(details) >= 3
    assert all(b - a <= MAX_DETAIL_AGE_S for a, b in zip(details, details[1:], strict=False))


def test_a_budget_outside_zero_to_one_core_is_refused() -> None:
    with pytest.raises(ValueError):
        Budget(0.0)
    with pytest.raises(ValueError):
        Budget(1.5)


def _row(state: TcpState, timer: Timer) -> wire.Row:
    r: list[object] = [0] * (max(wire.R_STATE, wire.R_TIMER) + 1)
    r[wire.R_STATE] = int(state)
    r[wire.R_TIMER] = int(timer)
    return tuple(r)  # type: ignore[return-value]


def test_minisockets_are_the_fin_wait2_rows_with_the_time_wait_timer() -> None:
    rows = [
        _row(TcpState.FIN_WAIT2, Timer.TIMEWAIT),  # orphan: a minisocket
        _row(TcpState.FIN_WAIT2, Timer.TIMEWAIT),
        _row(TcpState.FIN_WAIT2, Timer.OFF),  # shutdown(SHUT_WR), fd open: a full socket
        _row(TcpState.FIN_WAIT2, Timer.KEEPALIVE),  # orphan with tcp_fin_timeout > 60 s
        _row(TcpState.CLOSE_WAIT, Timer.OFF),
    ]
    assert minisockets(rows) == 2


def test_fresh_states_take_minisockets_out_of_tw_and_close_waits_out_of_curr_estab() -> None:
    small = Counter(
        {int(TcpState.CLOSE_WAIT): 3, int(TcpState.FIN_WAIT2): 4, int(TcpState.LISTEN): 2}
    )
    out = fresh_states(small, {"sockstat_tw": 1003, "CurrEstab": 503}, fw2_mini=3)
    assert out[TcpState.TIME_WAIT] == 1000
    assert out[TcpState.ESTABLISHED] == 500
    assert out[TcpState.FIN_WAIT2] == 4 and out[TcpState.CLOSE_WAIT] == 3
    # counters read a moment before the dump can be behind it: never negative
    out = fresh_states(small, {"sockstat_tw": 1, "CurrEstab": 0}, fw2_mini=3)
    assert out[TcpState.TIME_WAIT] == 0 and out[TcpState.ESTABLISHED] == 0


def test_the_cli_takes_a_budget_in_percent_and_refuses_nonsense() -> None:
    from twtop.cli import build_parser
    from twtop.config import Settings
    from twtop.errors import UsageError

    assert build_parser().parse_args(["--cpu-budget", "5"]).cpu_budget == 5.0
    assert Settings().cpu_budget == 10.0
    assert Settings(cpu_budget=0.0).cpu_budget == 0.0  # no limit
    for bad in (-1.0, 101.0, float("nan")):
        with pytest.raises(UsageError, match="--cpu-budget"):
            Settings(cpu_budget=bad)
