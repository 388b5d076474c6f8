"""The listeners table: what twtop.panes decided, drawn as plain-text cells (names are data)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets.data_table import CellDoesNotExist

from twtop.knowledge_views import VIEW_WORDS
from twtop.panes import ListenerLine
from twtop.text import cols
from widgets.cells import Cell, WordsTable

#: Columns the owner may take: its name is elided in the middle to fit, never its PID.
OWNER_WIDTH = 26
#: ...and at least (``leg…py[4194304]``), whatever the other columns take.
OWNER_MIN = 14

_COLUMNS = (("where", "col_listen", "left"), ("queue", "col_queue", "right"),
            ("syn", "col_syn", "right"), ("unaccepted", "col_unaccepted", "right"),
            ("owner", "col_owner", "left"))  # fmt: skip


def _texts(lines: list[ListenerLine]) -> tuple[list[str], ...]:
    """The texts of the columns before OWNER, column by column."""
    return ([x.where for x in lines], [x.queue for x in lines], [x.syn for x in lines],
            [x.unaccepted for x in lines])  # fmt: skip


class ListenerTable(WordsTable):
    """One row per listener; the cursor stays on its listener across refreshes."""

    COLUMNS = _COLUMNS

    DEFAULT_CSS = """
    ListenerTable { height: 1fr; border: round $primary; border-title-align: left; }
    """

    def __init__(self) -> None:
        super().__init__(cursor_type="row", id="listeners")

    _last: tuple[list[ListenerLine], str] | None = None

    def owner_width(self, lines: list[ListenerLine], lang: str) -> int:
        """What the OWNER column has left of the table's width once the other columns (as wide
        as their widest cell or header) took theirs: the owner is fitted to it (name elided,
        PID whole) instead of running off the right edge (``legacy-http.py[113`` at 80)."""
        width = self.size.width or self.app.size.width - 2  # before the first layout: border
        words = VIEW_WORDS[lang]
        pad = 2 * self.cell_padding
        scrollbar = 1 if len(lines) + 1 > self.size.height else 0  # rows and the header
        used = scrollbar + pad  # the owner's own padding
        for (_key, label, _j), values in zip(_COLUMNS[:-1], _texts(lines), strict=True):
            used += pad + max([cols(words[label]), *(cols(v) for v in values)])
        return max(OWNER_MIN, min(OWNER_WIDTH, width - used))

    def on_resize(self) -> None:
        """Fit the owners to the new width."""
        if self._last is not None:
            self.show(*self._last)

    def show(self, lines: list[ListenerLine], lang: str) -> None:
        """Replace the rows, keeping the cursor on the same listener when it is still there."""
        self._last = (lines, lang)
        self._columns(lang)
        owner_w = self.owner_width(lines, lang)
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
                Cell(line.owner, x.owner.fit(owner_w) if x.owner else line.owner),
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
