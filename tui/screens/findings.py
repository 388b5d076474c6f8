"""The findings view: every finding of the snapshot on display, scrollable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from twtop.advisor import Finding
from twtop.knowledge_ui import UI_WORDS
from twtop.model import Snapshot
from widgets.findings import FindingsView
from widgets.header import StatusHeader
from widgets.status import StatusBar

if TYPE_CHECKING:
    from tui.app import TwtopApp


class FindingsScreen(Screen[None]):
    """Severity, evidence, why and the specific action of each finding; "all clear" if none."""

    BINDINGS = [Binding("escape,f", "app.pop_screen", "Back", id="back")]
    """Esc (or f again) goes back."""

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        super().__init__()
        self.findings = findings

    @property
    def twtop(self) -> TwtopApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with VerticalScroll(id="findings-scroll"):
            yield FindingsView()
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        """Draw the list (or, before the first poll has landed, say so); follow every later
        poll shown on the main screen, as the rest of twtop does (not while paused); focus the
        scroller so the arrows and PgUp/PgDn scroll it."""
        self.twtop.init_chrome(self)
        view = self.query_one(FindingsView)
        if self.findings or self.twtop.main.snapshot is not None:
            view.show(self.findings, self.twtop.lang)
        else:
            view.wait(UI_WORDS[self.twtop.lang]["findings_waiting"])
        self.watch(self.twtop.main, "snapshot", self._landed, init=False)
        self.query_one("#findings-scroll").focus()

    def _landed(self, snap: Snapshot | None) -> None:
        """A new snapshot is on display: its findings are set right after it (MainScreen.show),
        so read them once this message is done."""
        if snap is not None:
            self.call_later(self._fill)

    def _fill(self) -> None:
        findings = self.twtop.main.findings
        if findings != self.findings or not self.findings:
            self.findings = findings
            self.query_one(FindingsView).show(findings, self.twtop.lang)
