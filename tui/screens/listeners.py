"""The listeners view: each listener's accept queue against its backlog, SYN_RECV,
not-yet-accepted CLOSE_WAITs and owner; the namespace's ListenOverflows/ListenDrops rates."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from tui.screens.view import SnapshotView
from twtop.knowledge_views import VIEW_WORDS
from twtop.model import Snapshot
from twtop.panes import listen_rates, listener_lines, unknown_owners
from widgets.listeners import ListenerTable


class ListenersScreen(SnapshotView):
    """Follows the snapshot on display (frozen while paused)."""

    BINDINGS = [Binding("escape,l", "app.pop_screen", "Back", id="back")]
    """Esc (or l again) goes back."""

    DEFAULT_CSS = """
    ListenersScreen #listeners-rates { height: auto; padding: 0 1; }
    ListenersScreen #listeners-help { height: auto; padding: 0 1; color: $text-muted; }
    """

    ABOVE = "listeners-rates"
    BELOW = "listeners-help"

    def make_table(self) -> ListenerTable:
        """The view's table."""
        return ListenerTable()

    def show(self, snap: Snapshot | None) -> None:
        """Put a snapshot's listeners on screen."""
        if snap is None:
            return
        lang = self.twtop.lang
        words = VIEW_WORDS[lang]
        table = self.query_one(ListenerTable)
        table.border_title = words["listeners_title"].format(n=len(snap.listeners))
        table.show(listener_lines(snap, lang), lang)
        rates = listen_rates(snap, lang)
        if not snap.listeners:
            rates = f"{words['listeners_none']}  {rates}"
        self.query_one("#listeners-rates", Static).update(Text(rates))
        why = unknown_owners(snap, lang)
        help_text = words["listeners_help"] + (f"\n{why}" if why else "")
        self.query_one("#listeners-help", Static).update(Text(help_text))
