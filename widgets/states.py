"""State counts: each key state with its count, change per second and a sparkline of history."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from twtop.knowledge_ui import UI_WORDS
from twtop.model import Snapshot
from twtop.states import ALL_STATES, KEY_STATES, TcpState
from widgets.format import count, rate

#: Points of history kept per state.
HISTORY = 120


class StateCell(Widget):
    """One state: name, count, change per second, sparkline."""

    DEFAULT_CSS = """
    StateCell { layout: horizontal; height: 1; }
    StateCell > Static { width: 29; }
    StateCell > Sparkline { width: 1fr; min-width: 4; }
    """

    def __init__(self, state: TcpState) -> None:
        super().__init__(id=f"state-{state.name.lower()}")
        self.state = state

    def compose(self) -> ComposeResult:
        yield Static(id="label")
        yield Sparkline([], summary_function=max)

    def show(self, n: int, r: float | None, history: tuple[float, ...]) -> None:
        """Update the numbers and the sparkline (a new tuple, so the reactive fires)."""
        text = Text(no_wrap=True)
        style = "bold" if n else "dim"
        text.append(f"{self.state.name:<11}", style=style)
        text.append(f"{count(n):>8}", style=style)
        text.append(f" {rate(r):>8}")
        self.query_one("#label", Static).update(text)
        self.query_one(Sparkline).data = history


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
        self.history: dict[TcpState, deque[float]] = {s: deque(maxlen=HISTORY) for s in ALL_STATES}
        self.border_title = "TCP"

    def compose(self) -> ComposeResult:
        with Grid():
            for s in ALL_STATES:
                yield StateCell(s)

    def record(self, snap: Snapshot) -> None:
        """Add a snapshot to the history (also while paused: no gaps)."""
        for s in ALL_STATES:
            self.history[s].append(float(snap.count(s)))

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
            cell.show(n, snap.state_rates.get(s), tuple(self.history[s]))
        shown = sum(1 for c in self.query(StateCell) if c.display)
        height = (shown + 1) // 2 + 2
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height
        total = sum(snap.states.values())
        self.border_title = UI_WORDS[str(getattr(self.app, "lang", "en"))]["states_title"].format(
            total=count(total), v4=count(snap.ipv4), v6=count(snap.ipv6)
        )
