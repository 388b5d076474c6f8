"""The twtop Textual app: polls the engine in a worker and owns the actions that change it."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import get_current_worker

from tui import commands
from tui.messages import FilterHint, PollFailed, SnapshotReady
from tui.notes import write_note
from tui.screens.counters import CountersScreen
from tui.screens.findings import FindingsScreen
from tui.screens.help import HelpScreen
from tui.screens.listeners import ListenersScreen
from tui.screens.main import MainScreen
from tui.signals import TerminalGuard
from tui.words import relabel, words
from twtop.advisor import Finding, advise
from twtop.budget import MAX_DETAIL_AGE_S
from twtop.build import NOT_ROOT_NOTE
from twtop.errors import TwtopError
from twtop.filter import FilterError, compile_filter
from twtop.knowledge_screen import SCREEN_WORDS
from twtop.knowledge_ui import UI_WORDS
from twtop.model import GROUPS, PeerRow, Snapshot, Socket
from twtop.pages import Page, PageQuery, Seen
from twtop.schedule import name_thread
from twtop.tcpinfo import TcpInfo
from widgets.filter_bar import FilterBar
from widgets.header import StatusHeader
from widgets.status import StatusBar

#: Poll intervals ``+`` and ``-`` step through: the whole range the CLI accepts (0.1-3600 s).
INTERVALS = (0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
             3600.0)  # fmt: skip


def no_color() -> bool:
    """NO_COLOR is set and not empty (https://no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


def step_interval(current: float, slower: bool) -> float:
    """The next interval up or down from ``current``; at either end it stays (never backwards)."""
    if slower:
        return next((i for i in INTERVALS if i > current), max(current, INTERVALS[-1]))
    return next((i for i in reversed(INTERVALS) if i < current), min(current, INTERVALS[0]))


class Source(Protocol):
    """What the app polls: the engine's Collector, or a fixed fake in UI tests."""

    def poll(self) -> Snapshot: ...
    def peer_sockets(self, row: PeerRow, limit: int | None = None) -> list[Socket]: ...
    def sockets(self, filter: str | None = None, limit: int | None = None) -> list[Socket]: ...
    def peer_page(
        self, row: PeerRow, query: PageQuery, seen: Seen,
        cancelled: Callable[[], bool] | None = None,
    ) -> Page: ...  # fmt: skip
    def tcp_info(self, sock: Socket) -> TcpInfo | None: ...
    def set_filter(self, expr: str | None) -> None: ...
    def set_group(self, group: str) -> None: ...
    def close(self) -> None: ...


class TwtopApp(App[int]):
    """A top for TCP connection states."""

    CSS_PATH = "app.tcss"
    TITLE = "twtop"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("f10", "quit", "Quit", show=False, id="quit_f10"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit_ctrl_c"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("f1", "help", "Help", show=False, id="help_f1"),
        Binding("f", "findings", "Findings", id="findings"),
        Binding("plus", "slower", "Slower", show=False, id="slower"),
        Binding("minus", "faster", "Faster", show=False, id="faster"),
        Binding("e", "export", "Export", show=False, id="export"),
        Binding("ctrl+s", "save_svg", "Screenshot", show=False, id="screenshot"),
        Binding("l", "listeners", "Listeners", show=False, id="listeners"),
        Binding("c", "counters", "Counters", show=False, id="counters"),
        Binding("n", "note", "Note", show=False, id="note"),
    ]
    """Keys that work on every screen (the main screen adds filter, sort, group, pause)."""

    def __init__(self, source: Source, settings: dict[str, Any] | None = None,
                 poll: bool = True) -> None:  # fmt: skip
        # NO_COLOR (no-color.org): Textual's own answer is a grey "monochrome" palette (grey 235 on
        # 233 made the sparklines invisible); as an ANSI app it drops every colour instead and
        # the terminal's default colours stay (app.tcss gives the cursor and badges reverse/bold).
        super().__init__(ansi_color=True if no_color() else None)
        settings = settings or {}
        self.source = source
        self.interval = float(settings.get("interval", 1.0))
        self.lang = str(settings.get("lang", "en"))
        self.group = str(settings.get("group", "ip"))
        self.filter_text: str | None = settings.get("filter")
        self._hinted: str | None = None  # the filter a "0 sockets match" hint was sought for
        self.latest: Snapshot | None = None
        self.latest_findings: tuple[Finding, ...] = ()
        self.paused = False
        self.error: str | None = None
        self.last_good = 0.0  # clock() of the last good poll
        self._wake = threading.Event()
        self._poll = poll
        self.started = False
        #: Where ``e`` and ctrl+s write (None: the default private state directory).
        self.state_dir: str | None = settings.get("state_dir")
        #: Monotonic clock for timers and data age (tests freeze it for stable screenshots).
        self.clock: Callable[[], float] = settings.get("clock") or time.monotonic
        self.main = MainScreen()
        relabel(self, self.lang)  # the footer's words in the app's language
        relabel(self.main, self.lang)

    def get_default_screen(self) -> Screen[Any]:
        """The overview is the bottom of the screen stack."""
        return self.main

    @property
    def snapshot(self) -> Snapshot | None:
        """The snapshot on display (frozen while paused)."""
        return self.main.snapshot

    def start(self) -> None:
        """Start polling (the main screen calls this once its panes exist)."""
        self.started = True
        if self.latest is not None:
            self.main.record(self.latest)
            self.main.show(self.latest, self.latest_findings)
        if self.filter_text:
            self.main.query_one("#filter").value = self.filter_text  # type: ignore[attr-defined]
        self.set_interval(1.0, self.update_status)
        if self._poll:
            self.poll_loop()

    # -- polling (worker thread) ------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def poll_loop(self) -> None:
        """Poll, post the snapshot, wait for the interval; one poll at a time, never overlapping."""
        worker = get_current_worker()
        name_thread(b"twtop-poll")  # the counts (and, without a budget split, the detail)
        while not worker.is_cancelled:
            started = time.monotonic()
            self.poll_once()
            self._wake.wait(max(0.05, self.interval - (time.monotonic() - started)))
            self._wake.clear()

    def poll_once(self) -> None:
        """One poll through the engine; errors become a PollFailed message (no traceback)."""
        try:
            # The engine's counts every interval, its detail beside them (twtop/schedule.py)
            snap = getattr(self.source, "poll_live", self.source.poll)()
            findings = tuple(advise(snap, self.lang))
        except TwtopError as exc:
            self.post_message(PollFailed(str(exc)))
            return
        except Exception as exc:  # the TUI must never die on a poll
            self.post_message(PollFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(SnapshotReady(snap, findings))
        hint = self._filter_hint(snap)
        if hint is not None and snap.filter:
            self.post_message(FilterHint(snap.filter, hint))

    def _filter_hint(self, snap: Snapshot) -> str | None:
        """Once per filter that matches nothing: the sport hint (a dump with the swapped
        filter, in this worker thread), or None."""
        if not snap.filter or snap.total or snap.filter == self._hinted:
            return None
        self._hinted = snap.filter
        from twtop.hints import port_hint

        try:
            return port_hint(snap.filter, lambda f: len(self.source.sockets(f)), self.lang)
        except TwtopError:
            return None

    def refresh_now(self) -> None:
        """Wake the poll loop for an immediate poll."""
        self._wake.set()

    # -- data on the UI thread ------------------------------------------------------------------
    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        """Record history always; redraw unless paused."""
        self.latest = message.snapshot
        self.latest_findings = message.findings
        self.last_good = self.clock()
        self.error = None
        if not self.started:  # the panes are not there yet: start() shows it
            return
        try:
            self.main.record(message.snapshot)
            if not self.paused:
                self.main.show(message.snapshot, message.findings)
        except NoMatches:  # a poll that lands while the app closes: its panes are gone
            return
        if not self.paused:
            for header in self._all(StatusHeader):
                header.snapshot = message.snapshot
                header.interval = self.interval
        self.update_status()

    def on_filter_hint(self, message: FilterHint) -> None:
        """The active filter matched nothing: say what to try, in the filter bar."""
        if message.filter == self.filter_text and self.started:
            self.main.query_one(FilterBar).show_hint(message.hint)

    def on_poll_failed(self, message: PollFailed) -> None:
        """Keep the last good data; say what failed where it is never cut."""
        self.set_error(message.error)

    def set_error(self, error: str | None) -> None:
        """Show (or clear) an error from the engine on every screen's status line."""
        self.error = error
        self.update_status()

    def update_status(self) -> None:
        """PAUSED, the data's age when it is late, and the last error, on every screen."""
        age: float | None = None
        if self.last_good and (late := self.clock() - self.last_good) > 2 * self.interval + 1:
            age = late
        notes, snap = [], self.latest
        if snap is not None and any(n.startswith(NOT_ROOT_NOTE) for n in snap.notes):
            notes.append(SCREEN_WORDS[self.lang]["note_not_root"])
        if snap is not None and snap.cpu_over:  # budget.py: the counts alone exceed the budget
            notes.append(UI_WORDS[self.lang]["st_cpu_over"].format(
                u=f"{snap.cpu_used_pct or 0:.0f}", p=f"{snap.cpu_budget or 0:g}",
                s=f"{MAX_DETAIL_AGE_S:.0f}"))  # fmt: skip
        note = "  ".join(notes) or None
        for bar in self._all(StatusBar):
            bar.paused, bar.error, bar.age_s, bar.note = self.paused, self.error, age, note

    def init_chrome(self, screen: Screen[Any]) -> None:
        """Give a newly mounted screen the header and status line the others show."""
        relabel(screen, self.lang)
        screen.refresh_bindings()
        header = screen.query_one(StatusHeader)
        header.snapshot = self.snapshot
        header.interval = self.interval
        self.update_status()

    def _all(self, kind: type[Any]) -> Iterable[Any]:
        for screen in self.screen_stack:
            yield from screen.query(kind)

    # -- actions that change the engine or the app ------------------------------------------------
    def apply_filter(self, expr: str) -> FilterError | None:
        """Apply a filter (empty: none); on error return it and keep the last good filter."""
        try:
            plan = compile_filter(expr)
        except FilterError as exc:
            return exc
        text = expr.strip() or None
        self.source.set_filter(text)
        self.filter_text = text
        self._hinted = None  # a filter applied again is looked at again
        w = words(self.lang)
        self.notify(w["ntf_filter"].format(f=text) if text else w["ntf_filter_cleared"],
                    markup=False)  # fmt: skip
        for note in plan.notes:  # how an and/or mix was read
            self.notify(note, severity="warning", markup=False)
        self.refresh_now()
        return None

    def action_cycle_group(self) -> None:
        """Group peers by the next key."""
        self.group = GROUPS[(GROUPS.index(self.group) + 1) % len(GROUPS)]
        self.source.set_group(self.group)
        w = words(self.lang)
        self.notify(w["ntf_grouping"].format(group=w[f"group_{self.group}"]), timeout=1.5)
        self.refresh_now()

    def action_pause(self) -> None:
        """Freeze or unfreeze the display (collection continues)."""
        self.paused = not self.paused
        if not self.paused and self.latest is not None:
            self.main.show(self.latest, self.latest_findings)
        self.update_status()

    def action_slower(self) -> None:
        """Poll less often."""
        self._set_interval(step_interval(self.interval, slower=True))

    def action_faster(self) -> None:
        """Poll more often."""
        self._set_interval(step_interval(self.interval, slower=False))

    def _set_interval(self, value: float) -> None:
        self.interval = value
        for header in self._all(StatusHeader):
            header.interval = value
        self.notify(words(self.lang)["ntf_polling"].format(s=f"{value:g}"), timeout=1.5)
        self.refresh_now()

    def action_help(self) -> None:
        """Show every binding."""
        self.push_screen(HelpScreen())

    def action_findings(self) -> None:
        """Every finding of the snapshot on display, with evidence, why and action."""
        if not isinstance(self.screen, FindingsScreen):
            self.push_screen(FindingsScreen(self.main.findings))

    def action_listeners(self) -> None:
        """Each listener's accept queue, backlog, SYN_RECV, unaccepted CLOSE_WAIT and owner."""
        if not isinstance(self.screen, ListenersScreen):
            self.push_screen(ListenersScreen())

    def action_counters(self) -> None:
        """The kernel's TCP counters with rates, the ones that moved first."""
        if not isinstance(self.screen, CountersScreen):
            self.push_screen(CountersScreen())

    def action_note(self) -> None:
        """Write an incident note (Markdown, a new private file) and say where."""
        write_note(self)

    def action_export(self) -> None:
        """Write the snapshot on display as JSON (a new private file) and say where."""
        commands.export_json(self)

    def action_save_svg(self) -> None:
        """Save an SVG screenshot (a new private file) and say where."""
        commands.save_svg(self)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """twtop's actions in the command palette, and Textual's own in the app's language."""
        yield from commands.textual_commands(self, super().get_system_commands(screen))
        yield from commands.palette(self, screen)

    def action_command_palette(self) -> None:
        """The command palette, its prompt in the app's language."""
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            prompt = words(self.lang)["pal_search"]
            self.push_screen(CommandPalette(id="--command-palette", placeholder=prompt))

    def on_unmount(self) -> None:
        """Stop polling."""
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
    guard = TerminalGuard(app)  # SIGTERM/SIGHUP/SIGQUIT: terminal restored, exit 128+N
    exit_app = app.exit

    def exit_soon(result: Any = None, return_code: int = 0, message: Any = None) -> None:
        guard.quit_soon(return_code)  # `q` < 1 s, whatever the worker threads are doing
        exit_app(result, return_code, message)

    app.exit = exit_soon  # type: ignore[method-assign]
    # Our own loop: asyncio.run() would join the worker threads, so `q` would wait for a poll or a
    # drill-down still reading the kernel (5 s at 200k sockets on a loaded machine, measured);
    # the CLI ends the process right after (cli.py), threads and all.
    loop = asyncio.new_event_loop()
    try:
        with guard:
            app.run(mouse=not settings.get("no_mouse"), loop=loop)
    finally:
        collector.close()
        loop.close()  # does not wait for the worker threads either
    return app.return_code or 0
