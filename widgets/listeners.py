"""The listeners table: what twtop.panes decided, drawn as plain-text cells (names are data)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets.data_table import CellDoesNotExist

from twtop.panes import ListenerLine
from widgets.cells import Cell, WordsTable

#: Columns the owner may take: its name is elided in the middle to fit, never its PID.
OWNER_WIDTH = 26

_COLUMNS = (("where", "col_listen", "left"), ("queue", "col_queue", "right"),
            ("syn", "col_syn", "right"), ("unaccepted", "col_unaccepted", "right"),
            ("owner", "col_owner", "left"))  # fmt: skip


class ListenerTable(WordsTable):
    """One row per listener; the cursor stays on its listener across refreshes."""

    COLUMNS = _COLUMNS

    DEFAULT_CSS = """
    ListenerTable { height: 1fr; border: round $primary; border-title-align: left; }
    """

    def __init__(self) -> None:
        super().__init__(cursor_type="row", id="listeners")

    def show(self, lines: list[ListenerLine], lang: str) -> None:
        """Replace the rows, keeping the cursor on the same listener when it is still there."""
        self._columns(lang)
        selected = self._selected_key()
        self.clear()
        for line in lines:
            x = line.listener
            key = line.where
            queue = Text(line.queue, justify="right", style="bold reverse" if line.full else "")
            self.add_row(
                Cell(key, line.where),
                Cell(x.queued, queue),
                Cell(x.syn_recv or 0, line.syn, "right"),
                Cell(x.unaccepted_close_wait or 0, line.unaccepted, "right"),
                Cell(line.owner, x.owner.fit(OWNER_WIDTH) if x.owner else line.owner),
                key=key,
            )
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def _selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            value = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # no cursor row
            return None
        return value
