"""The counters view: the TcpExt/Tcp counters and sockstat levels twtop reads, with per-second
rates, the ones that moved first, and what the highlighted one counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from twtop.knowledge_views import VIEW_WORDS
from twtop.model import Snapshot
from twtop.panes import counter_lines, counters_sampling
from widgets.counters import CounterTable
from widgets.header import StatusHeader
from widgets.status import StatusBar

if TYPE_CHECKING:
    from tui.app import TwtopApp


class CountersScreen(Screen[None]):
    """Follows the snapshot on display (frozen while paused)."""

    BINDINGS = [Binding("escape,c", "app.pop_screen", "Back", id="back")]
    """Esc (or c again) goes back."""

    DEFAULT_CSS = """
    CountersScreen #counters-sampling { height: auto; padding: 0 1; }
    CountersScreen #counter-meaning { height: auto; min-height: 2; padding: 0 1; }
    """

    @property
    def twtop(self) -> TwtopApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(id="counters-sampling")
        yield CounterTable()
        yield Static(id="counter-meaning")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        """Draw the snapshot on display, and every later one."""
        self.twtop.init_chrome(self)
        self.query_one(CounterTable).focus()
        self.watch(self.twtop.main, "snapshot", self.show, init=True)

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
