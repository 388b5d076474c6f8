"""The port gauge: ephemeral range and the worst (src, dst, dport) tuple as a bar."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from twtop.model import Snapshot
from twtop.ports import TupleState
from twtop.text import hold, per_s, port_regime, port_state, port_state_short
from widgets.format import count

BAR = 20


def bar(ratio: float, width: int = BAR) -> str:
    """``[██████░░░░]``: filled by ratio (meaning also in the percentage next to it)."""
    filled = max(0, min(width, round(ratio * width)))
    return "[" + "█" * filled + "░" * (width - filled) + "]"


class PortGauge(Widget):
    """Ephemeral ports: range, available, the worst tuples with their regime and state."""

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
        extra = 1 if any(v.notable for v in snap.ports.sources[:1]) else 0
        height = max(1, min(rows, len(snap.ports.tuples))) + extra + 2
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height

    def render(self) -> Text:
        """Draw the gauge (one tuple; more when the pane is tall; details when it is wide)."""
        snap = self.snapshot
        t = Text(no_wrap=True, overflow="ellipsis")
        if snap is None:
            return t
        ports = snap.ports
        taken = [f"{ports.reserved} reserved"] if ports.reserved else []
        if ports.bound:
            taken.append(f"{ports.bound} bound")
        self.border_title = (
            f"Ephemeral ports {ports.low}-{ports.high}: {count(ports.available)} per tuple"
            + (f" ({', '.join(taken)})" if taken else "")
            # a counts-only poll (budget.py): the tuples are the last detail poll's
            + (f" — tuples {snap.detail_age_s:.0f}s old" if snap.detail_age_s >= 1 else "")
        )
        if not ports.tuples:
            t.append("no outbound connections: no ephemeral ports in use")
            return t
        rows = 3 if self.app.size.height >= 40 else 1
        wide = self.app.size.width >= 100
        for i, tup in enumerate(ports.tuples[:rows]):
            if i:
                t.append("\n")
            alarm = tup.state is not TupleState.STEADY
            t.append(f"{tup.src}→{tup.dst}:{tup.dport} ")
            t.append(bar(tup.ratio, BAR if wide else 12), style="bold" if tup.ratio >= 0.5 else "")
            t.append(f" {tup.ratio * 100:4.1f}%")
            if wide:  # the state first: the regime may be cut at the pane's edge
                t.append(f" {count(tup.blocking)}/{count(tup.available)} blocked; ")
                t.append(port_state(tup), style="bold reverse" if alarm else "")
                t.append(f"; {port_regime(tup.regime)}")
            else:
                t.append(f" {per_s(tup.demand_per_s)}/s hold {hold(tup.regime.hold_s)} ")
                t.append(port_state_short(tup), style="bold reverse" if alarm else "")
        for v in ports.sources[:1]:
            if v.notable:
                t.append("\n")
                t.append(
                    f"bind() from {v.src}: {count(v.held)}/{count(v.available)} held, all "
                    "destinations",
                    style="bold" if v.full else "",
                )
        return t
