"""The twtop Textual app: polls through the engine in a worker, hands snapshots to the panes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from tui.messages import PollFailed, SnapshotReady
from tui.screens import HelpScreen, PeerScreen
from tui.signals import TerminalGuard
from twtop import files
from twtop.advisor import advise
from twtop.errors import TwtopError
from twtop.filter import FilterError, compile_filter
from twtop.model import GROUPS, PeerRow, Snapshot, Socket
from twtop.report import document
from widgets.explain import ExplainerStrip, PeerPanel
from widgets.findings import FindingsBar
from widgets.header import StatusHeader
from widgets.peers import PeerTable
from widgets.ports import PortGauge
from widgets.states import StateCounts

#: Poll intervals ``+`` and ``-`` step through.
INTERVALS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)


class Source(Protocol):
    """What the app polls: the engine's Collector, or a fixed fake in snapshot tests."""

    def poll(self) -> Snapshot: ...  # noqa: D102
    def sockets(self, filter: str | None = None, limit: int | None = None) -> list[Socket]: ...  # noqa: D102, E501
    def peer_sockets(self, row: PeerRow, limit: int | None = None) -> list[Socket]: ...  # noqa: D102, E501
    def set_filter(self, expr: str | None) -> None: ...  # noqa: D102
    def set_group(self, group: str) -> None: ...  # noqa: D102
    def close(self) -> None: ...  # noqa: D102


