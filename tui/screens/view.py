"""A view that follows the snapshot on display: a line above a table, a line below it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from twtop.model import Snapshot
from widgets.header import StatusHeader
from widgets.status import StatusBar

if TYPE_CHECKING:
    from tui.app import TwtopApp


class SnapshotView(Screen[None]):
    """Follows the snapshot on display (frozen while paused); subclasses fill ``show``."""

    #: The ids of the line above and the line below the table.
    ABOVE: ClassVar[str]
    BELOW: ClassVar[str]

    @property
    def twtop(self) -> TwtopApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def make_table(self) -> DataTable[object]:
        """The view's table."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(id=self.ABOVE)
        yield self.make_table()
        yield Static(id=self.BELOW)
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        """Draw the snapshot on display, and every later one."""
        self.twtop.init_chrome(self)
        self.query_one(DataTable).focus()
        self.watch(self.twtop.main, "snapshot", self.show, init=True)

    def show(self, snap: Snapshot | None) -> None:
        """Put a snapshot on screen."""
        raise NotImplementedError
