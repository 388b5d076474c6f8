"""The header line: host, namespace, kernel, socket total, interval, last poll (may be cut)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from twtop.knowledge_ui import UI_WORDS
from twtop.model import Snapshot
from widgets.format import count


class StatusHeader(Widget):
    """One line of who/where/when; what must not be missed is in widgets.status instead."""

    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $primary-background; color: $text;
                   text-wrap: nowrap; text-overflow: ellipsis; }
    """

    snapshot: reactive[Snapshot | None] = reactive(None)
    """The snapshot on display."""
    interval: reactive[float] = reactive(1.0)
    """Seconds between polls."""

    def render(self) -> Text:
        """Draw the line."""
        snap = self.snapshot
        w = UI_WORDS[str(getattr(self.app, "lang", "en"))]
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" twtop ", style="bold reverse")
        if snap is None:
            t.append(" " + w["hdr_collecting"])
        else:
            where = f" {snap.host}"
            if snap.netns:
                where += f" netns:{snap.netns}"
            t.append(where, style="bold")
            t.append("  " + w["hdr_sockets"].format(n=count(snap.total)))
            if snap.detail_age_s >= 1:  # budget.py: counts are fresh, the per-peer detail is not
                t.append(" " + w["hdr_detail"].format(s=f"{snap.detail_age_s:.0f}"), style="bold")
            t.append("  " + w["hdr_every"].format(s=f"{self.interval:g}"))
            if snap.cpu_budget:  # over: the counts alone spend more (the status line says more)
                over = "hdr_cpu_over" if snap.cpu_over else "hdr_cpu"
                t.append(w[over].format(p=f"{snap.cpu_budget:g}"),
                         style="bold reverse" if snap.cpu_over else "")  # fmt: skip
            t.append(f"  {time.strftime('%H:%M:%S', time.localtime(snap.taken_at))}")
            t.append(f"  {snap.collect_ms:.0f}ms")
            if snap.filter:
                t.append("  " + w["hdr_filter"].format(f=snap.filter), style="italic")
            t.append(f"  Linux {snap.kernel}", style="dim")
        return t
