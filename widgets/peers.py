"""The peer table: one row per peer group, per-state columns, kept as a diff across polls."""

from __future__ import annotations

from rich.console import JustifyMethod
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from twtop.identity import fit
from twtop.knowledge import UI_LABELS
from twtop.knowledge_ui import UI_WORDS
from twtop.model import PeerRow, Snapshot
from twtop.states import TcpState
from twtop.text import cols
from widgets.cells import Cell
from widgets.format import compact
from widgets.sockets import endpoint_fit
from widgets.sorting import SortCycle, arrow

#: Rows drawn at most; the engine keeps the full population.
MAX_ROWS = 200

#: (key, label, width) of the count columns. Cell padding is 0: numbers are right-aligned, the
#: label's width + 1 leaves a one-column gap.
COUNTS: tuple[tuple[str, str, int], ...] = (
    ("total", "TOTAL", 6),
    ("estab", "ESTAB", 6),
    ("time_wait", "TIME_W", 7),
    ("close_wait", "CLOSE_W", 8),
    ("fin_wait2", "FIN_W2", 7),
    ("other", "OTHER", 6),
)
#: IN and OUT: shown only when PEER and PROCESS still get their minimum beside them.
DIRECTIONS: tuple[tuple[str, str, int], ...] = (("inbound", "IN", 6), ("outbound", "OUT", 6))
#: The narrowest PEER (``2001:db8:abcd::1`` whole) and PROCESS (``orders-api.py[4242]`` whole,
#: after a one-column gap); at 80 columns the table has 77 inside its border and scrollbar.
PEER_MIN, PEER_MAX, PROCESS_MIN = 17, 48, 20
#: Count columns kept when PEER and PROCESS would not fit beside all of them.
NARROW_COUNTS = ("total", "estab", "time_wait", "close_wait")
#: PEER (at most; ``255.255.255.255`` whole after its gap) and PROCESS (at least;
#: ``rep…py[25658]``: a name's start and end and the whole PID) in a narrow table.
PEER_NARROW, PROCESS_NARROW = 16, 14
#: PROCESS width that IN/OUT never squeeze below (a long service name and a 7-digit PID).
PROCESS_WIDE = 32
#: Border (2) and vertical scrollbar (1).
CHROME = 3


