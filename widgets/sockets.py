"""The sockets of one peer group: a keyed live table, diffed and re-sorted like the peer table."""

from __future__ import annotations

from rich.console import JustifyMethod
from rich.text import Text
from textual.widgets import DataTable

from twtop.identity import fit
from twtop.knowledge_ui import UI_WORDS
from twtop.model import Socket
from twtop.states import ATTENTION_RANK
from twtop.text import ms as fmt_ms
from widgets.cells import Cell
from widgets.format import compact

#: (key, label, minimum width) with cell padding 0. At 80 columns (77 inside the border and
#: scrollbar) RQ and WQ give way so PROCESS is on screen without scrolling; they come back from
#: 90 columns. LOCAL/REMOTE are elided in the middle, PROCESS never loses its PID.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("state", "STATE", 12),
    ("local", "LOCAL", 17),
    ("remote", "REMOTE", 17),
    ("timer", "TIMER", 11),
    ("rq", "RQ", 5),
    ("wq", "WQ", 5),
    ("process", " PROCESS", 20),
)
_QUEUES = ("rq", "wq")
#: Widest LOCAL/REMOTE worth giving room to: ``[2001:db8:abcd::1]:33123`` and a gap.
ENDPOINT_MAX = 26
#: Border (2) and vertical scrollbar (1).
CHROME = 3


def endpoint_fit(ep: str, width: int) -> str:
    """``addr:port`` in ``width`` columns: the port stays whole and the address loses its
    middle, so ``[2001:db8:abcd::1]:80`` and ``…::2]:80`` stay distinguishable."""
    addr, sep, port = ep.rpartition(":")
    if len(ep) <= width or not sep or not port.isdigit():
        return fit(ep, width)
    return fit(addr, max(1, width - len(port) - 1)) + ":" + port


