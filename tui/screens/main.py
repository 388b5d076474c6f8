"""The main screen: owns the snapshot on display, the panes' layout and its size breakpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer

from twtop.advisor import Finding
from twtop.model import Snapshot
from widgets.explain import ExplainerStrip, PeerPanel
from widgets.filter_bar import FilterBar
from widgets.findings import FindingsBar
from widgets.header import StatusHeader
from widgets.peers import PeerTable
from widgets.ports import PortGauge
from widgets.states import StateCounts
from widgets.status import StatusBar

if TYPE_CHECKING:
    from tui.app import TwtopApp


class MainScreen(Screen[None]):
    """States, findings, ports and peers of the snapshot on display."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("f4", "filter", "Filter", show=False, id="filter_f4"),
        Binding("s", "sort", "Sort", id="sort"),
        Binding("f6", "sort", "Sort", show=False, id="sort_f6"),
        Binding("r", "reverse", "Reverse", show=False, id="reverse"),
        Binding("g", "app.cycle_group", "Group", id="group"),
        Binding("space", "app.pause", "Pause", id="pause"),
        Binding("Z", "app.pause", "Pause", show=False, id="pause_z"),
    ]
    """Keys of the overview (the app's own keys work everywhere)."""

    snapshot: reactive[Snapshot | None] = reactive(None)
    """The snapshot on display (frozen while paused)."""
    findings: tuple[Finding, ...] = ()
    """The advisor's findings for that snapshot."""

    @property
    def twtop(self) -> TwtopApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield StateCounts()
        yield FindingsBar()
        yield PortGauge()
        with Horizontal(id="peers-row"):
            yield PeerTable()
            yield PeerPanel()
        yield ExplainerStrip()
        with Vertical(id="bottom"):  # docked as one: the footer never covers the filter's caret
            yield FilterBar()
            yield StatusBar()
            yield Footer()

    def on_mount(self) -> None:
        """Focus the peers; the panes exist now, so polling may start."""
        self.query_one(PeerTable).focus()
        self.call_after_refresh(self.twtop.start)

    def show(self, snap: Snapshot, findings: tuple[Finding, ...]) -> None:
        """Put a snapshot on every pane."""
        self.snapshot = snap
        self.findings = findings
        header = self.query_one(StatusHeader)
        header.snapshot = snap
        header.interval = self.twtop.interval
        self.query_one(StateCounts).snapshot = snap
        self.query_one(PortGauge).snapshot = snap
        self.query_one(FindingsBar).findings = findings
        self.query_one(PeerTable).update_snapshot(snap)
        self._explain_selected()

    def record(self, snap: Snapshot) -> None:
        """Add a snapshot to the history (also while paused: no gaps)."""
        self.query_one(StateCounts).record(snap)

    def _explain_selected(self) -> None:
        row = self.query_one(PeerTable).selected_row()
        panel = self.query_one(PeerPanel)
        strip = self.query_one(ExplainerStrip)
        wide = self.size.width >= PeerPanel.MIN_WIDTH  # the panel replaces the strip
        if panel.display != wide:
            panel.display = wide
            strip.display = not wide
        (panel if wide else strip).show(row, self.snapshot, self.twtop.lang)

    def on_resize(self) -> None:
        """Show the explanation panel when the terminal is wide enough."""
        if self.snapshot is not None:
            self._explain_selected()

    @on(PeerTable.PeerHighlighted)
    def _peer_highlighted(self, message: PeerTable.PeerHighlighted) -> None:
        # The message may be older than the last re-sort: ask the table what is selected now.
        self._explain_selected()

    @on(PeerTable.PeerChosen)
    def _peer_chosen(self, message: PeerTable.PeerChosen) -> None:
        from tui.screens.peer import PeerScreen

        self.app.push_screen(PeerScreen(message.row))

    @on(FindingsBar.Opened)
    def _findings_opened(self) -> None:
        self.twtop.action_findings()

    # -- actions on the overview ------------------------------------------------------------------
    def action_filter(self) -> None:
        """Open the filter input."""
        self.query_one(FilterBar).open()

    @on(FilterBar.Applied)
    def _filter_applied(self, message: FilterBar.Applied) -> None:
        bar = self.query_one(FilterBar)
        error = self.twtop.apply_filter(message.expr)
        if error is not None:
            bar.show_error(error)
            return
        bar.close()
        self.query_one(PeerTable).focus()

    def action_sort(self) -> None:
        """Sort by the next column (the table's title shows which)."""
        self.query_one(PeerTable).cycle_sort()

    def action_reverse(self) -> None:
        """Reverse the sort."""
        self.query_one(PeerTable).reverse_sort()
