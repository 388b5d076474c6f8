"""The counters view: the TcpExt/Tcp counters and sockstat levels twtop reads, with per-second
rates, the ones that moved first, and what the highlighted one counts."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.widgets import Static

from tui.screens.view import SnapshotView
from twtop.knowledge_views import VIEW_WORDS
from twtop.model import Snapshot
from twtop.panes import counter_lines, counters_sampling
from widgets.counters import CounterTable


class CountersScreen(SnapshotView):
    """Follows the snapshot on display (frozen while paused)."""

    BINDINGS = [Binding("escape,c", "app.pop_screen", "Back", id="back")]
    """Esc (or c again) goes back."""

    DEFAULT_CSS = """
    CountersScreen #counters-sampling { height: auto; padding: 0 1; }
    CountersScreen #counter-meaning { height: auto; min-height: 2; padding: 0 1; }
    """

    ABOVE = "counters-sampling"
    BELOW = "counter-meaning"

    def make_table(self) -> CounterTable:
        """The view's table."""
        return CounterTable()

    def show(self, snap: Snapshot | None) -> None:
        """Put a snapshot's counters on screen."""
        if snap is None:
            return
        lang = self.twtop.lang
        words = VIEW_WORDS[lang]
        lines = counter_lines(snap, lang)
        table = self.query_one(CounterTable)
        table.border_title = words["counters_title"].format(n=len(lines))
        table.show(lines, lang)
        head = counters_sampling(snap, lang) if lines else words["counters_none"]
        self.query_one("#counters-sampling", Static).update(Text(head))
        self._meaning()

    @on(CounterTable.Highlighted)
    def _meaning(self) -> None:
        line = self.query_one(CounterTable).selected()
        text = Text()
        if line is not None:
            text.append(line.name, style="bold")
            text.append(": " + line.meaning)
        self.query_one("#counter-meaning", Static).update(text)
