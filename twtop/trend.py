"""How a state count moves: one smoothed series per state, its rate and its sparkline, so the
CHANGE/s column and the sparkline beside it say the same thing.

Polls are noisy: a count from a full dump and one from /proc/net/sockstat differ by the minisockets
being torn down at that instant, and TIME_WAITs made in a burst expire in a burst 60 s later. A
rate from two consecutive polls jumps with every such step (issue 9 saw -100/s at steady state and
-1/s while TIME_WAIT grew by 22/s). Here both the rate and the plotted series use the same window
(WINDOW_S): the rate is the least-squares slope of the counts polled in the window, the plotted
point is their mean. One poll gives no rate (None, shown blank), never 0.
"""

from __future__ import annotations

from collections import deque

#: Seconds of polls that one rate and one plotted point are made from.
WINDOW_S = 5.0
#: Polls of history kept per state (the sparkline shows all of it).
HISTORY = 120
#: Sparkline glyphs, lowest first.
BARS = "▁▂▃▄▅▆▇█"


class Trend:
    """One count's polls: the raw values, the smoothed series and the rate over the window."""

    def __init__(self, window_s: float = WINDOW_S, history: int = HISTORY) -> None:
        self.window_s = window_s
        self.raw: deque[tuple[float, float]] = deque(maxlen=history)
        self.smooth: deque[float] = deque(maxlen=history)
        self.rate: float | None = None
        self.span_s: float | None = None  # seconds the last rate was measured over

    def clear(self) -> None:
        """Forget everything (another namespace or filter: its counts are another series)."""
        self.raw.clear()
        self.smooth.clear()
        self.rate = self.span_s = None

    def add(self, t: float, n: float) -> None:
        """One poll's count at time ``t`` (seconds)."""
        self.raw.append((t, n))
        pts = self._window()
        self.smooth.append(sum(v for _t, v in pts) / len(pts))
        self.rate, self.span_s = slope(pts)

    def _window(self) -> list[tuple[float, float]]:
        """The polls of the last WINDOW_S seconds; at least the last two when polls are sparser."""
        t_last = self.raw[-1][0]
        # a little slack so jitter of the poll clock does not drop the oldest poll in and out
        pts = [p for p in self.raw if p[0] >= t_last - self.window_s - 0.05]
        if len(pts) < 2 and len(self.raw) >= 2:
            pts = list(self.raw)[-2:]
        return pts


def slope(pts: list[tuple[float, float]]) -> tuple[float | None, float | None]:
    """(least-squares slope per second, seconds spanned) of ``pts``; (None, None) when they span
    no time (one poll)."""
    if len(pts) < 2:
        return None, None
    span = pts[-1][0] - pts[0][0]
    if span <= 0:
        return None, None
    mt = sum(t for t, _v in pts) / len(pts)
    mv = sum(v for _t, v in pts) / len(pts)
    var = sum((t - mt) ** 2 for t, _v in pts)
    cov = sum((t - mt) * (v - mv) for t, v in pts)
    return cov / var, span


def sparkline(series: list[float], width: int) -> str:
    """``series`` in ``width`` columns, the newest at the right: each column the mean of its
    share of the points. The scale spans the shown points padded by a tenth of the largest, so a
    steady count draws a flat line in the middle, zero draws the bottom, and noise of a few
    sockets in thousands stays within one glyph. Fewer points than columns: one each,
    right-aligned, the rest blank."""
    if width <= 0:
        return ""
    if not series:
        return BARS[0] * width
    n = len(series)
    if n <= width:
        cols = list(series)
    else:  # buckets cut from the right end, so the newest column holds the newest points
        cols = []
        for i in range(width):
            start = n - (width - i) * n // width
            end = n - (width - i - 1) * n // width
            chunk = series[start:end] or [series[min(start, n - 1)]]
            cols.append(sum(chunk) / len(chunk))
    pad = max(0.1 * max(cols), 0.5)
    lo, hi = max(0.0, min(cols) - pad), max(cols) + pad
    top = len(BARS) - 1
    bars = [BARS[min(top, max(0, round((v - lo) / (hi - lo) * top)))] for v in cols]
    return " " * (width - len(bars)) + "".join(bars)
