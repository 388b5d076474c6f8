"""``s`` and ``r`` on a table: one piece for every table that cycles its sort (peers, sockets)."""

from __future__ import annotations

from collections.abc import Sequence


def arrow(reverse: bool) -> str:
    """The header's mark of the sort direction."""
    return "▼" if reverse else "▲"


class SortCycle:
    """Cycles ``sort_column`` through ``sort_choices()`` and flips ``sort_reverse``; the table
    says what "re-sort" means (``_resort``: sort its rows, or ask the engine for a new page)."""

    sort_column: str
    sort_reverse: bool

    def sort_choices(self) -> Sequence[str]:
        """The columns ``s`` cycles through, in order."""
        raise NotImplementedError

    def default_reverse(self, column: str) -> bool:
        """The direction a column starts in when ``s`` reaches it."""
        return False

    def _resort(self) -> None:
        raise NotImplementedError

    def cycle_sort(self) -> str:
        """Sort by the next column; returns its key."""
        order = list(self.sort_choices())
        i = order.index(self.sort_column) if self.sort_column in order else -1
        self.sort_column = order[(i + 1) % len(order)]
        self.sort_reverse = self.default_reverse(self.sort_column)
        self._resort()
        return self.sort_column

    def reverse_sort(self) -> None:
        """Flip the sort order."""
        self.sort_reverse = not self.sort_reverse
        self._resort()
