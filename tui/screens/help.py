"""The help screen: every key, the filter language, what the columns mean, in the app's language.

Laid out as a key column and a description column; a description that does not fit wraps under
its own column (a hanging indent), never back to the key column, at whatever width the dialog has.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.words import relabel
from twtop.knowledge_ui import HELP, HELP_TITLE
from twtop.text import cols, wrap

#: Columns of the key column (the widest key, ``state time-wait``, and a gap), after the indent.
KEY_COLS = 16
#: Indent of every row under its section heading.
INDENT = 2


def render_help(lang: str, width: int) -> Text:
    """The help text for a content area ``width`` columns wide."""
    t = Text(no_wrap=True)
    t.append(HELP_TITLE[lang], style="bold")
    t.append("\n")
    for heading, rows in HELP[lang]:
        t.append("\n")
        if heading:
            t.append(heading, style="bold")
            t.append("\n")
        for keys, desc in rows:
            lead = INDENT + (KEY_COLS if keys else 0)
            body = wrap(desc, max(10, width - lead)).split("\n")
            t.append(" " * INDENT)
            if keys:
                t.append(keys, style="bold")
                t.append(" " * max(1, KEY_COLS - cols(keys)))
            t.append(("\n" + " " * lead).join(body))
            t.append("\n")
    t.rstrip()
    return t


class HelpText(Static):
    """The help, re-laid out whenever its width changes."""

    def on_resize(self, event: events.Resize) -> None:
        """Wrap the descriptions to the width the dialog has now."""
        lang = str(getattr(self.app, "lang", "en"))
        self.update(render_help(lang, event.size.width))


class HelpScreen(ModalScreen[None]):
    """Every binding, the filter language, what the columns mean."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close", id="close"),
    ]
    """Any of the keys that opened it closes it."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield HelpText()

    def on_mount(self) -> None:
        """Close in the app's language; focus the scroller so arrows and PgUp/PgDn scroll."""
        relabel(self, str(getattr(self.app, "lang", "en")))
        self.refresh_bindings()
        self.query_one(VerticalScroll).focus()
