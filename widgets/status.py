"""The status line: PAUSED, stale data and poll errors, wrapped rather than cut at any width."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from twtop.knowledge_ui import UI_WORDS
from twtop.text import duration as human_duration


class StatusBar(Widget):
    """Says what is wrong with the data on screen; hidden when nothing is.

    It wraps instead of truncating, so a long error (a namespace name, a path) is read in full at
    60 columns too; the header, which truncates, carries nothing that must be seen.
    """

    DEFAULT_CSS = """
    StatusBar { height: auto; display: none; padding: 0 1; background: $warning-muted;
                color: $text; text-style: bold; }
    """

    # layout=True: a longer text needs more lines, and the line count is the height; without it
    # a message that grew after the bar was laid out was cut at its old height
    paused: reactive[bool] = reactive(False, layout=True)
    """The display is frozen (collection continues)."""
    error: reactive[str | None] = reactive(None, layout=True)
    """The last poll's error, until a poll succeeds."""
    age_s: reactive[float | None] = reactive(None, layout=True)
    """Seconds since the last good poll when that is longer than expected; else None."""
    note: reactive[str | None] = reactive(None, layout=True)
    """A standing note on what the data cannot show (e.g. not root: other users' owners)."""

    def _update_display(self) -> None:
        show = self.paused or bool(self.error) or self.age_s is not None or bool(self.note)
        if self.display != show:
            self.display = show

    def watch_note(self) -> None:
        """Show or hide."""
        self._update_display()

    def watch_paused(self) -> None:
        """Show or hide."""
        self._update_display()

    def watch_error(self) -> None:
        """Show or hide."""
        self._update_display()

    def watch_age_s(self) -> None:
        """Show or hide."""
        self._update_display()

    def render(self) -> Text:
        """PAUSED first (short, never pushed out), then age, then the error in full."""
        lang = str(getattr(self.app, "lang", "en"))
        w = UI_WORDS[lang]
        t = Text()
        if self.paused:
            t.append(w["st_paused"], style="reverse")
            t.append(w["st_paused_hint"])
        if self.age_s is not None:
            t.append(w["st_age"].format(age=human_duration(self.age_s, lang=lang)))
        if self.error:
            t.append(w["st_failed"], style="reverse")
            t.append(self.error)
        if self.note:
            if t.plain:
                t.append("  ")
            t.append(self.note)
        return t
