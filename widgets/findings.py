"""Findings: a one-line bar on the main screen and the full list with evidence, why and action."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from twtop.advisor import Finding
from twtop.knowledge import LABELS, PHRASES, SEVERITY_WORDS
from twtop.knowledge_ui import UI_WORDS
from twtop.text import wrap

_STYLE = {"critical": "bold reverse", "warning": "bold", "info": ""}
#: The advisor's finding when no rule fired: shown with a check mark, not a severity.
ALL_CLEAR = "all_clear"


def _badge(f: Finding) -> tuple[str, str]:
    if f.id == ALL_CLEAR:
        return " ✓ ", "bold"
    return f" {SEVERITY_WORDS[f.lang][f.severity].upper()} ", _STYLE[f.severity] or "reverse"


class FindingsBar(Widget, can_focus=True):
    """The most severe finding(s), one line each, with how many more there are; Enter opens all."""

    DEFAULT_CSS = """
    FindingsBar { height: auto; max-height: 2; }
    FindingsBar:focus { background: $boost; }
    """

    BINDINGS = [Binding("enter", "open", "Findings", show=False, id="findings_open")]
    """Enter opens the findings view."""

    class Opened(Message):
        """The user asked for the full list of findings."""

    findings: reactive[tuple[Finding, ...] | None] = reactive(None, layout=True)
    """The findings to show, most severe first (None: nothing collected yet)."""

    def render(self) -> Text:
        """Draw the lines: ``+N more`` at the end of the last line when some do not fit."""
        findings = self.findings
        if not findings:  # nothing collected yet
            return Text()
        shown = 2 if self.app.size.height >= 30 else 1
        more = len(findings) - shown
        t = Text()
        width = max(10, self.size.width)
        for i, f in enumerate(findings[:shown]):
            word, style = _badge(f)
            line = Text(no_wrap=True)
            line.append(word, style=style)
            line.append(f" {f.title} — {f.evidence}")
            tail = (
                Text(UI_WORDS[f.lang]["findings_more"].format(n=more), style="bold")
                if i == shown - 1 and more > 0
                else None
            )
            room = width - (tail.cell_len if tail else 0)
            line.truncate(room, overflow="ellipsis")
            if tail is not None:
                line.append_text(tail)
            if i:
                t.append("\n")
            t.append_text(line)
        return t

    def on_click(self) -> None:
        """A click opens the findings view."""
        self.post_message(self.Opened())

    def action_open(self) -> None:
        """Enter opens the findings view."""
        self.post_message(self.Opened())


class FindingsView(Static):
    """Every finding: severity, title, evidence, why and the specific action, wrapped (the
    advisor says "all clear" itself when no rule fired)."""

    DEFAULT_CSS = """
    FindingsView { padding: 0 1; }
    """

    _shown: tuple[tuple[Finding, ...], str] | None = None

    def show(self, findings: tuple[Finding, ...], lang: str) -> None:
        """Render the list."""
        self._shown = (findings, lang)
        self._draw(self.size.width)

    def on_resize(self) -> None:
        """Wrap again to the new width."""
        self._draw(self.size.width)

    def _draw(self, width: int) -> None:
        """Lines wrapped by twtop.text.wrap (CJK-aware: ``CLOSE_WAIT`` is never cut in two)."""
        if self._shown is None:
            return
        findings, lang = self._shown
        words = LABELS[lang]
        colon = PHRASES[lang]["colon"]
        width = max(20, width or 78)
        t = Text(no_wrap=True)
        for i, f in enumerate(findings):
            if i:
                t.append("\n\n")
            word, style = _badge(f)
            t.append(word, style=style)
            t.append(f" {f.title}\n", style="bold")
            for key, value in (("evidence", f.evidence), ("why", f.why), ("action", f.action)):
                label = f"{words[key]}{colon}"
                body = wrap(label + value, width)
                t.append(label, style="bold")
                t.append(body[len(label) :] + "\n")
        self.update(t)
