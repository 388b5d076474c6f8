"""One page of a peer group's sockets: a keyed live table in the engine's order, diffed like the
peer table; its paging keys ask the screen for other pages."""

from __future__ import annotations

from rich.console import JustifyMethod
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from twtop.identity import fit
from twtop.knowledge_ui import UI_WORDS
from twtop.knowledge_views import VIEW_WORDS
from twtop.model import Socket
from twtop.pages import AFTER, BEFORE, FIRST, LAST, PAGE_SIZE, SORTS, Page
from twtop.text import duration
from twtop.text import ms as fmt_ms
from widgets.cells import Cell
from widgets.format import compact
from widgets.sorting import SortCycle, arrow

#: (key, minimum width) with cell padding 0. At 80 columns (77 inside the border and scrollbar)
#: RQ, WQ and SEEN give way so PROCESS is on screen without scrolling; the one the sockets are
#: sorted by stays, and LOCAL gives it room. LOCAL/REMOTE are elided in the middle, PROCESS never
#: loses its PID.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("state", 12),
    ("local", 17),
    ("remote", 17),
    ("timer", 11),
    ("seen", 8),
    ("rq", 5),
    ("wq", 5),
    ("process", 20),
)
#: Header words: knowledge tables where twtop names it, the kernel's names otherwise.
LABELS = {"state": "STATE", "local": "LOCAL", "remote": "REMOTE", "timer": "TIMER", "rq": "RQ",
          "wq": "WQ", "process": " PROCESS"}  # fmt: skip
_QUEUES = ("rq", "wq")
_OPTIONAL = ("seen", "rq", "wq")
#: Widest LOCAL/REMOTE worth giving room to: ``[2001:db8:abcd::1]:33123`` and a gap.
ENDPOINT_MAX = 26
#: Border (2) and vertical scrollbar (1).
CHROME = 3
#: The narrowest LOCAL/REMOTE when a sort column needs room (a port and a bit of the address).
LOCAL_MIN = 9


def endpoint_fit(ep: str, width: int) -> str:
    """``addr:port`` in ``width`` columns: the port stays whole and the address loses its
    middle, so ``[2001:db8:abcd::1]:80`` and ``…::2]:80`` stay distinguishable."""
    addr, sep, port = ep.rpartition(":")
    if len(ep) <= width or not sep or not port.isdigit():
        return fit(ep, width)
    return fit(addr, max(1, width - len(port) - 1)) + ":" + port


