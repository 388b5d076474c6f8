"""Number formatting for the panes: defined once in the engine (twtop.text), re-exported here."""

from __future__ import annotations

from rich.text import Text

from twtop.text import compact, count, rate


class Plain:
    """A text cell shown exactly as written (never as markup) that sorts by its text.

    DataTable parses a ``str`` cell as Rich markup; names from the system (``[/x]``) are data.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __rich__(self) -> Text:
        return Text(self.text, end="")

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plain) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __lt__(self, other: Plain) -> bool:
        return self.text < other.text


__all__ = ["Plain", "compact", "count", "rate"]
