"""State counts: each key state with its count, change per second and a sparkline of history.

The change per second and the sparkline come from one smoothed series (twtop.trend): the rate is
the slope of the polls of the last few seconds, each plotted point their mean, and the pane's
title says over how many seconds.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid
from textual.reactive import reactive
from textual.widget import Widget

from twtop.knowledge_screen import SCREEN_WORDS
from twtop.knowledge_ui import UI_WORDS
from twtop.model import Snapshot
from twtop.states import ALL_STATES, KEY_STATES, TcpState
from twtop.trend import Trend, sparkline
from widgets.format import count, rate


class Spark(Widget):
    """A sparkline of a smoothed series in the widget's width (glyphs in the text colour, so
    NO_COLOR keeps it visible)."""

    DEFAULT_CSS = """
    Spark { height: 1; color: $accent; }
    """

    series: reactive[tuple[float, ...]] = reactive(())
    """The points, oldest first."""

    def render(self) -> Text:
        """The glyphs."""
        return Text(sparkline(list(self.series), self.size.width), no_wrap=True)


class Line(Widget):
    """One line of text; a new text repaints it, an equal one does nothing. (A Static's update()
    re-lays out the whole screen every time: 11 cells a second at every poll, measured.)"""

    text: reactive[Text] = reactive(Text, layout=False)
    """What the line says."""

    def render(self) -> Text:
        """The text."""
        return self.text


class StateCell(Widget):
    """One state: name, count, change per second, sparkline."""

    DEFAULT_CSS = """
    StateCell { layout: horizontal; height: 1; }
    StateCell > Line { width: 29; height: 1; }
    StateCell > Spark { width: 1fr; min-width: 4; }
    """

    def __init__(self, state: TcpState) -> None:
        super().__init__(id=f"state-{state.name.lower()}")
        self.state = state

    def compose(self) -> ComposeResult:
        yield Line(id="label")
        yield Spark()

    def show(self, n: int, r: float | None, series: tuple[float, ...]) -> None:
        """Update the numbers and the sparkline."""
        text = Text(no_wrap=True)
        style = "bold" if n else "dim"
        text.append(f"{self.state.name:<11}", style=style)
        text.append(f"{count(n):>8}", style=style)
        text.append(f" {rate(r):>8}")
        self.query_one("#label", Line).text = text
        self.query_one(Spark).series = series


class StateCounts(Widget):
    """The key states always, and every other state that is not zero."""

    DEFAULT_CSS = """
    StateCounts { height: auto; border: round $primary; border-title-align: left; }
    StateCounts Grid { grid-size: 2; grid-gutter: 0 2; height: auto; }
    """

    snapshot: reactive[Snapshot | None] = reactive(None)
    """The snapshot on display."""

    def __init__(self) -> None:
        super().__init__()
        self.trends: dict[TcpState, Trend] = {s: Trend() for s in ALL_STATES}
        self._source: tuple[str | None, str | None, str] | None = None
        self.border_title = "TCP"

    @property
    def history(self) -> dict[TcpState, list[float]]:
        """The raw counts polled per state, oldest first."""
        return {s: [v for _t, v in tr.raw] for s, tr in self.trends.items()}

    def compose(self) -> ComposeResult:
        with Grid():
            for s in ALL_STATES:
                yield StateCell(s)

    def record(self, snap: Snapshot) -> None:
        """Add a snapshot to the history (also while paused: no gaps)."""
        source = (snap.netns, snap.filter, snap.group)
        if source != self._source:  # another namespace or filter counts other sockets
            self._source = source
            for tr in self.trends.values():
                tr.clear()
        for s in ALL_STATES:
            self.trends[s].add(snap.taken_at, float(snap.count(s)))

    def watch_snapshot(self, snap: Snapshot | None) -> None:
        """Redraw the cells for a new snapshot."""
        if snap is None:
            return
        for cell in self.query(StateCell):
            s = cell.state
            n = snap.count(s)
            show = n > 0 or s in KEY_STATES
            if cell.display != show:  # assigning re-lays out the pane even when unchanged
                cell.display = show
            tr = self.trends[s]
            cell.show(n, tr.rate, tuple(tr.smooth))
        shown = sum(1 for c in self.query(StateCell) if c.display)
        height = (shown + 1) // 2 + 2
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height
        self.border_title = self._title(snap)

    def _title(self, snap: Snapshot) -> str:
        total = sum(snap.states.values())
        lang = str(getattr(self.app, "lang", "en"))
        words = SCREEN_WORDS[lang]
        tr = self.trends[TcpState.ESTABLISHED]
        # the window, or the two polls' span when polls are sparser (the title must not flicker)
        span = None if tr.span_s is None else max(tr.span_s, tr.window_s)
        window = (
            words["rate_first"] if span is None else words["rate_window"].format(s=f"{span:.0f}")
        )
        ui = UI_WORDS[lang]
        # a counts-only poll (budget.py): the split is the last detail poll's, and says so
        age = ui["split_age"].format(s=f"{snap.detail_age_s:.0f}") if snap.detail_age_s >= 1 else ""
        title = ui["states_title"].format(
            total=count(total), v4=count(snap.ipv4), v6=count(snap.ipv6), age=age
        )
        return f"{title} · {window}"
