"""Findings: a one-line bar on the main screen and the full list with evidence, why and action."""

from __future__ import annotations

import re

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from twtop.advisor import Finding
from twtop.knowledge import LABELS, PHRASES, SEVERITY_WORDS
from twtop.knowledge_screen import SCREEN_WORDS
from twtop.text import wrap

_STYLE = {"critical": "bold reverse", "warning": "bold", "info": ""}
#: The advisor's finding when no rule fired: shown with a check mark, not a severity.
ALL_CLEAR = "all_clear"


def _badge(f: Finding) -> tuple[str, str]:
    if f.id == ALL_CLEAR:
        return " ✓ ", "bold"
    return f" {SEVERITY_WORDS[f.lang][f.severity].upper()} ", _STYLE[f.severity] or "reverse"


class FindingsBar(Widget, can_focus=True):
    """The most severe finding(s): severity, what, who and how many, on one line each or on two
    (title, then the evidence's first clauses) when one does not hold them, and how many more
    there are (``+N more (f)``); Enter opens all."""

    DEFAULT_CSS = """
    FindingsBar { height: auto; max-height: 4; }
    FindingsBar:focus { background: $boost; }
    """

    BINDINGS = [Binding("enter", "open", "Findings", show=False, id="findings_open")]
    """Enter opens the findings view."""

    class Opened(Message):
        """The user asked for the full list of findings."""

    findings: reactive[tuple[Finding, ...] | None] = reactive(None, layout=True)
    """The findings to show, most severe first (None: nothing collected yet)."""

    def render(self) -> Text:
        """Draw the lines: ``+N more (f)`` at the end of the last line when some do not fit."""
        findings = self.findings
        if not findings:  # nothing collected yet
            return Text()
        shown = 2 if self.app.size.height >= 30 else 1
        more = len(findings) - shown
        width = max(20, self.size.width)
        lines: list[Text] = []
        two_lines = self.app.size.height >= 24
        for i, f in enumerate(findings[:shown]):
            tails: list[Text | None] = [None]
            if i == min(shown, len(findings)) - 1 and more > 0:  # the long word, else the short
                words = SCREEN_WORDS[f.lang]
                tails = [Text(f" {words[k].format(n=more)}", style="bold")
                         for k in ("bar_more", "bar_more_short")]  # fmt: skip
            for tail in tails:
                found = bar_lines(f, width, tail, two_lines)
                if tail is tails[-1] or "…" not in found[0].plain:
                    break
            lines += found
        return Text("\n").join(lines)

    def on_click(self) -> None:
        """A click opens the findings view."""
        self.post_message(self.Opened())

    def action_open(self) -> None:
        """Enter opens the findings view."""
        self.post_message(self.Opened())


def _clauses(evidence: str) -> list[str]:
    """The evidence's clauses ("150 CLOSE_WAIT sockets; 150 owned by ...; ...")."""
    return [c.strip() for c in re.split(r"[;；]", evidence) if c.strip()]


def _fit(parts: list[str], room: int, sep: str) -> Text:
    """As many of ``parts`` as fit in ``room`` cells, joined by ``sep``; the first one cut with
    an ellipsis when even it does not fit."""
    out = Text(no_wrap=True)
    if room < 2:
        return out
    for part in parts:
        piece = (sep if out.plain else "") + part
        if out.cell_len + Text(piece).cell_len > room:
            break
        out.append(piece)
    if not out.plain and parts:
        out.append(parts[0])
        out.truncate(room, overflow="ellipsis")
    return out


def bar_lines(f: Finding, width: int, tail: Text | None, two_lines: bool = True) -> list[Text]:
    """One finding in ``width`` cells: badge, title (what and who) and the evidence's first
    clause (how many) on one line when they fit, else the title on its own line and the
    evidence's first clauses on a second (on one line, under 24 rows: badge and title);
    ``tail`` ends the last line."""
    word, style = _badge(f)
    head = Text(no_wrap=True)
    head.append(word, style=style)
    head.append(f" {f.title}")
    room = width - (tail.cell_len if tail else 0)
    clauses = _clauses(f.evidence)
    one = head.copy()
    first = _fit(clauses, room - head.cell_len - 3, "; ")
    if clauses and first.plain and not first.plain.endswith("…"):
        one.append(" — ")
        one.append_text(first)
        if one.cell_len <= room:
            return [_end(one, tail)]
    if (not clauses or not two_lines) and head.cell_len <= room:
        return [_end(head, tail)]
    if not two_lines:
        head.truncate(room, overflow="ellipsis")
        return [_end(head, tail)]
    head.truncate(width, overflow="ellipsis")
    second = Text("  ", no_wrap=True)
    second.append_text(_fit(clauses, room - 2, "; "))
    return [head, _end(second, tail)]


def _end(line: Text, tail: Text | None) -> Text:
    if tail is not None:
        line.append_text(tail)
    return line


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

    def wait(self, text: str) -> None:
        """Nothing to show yet: say why (``waiting for the first poll…``)."""
        self._shown = None
        self.update(Text(text, style="dim"))

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
