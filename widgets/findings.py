"""The findings bar: the advisor's most severe findings, severity spelled out (not colour only)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from twtop.advisor import Finding
from twtop.knowledge import SEVERITY_WORDS

_STYLE = {"critical": "bold reverse", "warning": "bold", "info": ""}


class FindingsBar(Widget):
    """Up to two findings, one line each; hidden when there are none."""

    DEFAULT_CSS = """
    FindingsBar { height: auto; max-height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    findings: reactive[tuple[Finding, ...]] = reactive(())
    """The findings to show, most severe first."""

    def watch_findings(self, findings: tuple[Finding, ...]) -> None:
        """Hide the bar when all is quiet."""
        self.display = bool(findings)

    def render(self) -> Text:
        """Draw the lines."""
        t = Text(no_wrap=True, overflow="ellipsis")
        shown = 2 if self.app.size.height >= 30 else 1
        for i, f in enumerate(self.findings[:shown]):
            if i:
                t.append("\n")
            word = SEVERITY_WORDS[f.lang][f.severity].upper()
            t.append(f" {word} ", style=_STYLE[f.severity] or "reverse")
            t.append(f" {f.title} — {f.evidence}")
        return t
