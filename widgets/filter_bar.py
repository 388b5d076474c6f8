"""The filter bar: an Input for the filter language, the error with a caret under the bad token."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from twtop.filter import FilterError
from twtop.knowledge_ui import UI_WORDS


class FilterBar(Vertical):
    """Opened with ``/``; Enter applies, Esc clears. It sits in the layout (not docked), so the
    footer never covers the error or its caret."""

    DEFAULT_CSS = """
    FilterBar { height: auto; display: none; }
    FilterBar.visible { display: block; }
    FilterBar > #filter-error { color: $error; height: auto; padding: 0 1; }
    FilterBar > #filter-hint { color: $warning; height: auto; padding: 0 1; }
    """

    class Applied(Message):
        """The user submitted ``expr`` (empty: clear the filter)."""

        def __init__(self, expr: str) -> None:
            super().__init__()
            self.expr = expr

    def compose(self) -> ComposeResult:
        lang = str(getattr(self.app, "lang", "en"))
        yield Input(placeholder=UI_WORDS[lang]["filter_placeholder"], id="filter")
        yield Static(id="filter-error")
        yield Static(id="filter-hint")

    def open(self, value: str | None = None) -> None:
        """Show the bar and focus the input."""
        if value is not None:
            self.query_one(Input).value = value
        self.add_class("visible")
        self.query_one(Input).focus()

    def close(self) -> None:
        """Hide the bar and forget the error."""
        self.query_one("#filter-error", Static).update("")
        self.query_one("#filter-hint", Static).update("")
        self.remove_class("visible")

    def show_hint(self, hint: str) -> None:
        """Say why the applied filter matches nothing and what to try; the bar stays open."""
        self.query_one("#filter-hint", Static).update(Text(hint))
        self.add_class("visible")

    def show_error(self, exc: FilterError) -> None:
        """The message, then the expression with a caret under the offending column."""
        lang = str(getattr(self.app, "lang", "en"))
        text = f"{exc.message(lang)}\n{exc.caret()}"
        self.query_one("#filter-error", Static).update(Text(text))

    @on(Input.Submitted, "#filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied(event.value))

    def on_key(self, event: events.Key) -> None:
        """Esc clears the filter."""
        if event.key == "escape":
            event.stop()
            self.query_one(Input).value = ""
            self.post_message(self.Applied(""))
