"""The smoothed series behind CHANGE/s and the sparkline (twtop.trend)."""

from __future__ import annotations

from twtop.trend import BARS, Trend, sparkline


def feed(values: list[float], dt: float = 1.0) -> Trend:
    tr = Trend()
    for i, v in enumerate(values):
        tr.add(i * dt, v)
    return tr


def test_one_poll_has_no_rate_not_zero() -> None:
    tr = feed([2000])
    assert tr.rate is None and tr.span_s is None
    assert list(tr.smooth) == [2000]


def test_steady_growth_reads_its_rate() -> None:
    tr = feed([1000 + 22 * i for i in range(20)])
    assert tr.rate is not None and abs(tr.rate - 22) < 1e-6
    assert tr.span_s == 5.0  # the window, at one poll a second


def test_a_steady_count_with_alternating_noise_reads_near_zero() -> None:
    # counts from a dump and from sockstat alternate 40 apart: the per-poll rate was +-40/s
    tr = feed([2000 + (40 if i % 2 else 0) for i in range(30)])
    assert tr.rate is not None and abs(tr.rate) < 5
    smooth = list(tr.smooth)[-10:]
    assert max(smooth) - min(smooth) < 10  # the plotted series does not zigzag by 40


def test_growth_under_burst_noise_keeps_its_sign() -> None:
    # TIME_WAIT growing 22/s while polls alternate by 30: never read as shrinking
    tr = Trend()
    for i in range(40):
        tr.add(float(i), 1000 + 22 * i + (30 if i % 2 else 0))
        if i >= 4:
            assert tr.rate is not None and tr.rate > 10, (i, tr.rate)


def test_sparser_polls_than_the_window_use_the_last_two() -> None:
    tr = feed([100, 130, 160], dt=10.0)
    assert tr.rate == 3.0 and tr.span_s == 10.0


def test_clear_forgets() -> None:
    tr = feed([1, 2, 3])
    tr.clear()
    assert tr.rate is None and not tr.raw and not tr.smooth


def test_sparkline_rises_with_a_growing_count_and_is_flat_when_steady() -> None:
    up = sparkline([2000 + 33 * i for i in range(60)], 9)
    assert list(up) == sorted(up) and up[0] != up[-1]
    assert len(set(sparkline([150.0] * 60, 9))) == 1
    assert sparkline([0.0] * 60, 9) == BARS[0] * 9
    # 1% noise stays within one glyph
    noisy = sparkline([2000 + (20 if i % 2 else 0) for i in range(9)], 9)
    assert max(map(BARS.index, noisy)) - min(map(BARS.index, noisy)) <= 1


def test_sparkline_fits_its_width() -> None:
    for n in (0, 1, 5, 9, 10, 120):
        assert len(sparkline([float(i) for i in range(n)], 9)) == 9
    assert sparkline([1.0, 2.0], 5).startswith("   ")