def layout(width: int) -> tuple[tuple[str, int], ...]:
    """(key, width) of every column for a table ``width`` columns wide: PEER and PROCESS get
    their minimum first, IN/OUT only when PROCESS still gets PROCESS_WIDE beside them; of the
    rest a quarter goes to PEER (up to PEER_MAX), the others to PROCESS. Too narrow for that
    (60 columns), the counts keep TOTAL and the key states (FIN_W2 and OTHER stay in TOTAL and
    the state cards) and PEER and PROCESS share the rest: who, where and what stay on screen."""
    inside = width - CHROME
    shown = COUNTS
    counts = sum(w for _k, _l, w in shown)
    narrow = inside - counts < PEER_NARROW + PROCESS_NARROW
    if narrow:
        shown = tuple(c for c in COUNTS if c[0] in NARROW_COUNTS)
        counts = sum(w for _k, _l, w in shown)
    dirs = sum(w for _k, _l, w in DIRECTIONS)
    wide = inside >= counts + dirs + PEER_MIN + PROCESS_WIDE
    rest = inside - counts - (dirs if wide else 0)
    spare = max(0, rest - PEER_MIN - PROCESS_MIN)
    peer = min(PEER_MAX, PEER_MIN + spare // 4)
    process = max(PROCESS_MIN, rest - peer)
    if narrow and rest < PEER_MIN + PROCESS_MIN:  # an IPv4 address whole, the rest to PROCESS
        peer = max(PEER_NARROW - 4, min(PEER_NARROW, rest - PROCESS_NARROW))
        process = max(PROCESS_NARROW, rest - peer)
    cols = [("peer", peer), *((k, w) for k, _l, w in shown)]
    if wide:
        cols += [(k, w) for k, _l, w in DIRECTIONS]
    return (*cols, ("process", process))


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
    return fit(text, width) if width > 0 else ""


def peer_text(row: PeerRow, width: int) -> str:
    """The group's label in ``width`` columns: an ``addr:port`` keeps its port whole, a
    ``name[pid]`` its PID, an address its end."""
    if row.key is not None and row.key.group == "ipport":
        return endpoint_fit(row.peer, width)
    return elide(row.peer, width)


def processes_text(processes: tuple[str, ...], width: int) -> str:
    """``name[pid]`` of the group's processes, as many whole as fit in ``width`` columns, then
    ``+N`` for the rest; the first is always there, elided mid-name if needed, PID whole."""
    if not processes:
        return ""
    shown = [processes[0]]
    for i, name in enumerate(processes[1:], start=1):
        more = f" +{len(processes) - i - 1}" if i + 1 < len(processes) else ""
        if cols(", ".join([*shown, name]) + more) > width:
            break
        shown.append(name)
    rest = len(processes) - len(shown)
    more = f" +{rest}" if rest else ""
    if len(shown) == 1:
        return fit(shown[0], width - len(more)) + more
    return ", ".join(shown) + more


def cells(row: PeerRow, widths: dict[str, int] | None = None) -> dict[str, object]:
    """The raw cell values of a row, by column key (names as Text: data, never markup), each
    text fitted to its column's width (the one-column gap before PROCESS included)."""
    widths = widths or dict(layout(80))
    known = sum(row.count(s) for s in _BY_STATE.values())
    return {
        "peer": Cell(peer_order(row), peer_text(row, widths["peer"] - 1)),
        "total": Num(row.total),
        "estab": Num(row.count(TcpState.ESTABLISHED)),
        "time_wait": Num(row.count(TcpState.TIME_WAIT)),
        "close_wait": Num(row.count(TcpState.CLOSE_WAIT)),
        "fin_wait2": Num(row.count(TcpState.FIN_WAIT2)),
        "other": Num(row.total - known),
        "inbound": Num(row.inbound),
        "outbound": Num(row.outbound),
        "process": Cell(row.processes, " " + processes_text(row.processes, widths["process"] - 1)),
    }


def peer_order(row: PeerRow) -> tuple[object, ...]:
    """What the peer column sorts on: the engine's raw key, so 9.x sorts before 10.x (rows
    without a key, built by hand, sort after, by label)."""
    return (0, row.key) if row.key is not None else (1, row.peer)


class PeerTable(SortCycle, DataTable[object]):
    """Peers of the current snapshot; the selected row survives refreshes and re-sorts."""

    DEFAULT_CSS = """
    PeerTable { height: 1fr; border: round $primary; border-title-align: left;
                scrollbar-size-vertical: 1; scrollbar-size-horizontal: 0; }
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
        self.widths: dict[str, int] = dict(layout(80))
        self._header: tuple[str, str] | None = None  # (group, lang) the columns were made for

    @property
    def lang(self) -> str:
        """The app's language (en when the app has none)."""
        return str(getattr(self.app, "lang", "en"))

    def on_mount(self) -> None:
        """Create the columns."""
        self._rebuild()

    def on_resize(self) -> None:
        """Lay the columns out again when the width changes which columns fit."""
        widths = dict(layout(self.size.width))
        if widths != self.widths:
            self.widths = widths
            self._rebuild()

    def _rebuild(self) -> None:
        """Columns for the current width, group and language; the rows are put back."""
        words = UI_LABELS[self.lang]
        labels = {k: UI_WORDS[self.lang][f"col_{k}"] for k, _l, _w in (*COUNTS, *DIRECTIONS)}
        labels["peer"] = words[f"head_{self.group}"]
        labels["process"] = " " + words["head_process"]
        if self.sort_column not in self.widths:
            self.sort_column = "total"
        selected = self.selected_key()
        self.clear(columns=True)
        for key, width in self.widths.items():
            justify: JustifyMethod = "left" if key in ("peer", "process") else "right"
            self.add_column(Text(labels[key], justify=justify), key=key, width=width)
        for key, row in self.rows_by_key.items():
            new_cells = cells(row, self.widths)
            self.add_row(*(new_cells[k] for k in self.widths), key=key)
        self._header = (self.group, self.lang)
        self.apply_sort()
        if selected is not None and selected in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def update_snapshot(self, snap: Snapshot) -> None:
        """Apply a snapshot as a diff: remove vanished rows, update changed cells, add new ones."""
        self.group = snap.group
        words = UI_LABELS[self.lang]
        if self._header != (self.group, self.lang):
            self.rows_by_key.clear()  # rows of another grouping: start over
            self._rebuild()
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
                new_cells = cells(row, self.widths)
                if old is None:
                    self.add_row(*(new_cells[k] for k in self.widths), key=key)
                    changed = True
                elif old != row:
                    old_cells = cells(old, self.widths)
                    for col in self.widths:
                        value = new_cells[col]
                        if old_cells[col] != value or type(old_cells[col]) is not type(value):
                            self.update_cell(key, col, value)
                            changed = changed or col == self.sort_column
                self.rows_by_key[key] = row
            if changed:
                self.apply_sort()
            if selected is not None and selected in self.rows_by_key:
                self.move_cursor(row=self.get_row_index(selected), animate=False)
        hidden = snap.peers_total - len(wanted)
        self._title()
        if hidden > 0:
            self.border_subtitle = words["more"].format(n=f"{hidden:,}")
        else:
            self.border_subtitle = words["groups_1" if len(wanted) == 1 else "groups_n"].format(
                n=f"{len(wanted):,}"
            )

    def _title(self) -> None:
        words = UI_LABELS[self.lang]
        self.border_title = words["peers_title"].format(
            by=words[f"group_{self.group}"],
            column=UI_WORDS[self.lang].get(f"sort_{self.sort_column}", self.sort_column),
            arrow=arrow(self.sort_reverse),
        )

    def apply_sort(self) -> None:
        """Sort on raw values (peer names as text, counts as numbers)."""
        if self.row_count:
            self.sort(self.sort_column, reverse=self.sort_reverse)

    def sort_choices(self) -> list[str]:
        """The sortable columns on screen."""
        return [k for k in SORTABLE if k in self.widths]

    def default_reverse(self, column: str) -> bool:
        """Counts largest first, peers in address order."""
        return column != "peer"

    def _resort(self) -> None:
        selected = self.selected_key()
        self.apply_sort()
        if selected is not None:
            self.move_cursor(row=self.get_row_index(selected), animate=False)
        self._title()

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # an empty or shrinking table has no cursor row
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
