"""The drill-down: one peer group's sockets, refreshed every interval, timers counting down."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from twtop.errors import TwtopError
from twtop.knowledge_ui import UI_WORDS
from twtop.model import PeerRow, Socket
from widgets.header import StatusHeader
from widgets.sockets import MAX_SOCKETS, SocketTable
from widgets.status import StatusBar

if TYPE_CHECKING:
    from tui.app import TwtopApp


class PeerScreen(Screen[None]):
    """The sockets of one peer group, as the engine selects them (the active filter applies)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("s", "sort", "Sort", id="sort"),
        Binding("f6", "sort", "Sort", show=False, id="sort_f6"),
        Binding("r", "reverse", "Reverse", show=False, id="reverse"),
    ]
    """Esc goes back; s and r sort the sockets."""

    def __init__(self, row: PeerRow) -> None:
        super().__init__()
        self.row = row
        self.fetched_at = 0.0

    @property
    def twtop(self) -> TwtopApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(id="peer-title")
        yield SocketTable()
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        """Fetch now, then every interval; tick the timers every second."""
        self.twtop.init_chrome(self)
        words = UI_WORDS[self.twtop.lang]
        title = Text(f" {self.row.peer}", style="bold")
        title.append(words["peer_title"].format(n=f"{self.row.total:,}"))
        self.query_one("#peer-title", Static).update(title)
        self.fetch()
        self.set_interval(self.twtop.interval, self.fetch)
        self.set_interval(1.0, self.tick)

    @work(thread=True, exclusive=True, group="peer", exit_on_error=False)
    def fetch(self) -> None:
        """This group's sockets, filtered in the kernel by the engine; at most what is shown."""
        try:
            socks = self.twtop.source.peer_sockets(self.row, MAX_SOCKETS)
        except TwtopError as exc:
            self.app.call_from_thread(self.twtop.set_error, str(exc))
            return
        self.app.call_from_thread(self._show, socks)

    def _show(self, socks: list[Socket]) -> None:
        self.fetched_at = self.twtop.clock()
        self.query_one(SocketTable).update_sockets(socks, self.row.total)

    def tick(self) -> None:
        """Count timers down between fetches."""
        if self.fetched_at:
            self.query_one(SocketTable).tick(self._elapsed_ms())

    def _elapsed_ms(self) -> int:
        return int((self.twtop.clock() - self.fetched_at) * 1000)

    def action_sort(self) -> None:
        """Sort the sockets by the next column."""
        self.query_one(SocketTable).cycle_sort()

    def action_reverse(self) -> None:
        """Reverse the sort."""
        self.query_one(SocketTable).reverse_sort()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter: explain the socket."""
        from tui.screens.socket import SocketScreen

        sock = self.query_one(SocketTable).by_key.get(event.row_key.value or "")
        if sock is not None:
            self.app.push_screen(SocketScreen(sock, self._elapsed_ms()))
