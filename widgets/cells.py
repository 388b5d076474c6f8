"""Table cells that sort on a raw value and render as plain Text (names are data, never markup)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.widgets import DataTable

from twtop.knowledge_views import VIEW_WORDS


class Cell:
    """A DataTable cell: ``raw`` orders it, ``text`` is what is drawn.

    DataTable parses ``str`` cells as console markup, so every name from the system (a process,
    a namespace, an address) goes into a table as a Cell or a Text, never as a str.
    """

    __slots__ = ("raw", "text")

    def __init__(self, raw: Any, text: str | Text, justify: str = "left") -> None:
        self.raw = raw
        self.text = text if isinstance(text, Text) else Text(text, justify=justify)  # type: ignore[arg-type]

    def __rich__(self) -> Text:
        return self.text

    def __lt__(self, other: Cell) -> bool:
        return bool(self.raw < other.raw)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Cell)
            and self.raw == other.raw
            and self.text.plain == other.text.plain
            and self.text.style == other.text.style
        )

    def __hash__(self) -> int:
        return hash((self.raw, self.text.plain))

    def __repr__(self) -> str:
        return f"Cell({self.raw!r}, {self.text.plain!r})"


class WordsTable(DataTable[object]):
    """A table whose column headers come from the knowledge tables, rebuilt when the language
    changes: ``COLUMNS`` is (key, word, justify) per column."""

    COLUMNS: ClassVar[tuple[tuple[str, str, str], ...]] = ()

    _lang: str | None = None

    def _columns(self, lang: str) -> None:
        if self._lang == lang:
            return
        self.clear(columns=True)
        words = VIEW_WORDS[lang]
        for key, label, justify in self.COLUMNS:
            self.add_column(Text(words[label], justify=justify), key=key)  # type: ignore[arg-type]
        self._lang = lang
