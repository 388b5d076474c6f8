"""Number formatting shared by the panes."""

from __future__ import annotations

from rich.text import Text


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


def count(n: int) -> str:
    """1234 -> ``1,234``; 123456 -> ``123.5k``; 12345678 -> ``12.3M``."""
    if n < 100_000:
        return f"{n:,}"
    if n < 10_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def rate(r: float | None) -> str:
    """A signed per-second change: ``+12/s``, ``-1.2k/s``, blank when unknown."""
    if r is None:
        return ""
    if abs(r) < 0.05:
        return "0/s"
    sign = "+" if r > 0 else "-"
    a = abs(r)
    if a >= 1000:
        return f"{sign}{a / 1000:.1f}k/s"
    if a >= 10:
        return f"{sign}{a:.0f}/s"
    return f"{sign}{a:.1f}/s"


def compact(n: int) -> str:
    """At most 5 characters: ``9999``, ``20.6k``, ``312k``, ``1.2M``."""
    if n < 10_000:
        return str(n)
    if n < 100_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"