class TwtopApp(App[int]):
    """A top for TCP connection states."""

    CSS_PATH = "app.tcss"
    TITLE = "twtop"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit_ctrl_c"),
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("slash,f4", "filter", "Filter", id="filter"),
        Binding("s,f6", "sort", "Sort", id="sort"),
        Binding("r", "reverse", "Reverse", show=False, id="reverse"),
        Binding("g", "group", "Group", id="group"),
        Binding("space,Z", "pause", "Pause", id="pause"),
        Binding("plus", "slower", "Slower", show=False, id="slower"),
        Binding("minus", "faster", "Faster", show=False, id="faster"),
        Binding("e", "export", "Export", show=False, id="export"),
        Binding("ctrl+s", "save_svg", "Screenshot", show=False, id="screenshot"),
    ]
    """Keys: see the help screen; at most six show in the footer."""

    snapshot: reactive[Snapshot | None] = reactive(None)
    """The snapshot on display (frozen while paused)."""
    paused: reactive[bool] = reactive(False)
    """Display frozen; polling continues."""

    def __init__(self, source: Source, settings: dict[str, Any] | None = None,
                 poll: bool = True) -> None:  # fmt: skip
        super().__init__()
        settings = settings or {}
        self.source = source
        self.interval = float(settings.get("interval", 1.0))
        self.lang = str(settings.get("lang", "en"))
        self.group = str(settings.get("group", "ip"))
        self.filter_text: str | None = settings.get("filter")
        self.latest: Snapshot | None = None
        self._wake = threading.Event()
        self._poll = poll
        #: Where ``e`` and ctrl+s write (None: the default private state directory).
        self.state_dir: str | None = settings.get("state_dir")
        #: Monotonic clock for timers counting down (tests freeze it for stable screenshots).
        self.clock: Callable[[], float] = settings.get("clock") or time.monotonic

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield StateCounts()
        yield FindingsBar()
        yield PortGauge()
        with Horizontal(id="peers-row"):
            yield PeerTable()
            yield PeerPanel()
        yield ExplainerStrip()
        with Vertical(id="filter-bar"):
            yield Input(placeholder="filter: state time-wait and dport = :443", id="filter")
            yield Static(id="filter-error")
        yield Footer()

    def on_mount(self) -> None:
        """Start polling."""
        self.query_one(PeerTable).focus()
        if self.filter_text:
            self.query_one("#filter", Input).value = self.filter_text
        if self._poll:
            self.poll_loop()

    # -- polling (worker thread) ------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def poll_loop(self) -> None:
        """Poll, post the snapshot, wait for the interval; one poll at a time, never overlapping."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            started = time.monotonic()
            self.poll_once()
            wait = max(0.05, self.interval - (time.monotonic() - started))
            self._wake.wait(wait)
            self._wake.clear()

    def poll_once(self) -> None:
        """One poll through the engine; errors become a PollFailed message (no traceback)."""
        try:
            snap = self.source.poll()
            findings = tuple(advise(snap, self.lang))
        except TwtopError as exc:
            self.post_message(PollFailed(str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - the TUI must never die on a poll
            self.post_message(PollFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(SnapshotReady(snap, findings))

    def refresh_now(self) -> None:
        """Wake the poll loop for an immediate poll."""
        self._wake.set()

    # -- data on the UI thread ------------------------------------------------------------------
    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        """Record history always; redraw unless paused."""
        self.latest = message.snapshot
        self.query_one(StateCounts).record(message.snapshot)
        for header in self._headers():
            header.error = None
        if not self.paused:
            self.show(message.snapshot, message.findings)

    def on_poll_failed(self, message: PollFailed) -> None:
        """Keep the last good data; say what failed in the header."""
        for header in self._headers():
            header.error = message.error

    def show(self, snap: Snapshot, findings: tuple[Any, ...] | None = None) -> None:
        """Put a snapshot on every pane."""
        self.snapshot = snap
        for header in self._headers():
            header.snapshot = snap
            header.interval = self.interval
        self.query_one(StateCounts).snapshot = snap
        self.query_one(PortGauge).snapshot = snap
        self.query_one(FindingsBar).findings = (
            findings if findings is not None else tuple(advise(snap, self.lang))
        )
        table = self.query_one(PeerTable)
        table.update_snapshot(snap)
        self._explain_selected()

    def _explain_selected(self) -> None:
        row = self.query_one(PeerTable).selected_row()
        panel = self.query_one(PeerPanel)
        strip = self.query_one(ExplainerStrip)
        wide = self.size.width >= PeerPanel.MIN_WIDTH  # the panel replaces the strip
        if panel.display != wide:
            panel.display = wide
            strip.display = not wide
        (panel if wide else strip).show(row, self.snapshot, self.lang)

    def on_resize(self) -> None:
        """Show the explanation panel when the terminal is wide enough."""
        if self.snapshot is not None:
            self._explain_selected()

    def _headers(self) -> Iterable[StatusHeader]:
        for screen in self.screen_stack:
            yield from screen.query(StatusHeader)

    @on(PeerTable.PeerHighlighted)
    def _peer_highlighted(self, message: PeerTable.PeerHighlighted) -> None:
        # The message may be older than the last re-sort: ask the table what is selected now.
        self._explain_selected()

    @on(PeerTable.PeerChosen)
    def _peer_chosen(self, message: PeerTable.PeerChosen) -> None:
        self.push_screen(PeerScreen(message.row, self.group))

    # -- actions ----------------------------------------------------------------------------------
    def action_help(self) -> None:
        """Show every binding."""
        self.push_screen(HelpScreen())

    def action_filter(self) -> None:
        """Open the filter input."""
        bar = self.query_one("#filter-bar")
        bar.add_class("visible")
        self.query_one("#filter", Input).focus()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.apply_filter(event.value)

    def apply_filter(self, expr: str) -> bool:
        """Apply a filter; on error show it inline and keep the last good one."""
        error = self.query_one("#filter-error", Static)
        try:
            compile_filter(expr)
        except FilterError as exc:
            error.update(Text(f"{exc}\n{exc.caret()}"))
            return False
        text = expr.strip() or None
        self.source.set_filter(text)
        self.filter_text = text
        error.update("")
        self.query_one("#filter-bar").remove_class("visible")
        self.query_one(PeerTable).focus()
        self.notify(f"filter: {text}" if text else "filter cleared", markup=False)
        self.refresh_now()
        return True

    def on_key(self, event: Any) -> None:
        """Esc in the filter input clears the filter."""
        if event.key == "escape" and isinstance(self.focused, Input):
            event.stop()
            self.query_one("#filter", Input).value = ""
            self.apply_filter("")

    def action_sort(self) -> None:
        """Sort by the next column."""
        self.query_one(PeerTable).cycle_sort()  # the table's title shows the column

    def action_reverse(self) -> None:
        """Reverse the sort."""
        self.query_one(PeerTable).reverse_sort()

    def action_group(self) -> None:
        """Group peers by the next key."""
        self.group = GROUPS[(GROUPS.index(self.group) + 1) % len(GROUPS)]
        self.source.set_group(self.group)
        self.notify(f"grouping by {self.group}", timeout=1.5)
        self.refresh_now()

    def action_pause(self) -> None:
        """Freeze or unfreeze the display."""
        self.paused = not self.paused
        for header in self._headers():
            header.paused = self.paused
        if not self.paused and self.latest is not None:
            self.show(self.latest)

    def action_slower(self) -> None:
        """Poll less often."""
        self._set_interval(next((i for i in INTERVALS if i > self.interval), INTERVALS[-1]))

    def action_faster(self) -> None:
        """Poll more often."""
        self._set_interval(next((i for i in reversed(INTERVALS) if i < self.interval),
                                INTERVALS[0]))  # fmt: skip

    def _set_interval(self, value: float) -> None:
        self.interval = value
        for header in self._headers():
            header.interval = value
        self.notify(f"polling every {value:g}s", timeout=1.5)
        self.refresh_now()

    def action_export(self) -> None:
        """Write the snapshot on display as JSON and say where."""
        snap = self.snapshot
        if snap is None:
            self.notify("nothing collected yet", severity="warning")
            return
        stem = f"twtop-{snap.host}-{time.strftime('%Y%m%d-%H%M%S')}"
        doc = document(snap, advise(snap, self.lang))
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        try:
            path = files.write_new(stem, ".json", text, self.state_dir)
        except TwtopError as exc:
            self.notify(f"export failed: {exc}", severity="error", markup=False)
            return
        self.notify(f"snapshot written to {path}", markup=False)

    def action_save_svg(self) -> None:
        """Save an SVG screenshot and say where."""
        stem = f"twtop-{time.strftime('%Y%m%d-%H%M%S')}"
        try:
            path = files.write_new(stem, ".svg", self.export_screenshot(), self.state_dir)
        except TwtopError as exc:
            self.notify(f"screenshot failed: {exc}", severity="error", markup=False)
            return
        self.notify(f"screenshot saved to {path}", markup=False)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """twtop's actions in the command palette."""
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Filter sockets", "Filter with the ss-like language", self.action_filter
        )
        yield SystemCommand("Sort by next column", "Cycle the peer table's sort", self.action_sort)
        yield SystemCommand("Reverse sort", "Flip the sort order", self.action_reverse)
        yield SystemCommand("Group peers", "IP → IP:port → local port → process",
                            self.action_group)  # fmt: skip
        yield SystemCommand("Pause / resume", "Freeze the display", self.action_pause)
        yield SystemCommand("Poll slower", "Longer interval", self.action_slower)
        yield SystemCommand("Poll faster", "Shorter interval", self.action_faster)
        yield SystemCommand("Export JSON", "Write the snapshot to a file", self.action_export)
        yield SystemCommand("Help", "Keys and filter language", self.action_help)

    #: Actions that work on the main screen's panes only.
    MAIN_ONLY = frozenset({"filter", "sort", "reverse", "group", "pause"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide and disable the main screen's actions while a drill-down screen is up."""
        return not (action in self.MAIN_ONLY and len(self.screen_stack) > 1)

    def on_unmount(self) -> None:
        """Stop polling and close the netlink socket."""
        self.workers.cancel_group(self, "poll")
        self._wake.set()


def run_app(settings: dict[str, Any]) -> int:
    """Run the TUI on the real engine."""
    from twtop.collector import Collector

    collector = Collector(
        netns=settings.get("netns"), filter=settings.get("filter"), group=settings["group"],
        cpu_budget=settings.get("cpu_budget"),
    )  # fmt: skip
    app = TwtopApp(collector, settings)
    try:
        with TerminalGuard(app):  # SIGTERM/SIGHUP/SIGQUIT: terminal restored, exit 128+N
            app.run(mouse=not settings.get("no_mouse"))
    finally:
        collector.close()
    return app.return_code or 0