def layout(width: int, sort: str = "timer") -> dict[str, int]:
    """Column widths for a table ``width`` columns wide sorted by ``sort`` (see COLUMNS)."""
    inside = width - CHROME
    base = {k: w for k, w in COLUMNS}
    if inside < sum(base.values()):
        for k in _OPTIONAL:
            if k != _column_of(sort):
                del base[k]
    over = sum(base.values()) - inside
    if over > 0:  # the sort column stays: LOCAL and REMOTE make room
        base["local"] = max(LOCAL_MIN, base["local"] - (over + 1) // 2)
        base["remote"] = max(LOCAL_MIN, base["remote"] - over // 2)
    spare = max(0, inside - sum(base.values()))
    grow = min(spare // 2, ENDPOINT_MAX - base["local"])
    base["local"] += max(0, grow)
    base["remote"] += max(0, grow)
    base["process"] += max(0, spare - 2 * max(0, grow))
    return base


def _column_of(sort: str) -> str:
    """The column that shows a sort's value."""
    return {"age": "seen"}.get(sort, sort)


#: Timer kinds before the time left are UI_WORDS ``timer_NAME`` (``rto ``, ``ka ``, ``zwp ``);
#: a TIME_WAIT's has none: the state column already says TIME_WAIT.
#: Sockets on one page (the engine decodes no more than this per fetch).
MAX_SOCKETS = PAGE_SIZE


def timer_cell(sock: Socket, lang: str = "en") -> Cell:
    """``42.1s`` (a TIME_WAIT), ``rto 200ms/3`` (retransmits after a slash), ``-`` when none."""
    if not sock.timer:
        return Cell(1 << 62, Text("-", style="dim"))
    extra = f"/{sock.retrans}" if sock.retrans else ""
    name = sock.timer_name
    kind = "" if name == "timewait" else UI_WORDS[lang].get(f"timer_{name}", name + " ")
    return Cell(sock.expires_ms, f"{kind}{fmt_ms(sock.expires_ms).replace(' ', '')}{extra}")


def seen_cell(seen_s: float | None, unknown: str) -> Cell:
    """How long twtop has seen the socket; ``unknown`` when first seen in this fetch."""
    if seen_s is None:
        return Cell(-1, Text(unknown, style="dim", justify="right"))
    return Cell(int(seen_s), Text(duration(seen_s), justify="right"))


def cells(
    s: Socket, widths: dict[str, int] | None = None, pos: int = 0,
    seen: Cell | None = None, lang: str = "en",
) -> dict[str, Cell]:  # fmt: skip
    """The cells of one socket (timer as of ``s``: age it first with ``Socket.aged``). Rows are
    in the engine's order (``pos`` on the page: the state cell sorts on it). Texts fit their
    column (``widths``)."""
    w = widths or layout(80)
    pw = w["process"] - 1
    owner = s.owner.fit(pw) if s.owner else (UI_WORDS[lang]["sock_orphan"] if s.orphan else "-")
    return {
        "state": Cell(pos, s.state.name),
        "local": Cell((s.local, s.lport), endpoint_fit(s.local_ep, w["local"] - 1)),
        "remote": Cell((s.remote, s.rport), endpoint_fit(s.remote_ep, w["remote"] - 1)),
        "timer": timer_cell(s, lang),
        "seen": seen or Cell(-1, ""),
        "rq": Cell(s.rqueue, compact(s.rqueue), "right"),
        "wq": Cell(s.wqueue, compact(s.wqueue), "right"),
        "process": Cell(owner, " " + owner),
    }


class SocketTable(SortCycle, DataTable[object]):
    """One page of a peer group's sockets, keyed by cookie, in the engine's order (the engine
    sorts the whole group: twtop/pages.py). The cursor stays on its socket and only changed cells
    are redrawn. ``s``/``r`` ask the screen for another sort; PgDn past the last row, PgUp above
    the first, Home and End ask for another page."""

    DEFAULT_CSS = """
    SocketTable { height: 1fr; border: round $primary; border-title-align: left;
                  scrollbar-size-vertical: 1; }
    """

    class PageWanted(Message):
        """Another page: pages.FIRST, BEFORE, AFTER or LAST."""

        def __init__(self, direction: str) -> None:
            super().__init__()
            self.direction = direction

    class SortWanted(Message):
        """Another sort (``column`` of pages.SORTS, ``reverse``): a new first page."""

        def __init__(self, column: str, reverse: bool) -> None:
            super().__init__()
            self.column = column
            self.reverse = reverse

    def __init__(self) -> None:
        super().__init__(cursor_type="row", id="sockets", cell_padding=0)
        self.by_key: dict[str, Socket] = {}
        self.shown: dict[str, dict[str, Cell]] = {}
        self.seen_s: dict[str, float | None] = {}
        self.order: list[str] = []
        self.sort_column = SORTS[0]
        self.sort_reverse = False
        self.elapsed_ms = 0
        self.widths = layout(80)
        self.page_offset = 0
        self.group_total = 0
        self.age = ""  # how old the page is, as shown
        self.busy = False  # a fetch is running

    @property
    def lang(self) -> str:
        """The app's language (en when the app has none)."""
        return str(getattr(self.app, "lang", "en"))

    def words(self) -> dict[str, str]:
        """This language's words."""
        return VIEW_WORDS.get(self.lang, VIEW_WORDS["en"])

    def on_mount(self) -> None:
        """Create the columns."""
        self._rebuild()

    def on_resize(self) -> None:
        """Lay the columns out again when the width changes."""
        self._relayout()

    def _relayout(self) -> None:
        widths = layout(self.size.width or 80, self.sort_column)
        if widths != self.widths:
            self.widths = widths
            self._rebuild()

    def _rebuild(self) -> None:
        """Columns for the current width; the rows are put back, the cursor stays."""
        words = self.words()
        ui = UI_WORDS[str(getattr(self.app, "lang", "en"))]
        labels = {k: ui.get(f"sock_col_{k}", label) for k, label in LABELS.items()}
        labels["seen"] = words["drill_col_seen"]
        selected = self.selected()
        self.clear(columns=True)
        for key, width in self.widths.items():
            justify: JustifyMethod = "right" if key in (*_QUEUES, "seen") else "left"
            self.add_column(Text(labels[key], justify=justify), key=key, width=width)
        for pos, key in enumerate(self.order):
            new = self._cells(key, pos)
            self.shown[key] = new
            self.add_row(*(new[k] for k in self.widths), key=key)
        if selected is not None and selected.key in self.by_key:
            self.move_cursor(row=self.get_row_index(selected.key), animate=False)
        self._title()

    def _cells(self, key: str, pos: int) -> dict[str, Cell]:
        s = self.by_key[key]
        seen = seen_cell(self.seen_s.get(key), self.words()["drill_unknown"])
        return cells(s.aged(self.elapsed_ms), self.widths, pos, seen, self.lang)

    def update_page(self, page: Page, elapsed_ms: int = 0) -> None:
        """Show a page of the group (its sockets in the engine's order)."""
        seen = {
            s.key: (None if t is None else max(0.0, page.fetched_at - t))
            for s, t in zip(page.sockets, page.seen, strict=True)
        }
        self.update_sockets(list(page.sockets), page.total, elapsed_ms, seen, page.offset)

    def update_sockets(
        self, socks: list[Socket], total: int | None = None, elapsed_ms: int = 0,
        seen: dict[str, float | None] | None = None, offset: int = 0,
    ) -> None:  # fmt: skip
        """Apply a page as a diff, in its order; ``total`` is the group's size."""
        self.elapsed_ms = elapsed_ms
        wanted = {s.key: s for s in socks[:MAX_SOCKETS]}
        self.seen_s = seen or {}
        selected = self.selected()
        changed = False
        if len(self.by_key) > 2 * sum(1 for k in wanted if k in self.by_key):
            # another page: starting over is cheaper than removing rows one by one (500 rows:
            # 140 ms of CPU against 395 ms, measured headless)
            self.clear()
            self.by_key.clear()
            self.shown.clear()
        with self.app.batch_update():
            for key in list(self.by_key):
                if key not in wanted:
                    self.remove_row(key)
                    del self.by_key[key], self.shown[key]
                    changed = True
            self.order = list(wanted)
            for pos, (key, s) in enumerate(wanted.items()):
                changed |= self._put(key, s, pos)
            if changed and self.row_count:
                self.sort("state")
            if selected is not None and selected.key in self.by_key:
                self.move_cursor(row=self.get_row_index(selected.key), animate=False)
        self.page_offset, self.group_total = offset, max(total or 0, offset + len(wanted))
        self._title()

    def _put(self, key: str, s: Socket, pos: int) -> bool:
        """Add or update one row; True when its place on the page changed."""
        self.by_key[key] = s
        new = self._cells(key, pos)
        old = self.shown.get(key)
        self.shown[key] = new
        if old is None:
            self.add_row(*(new[k] for k in self.widths), key=key)
            return True
        moved = False
        for col in self.widths:
            value = new[col]
            if old[col] != value:
                self.update_cell(key, col, value)
                moved = moved or col == "state"
        return moved

    def tick(self, elapsed_ms: int) -> None:
        """Count the timers down between refreshes (only timer cells that changed are redrawn)."""
        self.elapsed_ms = elapsed_ms
        for key, s in self.by_key.items():
            if s.timer:
                cell = timer_cell(s.aged(elapsed_ms), self.lang)
                if cell != self.shown[key]["timer"]:
                    self.shown[key]["timer"] = cell
                    self.update_cell(key, "timer", cell)

    def sort_choices(self) -> tuple[str, ...]:
        """Every sort of the engine (the sorted column is shown whatever the width)."""
        return SORTS

    def _resort(self) -> None:
        self._relayout()
        self._title()
        self.post_message(self.SortWanted(self.sort_column, self.sort_reverse))

    def _title(self) -> None:
        words = self.words()
        column = words[f"drill_sort_{self.sort_column}"]
        self.border_title = words["drill_title"].format(
            column=column, arrow=arrow(self.sort_reverse)
        )
        if not self.order and not self.group_total:
            parts = [words["drill_sorting" if self.busy else "drill_none"]]
        else:
            parts = [words["drill_range"].format(
                first=f"{self.page_offset + 1:,}", last=f"{self.page_offset + len(self.order):,}",
                total=f"{self.group_total:,}",
            )]  # fmt: skip
            parts += [self.age] if self.age else []
            parts += [words["drill_sorting"]] if self.busy else []
        self.border_subtitle = " · ".join(parts)

    def set_status(self, age: str, busy: bool) -> None:
        """How old the page is and whether a fetch runs (the subtitle)."""
        if (age, busy) != (self.age, self.busy):
            self.age, self.busy = age, busy
            self._title()

    # -- paging keys: the table's own keys at its edges ask for another page --------------------
    def action_page_down(self) -> None:
        """Next screen; past the page's last row, the next page."""
        if self.order and self.cursor_row >= len(self.order) - 1:
            if self.page_offset + len(self.order) < self.group_total:
                self.post_message(self.PageWanted(AFTER))
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        """Previous screen; above the page's first row, the previous page."""
        if self.cursor_row <= 0:
            if self.page_offset > 0:
                self.post_message(self.PageWanted(BEFORE))
            return
        super().action_page_up()

    def action_scroll_home(self) -> None:
        """The group's first page."""
        if self.page_offset > 0:
            self.post_message(self.PageWanted(FIRST))
        super().action_scroll_home()

    def action_scroll_end(self) -> None:
        """The group's last page."""
        if self.page_offset + len(self.order) < self.group_total:
            self.post_message(self.PageWanted(LAST))
        super().action_scroll_end()

    def selected(self) -> Socket | None:
        """The socket under the cursor."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # an empty or shrinking table has no cursor row
            return None
        return self.by_key.get(key or "")
