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


def test_charge_spends_credit_so_the_next_detail_waits_for_it() -> None:
    """The drill-down's passes and the counts polls are charged: the detail waits longer."""
    for charged, due_at in ((0.0, 5), (0.3, 8)):
        clock = Clock()
        b = Budget(0.10, clock)
        assert b.detail_due()
        b.spent(0.5, True)  # a detail of 0.5 s: due again when 0.5 s of credit is back
        clock.t += 2
        b.charge(charged)
        waited = 2
        while not b.detail_due():
            clock.t += 1
            waited += 1
        assert waited == due_at, charged
        assert b.usage()[1] == pytest.approx(charged / waited)  # charged: not a detail


def test_charges_and_readings_from_many_threads() -> None:
    """The counts thread, the detail worker and the drill-down charge the one budget while the
    counts thread reads its usage: every charge counted, no reading sees a half-made change."""
    import sys
    import threading

    clock = Clock()  # frozen: no accrual, so the credit is minus the charges
    b = Budget(0.10, clock)
    each, n, threads = 2.0**-10, 20_000, 4  # exact in binary: the sums have no rounding
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                b.usage()
                b.over_budget()
        except BaseException as exc:
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        reader = threading.Thread(target=read)
        reader.start()
        ts = [threading.Thread(target=lambda: [b.charge(each) for _ in range(n)])
              for _ in range(threads)]  # fmt: skip
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        done.set()
        reader.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors
    assert b.credit == -each * n * threads
    assert b.usage()[1] == each * n * threads  # over a span of 1 s (the clock never moved)


def test_counts_alone_over_the_budget_are_said() -> None:
    from twtop.schedule import budget_notes

    for counts_s, over in ((0.005, False), (0.05, True)):  # per 1 s poll, against 1% of a core
        clock = Clock()
        b = Budget(0.01, clock)
        b.spent(0.2, True)
        for _ in range(30):
            clock.t += 1
            b.charge(counts_s)
        assert b.over_budget() is over
        notes = budget_notes(b)
        assert bool(notes) is over
        if over:
            assert notes[0].startswith("the counts alone use 5% of a core, over the 1% CPU budget")
