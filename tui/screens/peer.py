"""The drill-down: one peer group's sockets a page at a time, sorted across the whole group,
refreshed within the CPU budget, timers counting down between refreshes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from twtop import pages
from twtop.budget import DEFAULT_CPU_BUDGET_PCT
from twtop.errors import TwtopError
from twtop.knowledge_views import VIEW_WORDS
from twtop.model import PeerRow
from twtop.text import duration
from widgets.header import StatusHeader
from widgets.sockets import SocketTable
from widgets.status import StatusBar

if TYPE_CHECKING:
    from tui.app import TwtopApp


def refresh_after(interval: float, cpu_s: float, budget_pct: float) -> float:
    """Seconds until the next refresh: the interval, or longer when a fetch costs more CPU than
    the budget grants per interval (a big group refreshes less often)."""
    return max(interval, cpu_s / max(budget_pct / 100, 1e-3))


class PeerScreen(Screen[None]):
    """The sockets of one peer group, as the engine selects them (the active filter applies)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("s", "sort", "Sort", id="sort"),
        Binding("f6", "sort", "Sort", show=False, id="sort_f6"),
        Binding("r", "reverse", "Reverse", show=False, id="reverse"),
    ]
    """Esc goes back; s and r sort the group (PgDn/PgUp/Home/End page: the table's keys)."""

    def __init__(self, row: PeerRow) -> None:
        super().__init__()
        self.row = row
        self.fetched_at = 0.0  # the app clock when the page on screen was read
        self.page: pages.Page | None = None
        self.seen = pages.Seen()  # first sightings: released with the screen
        self.query_now = pages.PageQuery()
        self.next_at = 0.0  # monotonic: when the next refresh is due
        self.fetching = False
        self.cursor_to: int | None = None  # after paging: 0 (top) or -1 (bottom)

    @property
    def twtop(self) -> TwtopApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def words(self) -> dict[str, str]:
        """The app language's words."""
        return VIEW_WORDS.get(str(getattr(self.app, "lang", "en")), VIEW_WORDS["en"])

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(id="peer-title")
        yield SocketTable()
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        """The first page now; refresh when due; tick the timers every second."""
        self.twtop.init_chrome(self)
        self._head()
        self._start(self.query_now)
        self.set_interval(1.0, self.tick)

    def on_unmount(self) -> None:
        """Stop a fetch still reading the kernel (it stops between receive buffers) and let go
        of the first sightings (up to MAX_SEEN cookies) and the page now, not when the screen
        object is collected."""
        self.workers.cancel_group(self, "peer")
        self.seen.clear()
        self.page = None
        if not self.fetching:  # else the cancelled fetch does it once it has let go
            pages.give_back()

    def _head(self) -> None:
        words = self.words()
        head = words["drill_head"].format(peer=self.row.peer, total=f"{self.row.total:,}")
        title = Text(" " + head, style="bold")
        if self.query_now.sort == "age":  # what SEEN means, on a line of its own
            title.append("\n " + words["drill_seen_legend"])
        else:
            title.append("   " + words["drill_keys"])
        self.query_one("#peer-title", Static).update(title)

    @work(thread=True, exclusive=True, group="peer", exit_on_error=False)
    def fetch(self, query: pages.PageQuery) -> None:
        """One page from the engine, in a worker (a newer fetch or Esc cancels this one)."""
        worker = get_current_worker()
        try:
            page = self.twtop.source.peer_page(  # stops at Esc, a newer fetch, or `q`
                self.row, query, self.seen,
                lambda: worker.is_cancelled or self.app.return_code is not None,
            )  # fmt: skip
        except pages.Cancelled:
            if not self.is_attached:  # Esc: what the pass held is free now
                self.seen.clear()
                pages.give_back()
            return
        except Exception as exc:  # a TwtopError, or a bug: said on screen, never a dead worker
            if not worker.is_cancelled:
                text = str(exc) if isinstance(exc, TwtopError) else f"{type(exc).__name__}: {exc}"
                self.app.call_from_thread(self._failed, text)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, page)

    def _failed(self, error: str) -> None:
        self.fetching = False
        self.next_at = time.monotonic() + self.twtop.interval
        self.twtop.set_error(error)

    def _show(self, page: pages.Page) -> None:
        self.page, self.fetching = page, False
        self.fetched_at = self.twtop.clock()
        snap = self.twtop.snapshot
        budget = (snap.cpu_budget if snap is not None else None) or DEFAULT_CPU_BUDGET_PCT
        self.next_at = time.monotonic() + refresh_after(self.twtop.interval, page.cpu_s, budget)
        table = self.query_one(SocketTable)
        table.update_page(page)
        table.set_status("", False)
        if self.cursor_to is not None and table.row_count:
            row = 0 if self.cursor_to == 0 else table.row_count - 1
            table.move_cursor(row=row, animate=False)
            self.cursor_to = None

    def _start(self, query: pages.PageQuery) -> None:
        self.query_now, self.fetching = query, True
        self.query_one(SocketTable).set_status(self._age(), True)
        self.fetch(query)

    def refresh_query(self) -> pages.PageQuery:
        """The page on screen again: from its first socket (the group's start when it is the
        first page, so sockets that now sort before it appear)."""
        q, page = self.query_now, self.page
        if page is None or not page.keys or page.offset == 0:
            return pages.PageQuery(q.sort, q.reverse, pages.FIRST, size=q.size)
        return pages.PageQuery(q.sort, q.reverse, pages.AT, page.keys[0], size=q.size)

    def tick(self) -> None:
        """Count timers down between fetches; refresh when due."""
        table = self.query_one(SocketTable)
        if self.fetched_at:
            table.tick(self._elapsed_ms())
        if not self.fetching and self.page is not None and time.monotonic() >= self.next_at:
            self._start(self.refresh_query())
        else:
            table.set_status(self._age(), self.fetching)

    def _age(self) -> str:
        if not self.fetched_at:
            return ""
        age = self.twtop.clock() - self.fetched_at
        return self.words()["drill_old"].format(age=duration(age)) if age >= 2 else ""

    def _elapsed_ms(self) -> int:
        return int((self.twtop.clock() - self.fetched_at) * 1000)

    def action_sort(self) -> None:
        """Sort the group by the next column (a new first page)."""
        self.query_one(SocketTable).cycle_sort()

    def action_reverse(self) -> None:
        """Reverse the sort."""
        self.query_one(SocketTable).reverse_sort()

    def on_socket_table_sort_wanted(self, event: SocketTable.SortWanted) -> None:
        """The first page in the new order."""
        self.cursor_to = 0
        self._start(pages.PageQuery(event.column, event.reverse, size=self.query_now.size))
        self._head()

    def on_socket_table_page_wanted(self, event: SocketTable.PageWanted) -> None:
        """Another page, anchored on the page shown."""
        page = self.page
        if page is None:
            return
        self.cursor_to = -1 if event.direction in (pages.BEFORE, pages.LAST) else 0
        self._start(pages.next_query(page, event.direction))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter: explain the socket."""
        from tui.screens.socket import SocketScreen

        sock = self.query_one(SocketTable).by_key.get(event.row_key.value or "")
        if sock is not None:
            self.app.push_screen(SocketScreen(sock, self._elapsed_ms()))
