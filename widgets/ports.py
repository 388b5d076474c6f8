"""The port gauge: ephemeral range and the worst (src, dst, dport) tuple as a bar."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from twtop.model import Snapshot
from twtop.text import duration as human_duration
from widgets.format import count

BAR = 20


def bar(ratio: float, width: int = BAR) -> str:
    """``[██████░░░░]``: filled by ratio (meaning also in the percentage next to it)."""
    filled = max(0, min(width, round(ratio * width)))
    return "[" + "█" * filled + "░" * (width - filled) + "]"


class PortGauge(Widget):
    """Ephemeral ports: range, available, worst tuple, its TIME_WAIT rate, time to exhaustion."""

    DEFAULT_CSS = """
    PortGauge { height: auto; border: round $primary; border-title-align: left;
                text-wrap: nowrap; text-overflow: ellipsis; }
    """

    snapshot: reactive[Snapshot | None] = reactive(None)
    """The snapshot on display."""

    def __init__(self) -> None:
        super().__init__(id="ports")
        self.border_title = "Ephemeral ports"

    def watch_snapshot(self, snap: Snapshot | None) -> None:
        """Size the pane to the lines it will draw (borders included)."""
        if snap is None:
            return
        rows = 3 if self.app.size.height >= 40 else 1
        height = max(1, min(rows, len(snap.ports.tuples))) + 2
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height

    def render(self) -> Text:
        """Draw the gauge (two lines; more tuples when the pane is tall)."""
        snap = self.snapshot
        t = Text(no_wrap=True, overflow="ellipsis")
        if snap is None:
            return t
        ports = snap.ports
        self.border_title = (
            f"Ephemeral ports {ports.low}-{ports.high}: {count(ports.available)} per tuple"
            + (f" ({ports.reserved} reserved)" if ports.reserved else "")
        )
        if not ports.tuples:
            t.append("no outbound connections: no ephemeral ports in use")
            return t
        # One tuple on a small terminal, three when there is room; details when it is wide.
        rows = 3 if self.app.size.height >= 40 else 1
        wide = self.app.size.width >= 100
        for i, tup in enumerate(ports.tuples[:rows]):
            if i:
                t.append("\n")
            eta = tup.seconds_to_exhaustion
            risk = "FULL NOW" if eta == 0 else ("not at risk" if eta is None else
                                                f"full in {human_duration(eta)}")  # fmt: skip
            style = "bold reverse" if eta is not None else ""
            t.append(f"{tup.src}→{tup.dst}:{tup.dport} ")
            t.append(bar(tup.ratio, BAR if wide else 12), style="bold" if tup.ratio >= 0.5 else "")
            t.append(f" {tup.ratio * 100:4.1f}%")
            if wide:
                t.append(f" {count(tup.used)}/{count(tup.available)} used")
            t.append(f" {tup.tw_per_s:.0f} TW/s ")
            t.append(risk, style=style)
        return t
