"""The counters table: name, value, per-second rate and meaning (decided by twtop.panes)."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets.data_table import CellDoesNotExist

from twtop.panes import CounterLine
from widgets.cells import Cell, WordsTable

_COLUMNS = (("name", "col_counter", "left"), ("value", "col_value", "right"),
            ("rate", "col_rate", "right"), ("meaning", "col_meaning", "left"))  # fmt: skip


class CounterTable(WordsTable):
    """One row per counter, the ones that moved first; the cursor stays on its counter."""

    COLUMNS = _COLUMNS

    DEFAULT_CSS = """
    CounterTable { height: 1fr; border: round $primary; border-title-align: left; }
    """

    class Highlighted(Message):
        """The cursor moved to a counter."""

        def __init__(self, line: CounterLine | None) -> None:
            super().__init__()
            self.line = line

    def __init__(self) -> None:
        super().__init__(cursor_type="row", id="counters")
        self.lines: dict[str, CounterLine] = {}

    def show(self, lines: list[CounterLine], lang: str) -> None:
        """Replace the rows, keeping the cursor on the same counter."""
        self._columns(lang)
        selected = self.selected()
        self.clear()
        self.lines = {line.name: line for line in lines}
        for line in lines:
            style = "bold" if line.moved else ""
            self.add_row(
                Cell(line.name, Text(line.name, style=style)),
                Cell(line.value, f"{line.value:,}", "right"),
                Cell(line.rate or 0.0, Text(line.rate_text, justify="right", style=style)),
                Cell(line.meaning, line.meaning),
                key=line.name,
            )
        if selected is not None and selected.name in self.rows:
            self.move_cursor(row=self.get_row_index(selected.name), animate=False)

    def selected(self) -> CounterLine | None:
        """The counter under the cursor."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # no cursor row
            return None
        return self.lines.get(key or "")

    def on_data_table_row_highlighted(self) -> None:
        """Say which counter is under the cursor."""
        self.post_message(self.Highlighted(self.selected()))