def layout(width: int) -> dict[str, int]:
    """Column widths for a table ``width`` columns wide (see COLUMNS)."""
    inside = width - CHROME
    base = {k: w for k, _l, w in COLUMNS}
    if inside < sum(base.values()):
        for k in _QUEUES:
            del base[k]
    spare = max(0, inside - sum(base.values()))
    grow = min(spare // 2, ENDPOINT_MAX - base["local"])
    base["local"] += grow
    base["remote"] += grow
    base["process"] += max(0, spare - 2 * grow)
    return base


#: Columns ``s`` cycles through; ``state`` is "needs attention first".
SORTABLE = ("state", "timer", "rq", "wq", "remote", "local")
#: Short timer kinds: the state column already says TIME_WAIT.
_KIND = {"on": "rto ", "keepalive": "ka ", "timewait": "", "persist": "zwp "}
#: Sockets listed at most in a drill-down (the engine decodes no more than this).
MAX_SOCKETS = 500


def timer_cell(sock: Socket) -> Cell:
    """``42.1s`` (a TIME_WAIT), ``rto 200ms/3`` (retransmits after a slash), ``-`` when none."""
    if not sock.timer:
        return Cell(1 << 62, Text("-", style="dim"))
    extra = f"/{sock.retrans}" if sock.retrans else ""
    kind = _KIND.get(sock.timer_name, sock.timer_name + " ")
    return Cell(sock.expires_ms, f"{kind}{fmt_ms(sock.expires_ms).replace(' ', '')}{extra}")


def cells(s: Socket, widths: dict[str, int] | None = None) -> dict[str, Cell]:
    """The cells of one socket (timer as of ``s``: age it first with ``Socket.aged``); the state
    sorts by the engine's "needs attention first" order. Texts fit their column (``widths``)."""
    w = widths or layout(80)
    pw = w["process"] - 1
    owner = s.owner.fit(pw) if s.owner else ("orphan" if s.orphan else "-")
    where = (s.remote, s.rport, s.local, s.lport)
    return {
        "state": Cell((ATTENTION_RANK.get(s.state, 99), *where), s.state.name),
        "local": Cell((s.local, s.lport), endpoint_fit(s.local_ep, w["local"] - 1)),
        "remote": Cell((s.remote, s.rport), endpoint_fit(s.remote_ep, w["remote"] - 1)),
        "timer": timer_cell(s),
        "rq": Cell(s.rqueue, compact(s.rqueue), "right"),
        "wq": Cell(s.wqueue, compact(s.wqueue), "right"),
        "process": Cell(owner, " " + owner),
    }


class SocketTable(DataTable[object]):
    """Sockets keyed by cookie: the cursor stays on its socket, only changed cells are redrawn,
    and the table re-sorts only when a value it sorts on changed."""

    DEFAULT_CSS = """
    SocketTable { height: 1fr; border: round $primary; border-title-align: left;
                  scrollbar-size-vertical: 1; }
    """

    def __init__(self) -> None:
        super().__init__(cursor_type="row", id="sockets", cell_padding=0)
        self.by_key: dict[str, Socket] = {}
        self.shown: dict[str, dict[str, Cell]] = {}
        self.sort_column = "state"
        self.sort_reverse = False
        self.elapsed_ms = 0
        self.widths = layout(80)

    def on_mount(self) -> None:
        """Create the columns."""
        self._rebuild()

    def on_resize(self) -> None:
        """Lay the columns out again when the width changes."""
        widths = layout(self.size.width)
        if widths != self.widths:
            self.widths = widths
            self._rebuild()

    def _rebuild(self) -> None:
        """Columns for the current width; the rows are put back, the cursor stays."""
        words = UI_WORDS[str(getattr(self.app, "lang", "en"))]
        labels = {k: words.get(f"sock_col_{k}", label) for k, label, _w in COLUMNS}
        if self.sort_column not in self.widths:
            self.sort_column = "state"
        selected = self.selected()
        self.clear(columns=True)
        for key, width in self.widths.items():
            justify: JustifyMethod = "right" if key in _QUEUES else "left"
            self.add_column(Text(labels[key], justify=justify), key=key, width=width)
        for key, s in self.by_key.items():
            new = cells(s.aged(self.elapsed_ms), self.widths)
            self.shown[key] = new
            self.add_row(*(new[k] for k in self.widths), key=key)
        self.apply_sort()
        if selected is not None and selected.key in self.by_key:
            self.move_cursor(row=self.get_row_index(selected.key), animate=False)
        if self.by_key:  # the title says sockets are listed: not before the first fetch
            self._title()

    def update_sockets(self, socks: list[Socket], total: int | None = None,
                       elapsed_ms: int = 0) -> None:  # fmt: skip
        """Apply a new list as a diff; ``total`` is the group's size when more exist."""
        self.elapsed_ms = elapsed_ms
        wanted = {s.key: s for s in socks[:MAX_SOCKETS]}
        selected = self.selected()
        changed = False
        with self.app.batch_update():
            for key in list(self.by_key):
                if key not in wanted:
                    self.remove_row(key)
                    del self.by_key[key], self.shown[key]
                    changed = True
            for key, s in wanted.items():
                changed |= self._put(key, s)
            if changed:
                self.apply_sort()
                if selected is not None and selected.key in self.by_key:
                    self.move_cursor(row=self.get_row_index(selected.key), animate=False)
        total = max(total or 0, len(socks))
        more = total - len(wanted)
        words = UI_WORDS[str(getattr(self.app, "lang", "en"))]
        self.border_subtitle = (
            words["sock_shown"].format(n=f"{len(wanted):,}", total=f"{total:,}")
            if more > 0
            else words["sock_count"].format(n=f"{len(wanted):,}")
        )
        self._title()

    def _put(self, key: str, s: Socket) -> bool:
        """Add or update one row; True when a value the table sorts on changed."""
        new = cells(s.aged(self.elapsed_ms), self.widths)
        old = self.shown.get(key)
        self.by_key[key] = s
        self.shown[key] = new
        if old is None:
            self.add_row(*(new[k] for k in self.widths), key=key)
            return True
        moved = False
        for col in self.widths:
            value = new[col]
            if old[col] != value:
                self.update_cell(key, col, value)
                moved = moved or col == self.sort_column
        return moved

    def tick(self, elapsed_ms: int) -> None:
        """Count the timers down between refreshes (only timer cells that changed are redrawn)."""
        self.elapsed_ms = elapsed_ms
        for key, s in self.by_key.items():
            if s.timer:
                cell = timer_cell(s.aged(elapsed_ms))
                if cell != self.shown[key]["timer"]:
                    self.shown[key]["timer"] = cell
                    self.update_cell(key, "timer", cell)

    def apply_sort(self) -> None:
        """Sort on raw values."""
        if self.row_count:
            self.sort(self.sort_column, reverse=self.sort_reverse)

    def cycle_sort(self) -> str:
        """Sort by the next column (queues largest first); returns its key."""
        order = [k for k in SORTABLE if k in self.widths]
        i = order.index(self.sort_column) if self.sort_column in order else -1
        self.sort_column = order[(i + 1) % len(order)]
        self.sort_reverse = self.sort_column in _QUEUES
        self._resort()
        return self.sort_column

    def reverse_sort(self) -> None:
        """Flip the sort order."""
        self.sort_reverse = not self.sort_reverse
        self._resort()

    def _resort(self) -> None:
        selected = self.selected()
        self.apply_sort()
        if selected is not None:
            self.move_cursor(row=self.get_row_index(selected.key), animate=False)
        self._title()

    def _title(self) -> None:
        arrow = "▼" if self.sort_reverse else "▲"
        words = UI_WORDS[str(getattr(self.app, "lang", "en"))]
        name = words.get(f"sock_sort_{self.sort_column}", self.sort_column)
        self.border_title = words["sock_title"].format(column=name, arrow=arrow)

    def selected(self) -> Socket | None:
        """The socket under the cursor."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # an empty or shrinking table has no cursor row
            return None
        return self.by_key.get(key or "")
