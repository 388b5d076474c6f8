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
            ("tw_in", "col_tw_in", "right"), ("owner", "col_owner", "left"))  # fmt: skip
#: Columns given up, in this order, when the owner would get less than OWNER_MIN: the ones with
#: nothing to say (every value 0) first, then the others; address, queue and owner always stay.
_OPTIONAL = ("unaccepted", "syn", "tw_in")


def _values(line: ListenerLine, key: str) -> str:
    return str(getattr(line, key))


def _zero(lines: list[ListenerLine], key: str) -> bool:
    raw = {"syn": "syn_recv", "unaccepted": "unaccepted_close_wait", "tw_in": "tw_on_port"}[key]
    return all(not getattr(x.listener, raw) for x in lines)


class ListenerTable(WordsTable):
    """One row per listener; the cursor stays on its listener across refreshes. Narrow, it
    gives up the columns with nothing to say first, so the owner keeps its PID on screen."""

    COLUMNS = _COLUMNS

    DEFAULT_CSS = """
    ListenerTable { height: 1fr; border: round $primary; border-title-align: left; }
    """

    def __init__(self) -> None:
        super().__init__(cursor_type="row", id="listeners")

    _last: tuple[list[ListenerLine], str] | None = None
    _shown: tuple[str, ...] = ()

    def _used(self, lines: list[ListenerLine], lang: str, keys: tuple[str, ...]) -> int:
        """Columns the non-owner columns ``keys`` take (as wide as their widest cell/header)."""
        words, pad = VIEW_WORDS[lang], 2 * self.cell_padding
        scrollbar = 1 if len(lines) + 1 > self.size.height else 0  # rows and the header
        used = scrollbar + pad  # the owner's own padding
        for key, label, _j in _COLUMNS[:-1]:
            if key in keys:
                used += pad + max([cols(words[label]), *(cols(_values(x, key)) for x in lines)])
        return used

    def fit(self, lines: list[ListenerLine], lang: str) -> tuple[tuple[str, ...], int]:
        """(the columns to show, the owner's width): the owner is fitted to what the others
        leave (name elided, PID whole) instead of running off the right edge; below OWNER_MIN,
        optional columns are given up (_OPTIONAL), the all-zero ones first."""
        width = self.size.width or self.app.size.width - 2  # before the first layout: border
        keys = tuple(k for k, _l, _j in _COLUMNS)
        order = sorted(_OPTIONAL, key=lambda k: not _zero(lines, k))  # stable: zero ones first
        for drop in (None, *order):
            if drop is not None:
                keys = tuple(k for k in keys if k != drop)
            room = width - self._used(lines, lang, keys)
            if room >= OWNER_MIN:
                break
        return keys, max(OWNER_MIN, min(OWNER_WIDTH, room))

    def owner_width(self, lines: list[ListenerLine], lang: str) -> int:
        """The owner's width with the columns ``fit`` keeps."""
        return self.fit(lines, lang)[1]

    def _columns_for(self, lang: str, keys: tuple[str, ...]) -> None:
        if self._lang == lang and self._shown == keys:
            return
        self.clear(columns=True)
        words = VIEW_WORDS[lang]
        for key, label, justify in _COLUMNS:
            if key in keys:
                self.add_column(Text(words[label], justify=justify), key=key)  # type: ignore[arg-type]
        self._lang, self._shown = lang, keys

    def on_resize(self) -> None:
        """Fit the owners to the new width."""
        if self._last is not None:
            self.show(*self._last)

    def show(self, lines: list[ListenerLine], lang: str) -> None:
        """Replace the rows, keeping the cursor on the same listener when it is still there."""
        self._last = (lines, lang)
        keys, owner_w = self.fit(lines, lang)
        self._columns_for(lang, keys)
        selected = self._selected_key()
        self.clear()
        for line in lines:
            x = line.listener
            queue = Text(line.queue, justify="right", style="bold reverse" if line.full else "")
            cells = {
                "where": Cell(line.where, line.where),
                "queue": Cell(x.queued, queue),
                "syn": Cell(x.syn_recv or 0, line.syn, "right"),
                "unaccepted": Cell(x.unaccepted_close_wait or 0, line.unaccepted, "right"),
                "tw_in": Cell(x.tw_on_port or 0, line.tw_in, "right"),
                "owner": Cell(line.owner, x.owner.fit(owner_w) if x.owner else line.owner),
            }
            self.add_row(*(cells[k] for k in keys), key=line.where)
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
