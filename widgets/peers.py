"""The peer table: one row per peer group, per-state columns, kept as a diff across polls."""

from __future__ import annotations

from rich.console import JustifyMethod
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from twtop.model import GROUP_TITLES, PeerRow, Snapshot
from twtop.states import TcpState
from widgets.cells import Cell
from widgets.format import compact

#: Rows drawn at most; the engine keeps the full population.
MAX_ROWS = 200

#: (key, label, width). Cell padding is 0: numbers are right-aligned in width + 1 columns, so
#: the nine numeric columns and a 16-wide peer fit an 80-column terminal with border and scrollbar.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("peer", "PEER", 16),
    ("total", "TOTAL", 6),
    ("estab", "ESTAB", 6),
    ("time_wait", "TIME_W", 7),
    ("close_wait", "CLOSE_W", 8),
    ("fin_wait2", "FIN_W2", 7),
    ("other", "OTHER", 6),
    ("inbound", "IN", 6),
    ("outbound", "OUT", 6),
    ("process", "  PROCESS", 29),
)
#: Columns ``s`` cycles through, in order.
SORTABLE = ("total", "estab", "time_wait", "close_wait", "fin_wait2", "other", "inbound",
            "outbound", "peer")  # fmt: skip
_BY_STATE = {
    "estab": TcpState.ESTABLISHED,
    "time_wait": TcpState.TIME_WAIT,
    "close_wait": TcpState.CLOSE_WAIT,
    "fin_wait2": TcpState.FIN_WAIT2,
}


class Num(int):
    """An int cell: sorts by its value, renders formatted and right-aligned."""

    def __rich__(self) -> Text:
        return Text(compact(int(self)) if self else "·", justify="right")


def elide(text: str, width: int) -> str:
    """Cut the middle, not the end: two addresses that share a prefix stay distinguishable."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def cells(row: PeerRow) -> dict[str, object]:
    """The raw cell values of a row, by column key (names as Text: data, never markup)."""
    known = sum(row.count(s) for s in _BY_STATE.values())
    return {
        "peer": Cell(peer_order(row), elide(row.peer, 15)),
        "total": Num(row.total),
        "estab": Num(row.count(TcpState.ESTABLISHED)),
        "time_wait": Num(row.count(TcpState.TIME_WAIT)),
        "close_wait": Num(row.count(TcpState.CLOSE_WAIT)),
        "fin_wait2": Num(row.count(TcpState.FIN_WAIT2)),
        "other": Num(row.total - known),
        "inbound": Num(row.inbound),
        "outbound": Num(row.outbound),
        "process": Cell(row.processes, "  " + ", ".join(row.processes)),
    }


def peer_order(row: PeerRow) -> tuple[object, ...]:
    """What the peer column sorts on: the engine's raw key, so 9.x sorts before 10.x (rows
    without a key, built by hand, sort after, by label)."""
    return (0, row.key) if row.key is not None else (1, row.peer)


class PeerTable(DataTable[object]):
    """Peers of the current snapshot; the selected row survives refreshes and re-sorts."""

    DEFAULT_CSS = """
    PeerTable { height: 1fr; border: round $primary; border-title-align: left;
                scrollbar-size-vertical: 1; }
    """

    class PeerHighlighted(Message):
        """The cursor moved to a peer."""

        def __init__(self, row: PeerRow | None) -> None:
            super().__init__()
            self.row = row

    class PeerChosen(Message):
        """Enter on a peer: drill down."""

        def __init__(self, row: PeerRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, id="peers", cell_padding=0)
        self.rows_by_key: dict[str, PeerRow] = {}
        self.sort_column = "total"
        self.sort_reverse = True
        self.group = "ip"

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label, width in COLUMNS:
            justify: JustifyMethod = "left" if key in ("peer", "process") else "right"
            self.add_column(Text(label, justify=justify), key=key, width=width)

    def update_snapshot(self, snap: Snapshot) -> None:
        """Apply a snapshot as a diff: remove vanished rows, update changed cells, add new ones."""
        self.group = snap.group
        selected = self.selected_key()
        wanted = {r.peer: r for r in snap.peers[:MAX_ROWS]}
        changed = False
        with self.app.batch_update():
            for key in list(self.rows_by_key):
                if key not in wanted:
                    self.remove_row(key)
                    del self.rows_by_key[key]
                    changed = True
            for key, row in wanted.items():
                old = self.rows_by_key.get(key)
                new_cells = cells(row)
                if old is None:
                    self.add_row(*(new_cells[k] for k, _l, _w in COLUMNS), key=key)
                    changed = True
                elif old != row:
                    old_cells = cells(old)
                    for col, value in new_cells.items():
                        if old_cells[col] != value or type(old_cells[col]) is not type(value):
                            self.update_cell(key, col, value)
                            changed = changed or col == self.sort_column
                self.rows_by_key[key] = row
            if changed:
                self.apply_sort()
            if selected is not None and selected in self.rows_by_key:
                self.move_cursor(row=self.get_row_index(selected), animate=False)
        hidden = snap.peers_total - len(wanted)
        title = GROUP_TITLES.get(snap.group, snap.group)
        arrow = "▼" if self.sort_reverse else "▲"
        self.border_title = f"Peers by {title} — sorted by {self.sort_column} {arrow}"
        self.border_subtitle = f"+{hidden:,} more" if hidden > 0 else f"{len(wanted)} groups"

    def apply_sort(self) -> None:
        """Sort on raw values (peer names as text, counts as numbers)."""
        if self.row_count:
            self.sort(self.sort_column, reverse=self.sort_reverse)

    def cycle_sort(self) -> str:
        """Next sort column; returns its key."""
        i = SORTABLE.index(self.sort_column)
        self.sort_column = SORTABLE[(i + 1) % len(SORTABLE)]
        self.sort_reverse = self.sort_column != "peer"
        self._resort()
        return self.sort_column

    def reverse_sort(self) -> None:
        """Flip the sort order."""
        self.sort_reverse = not self.sort_reverse
        self._resort()

    def _resort(self) -> None:
        selected = self.selected_key()
        self.apply_sort()
        if selected is not None:
            self.move_cursor(row=self.get_row_index(selected), animate=False)
        arrow = "▼" if self.sort_reverse else "▲"
        title = GROUP_TITLES.get(self.group, self.group)
        self.border_title = f"Peers by {title} — sorted by {self.sort_column} {arrow}"

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - an empty or shrinking table has no cursor row
            return None
        return key

    def selected_row(self) -> PeerRow | None:
        """The PeerRow under the cursor."""
        key = self.selected_key()
        return self.rows_by_key.get(key) if key is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Tell the app which peer is selected."""
        event.stop()
        key = event.row_key.value
        self.post_message(self.PeerHighlighted(self.rows_by_key.get(key) if key else None))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter: drill down into the peer."""
        event.stop()
        row = self.rows_by_key.get(event.row_key.value or "")
        if row is not None:
            self.post_message(self.PeerChosen(row))
