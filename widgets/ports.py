"""The port gauge: ephemeral range and the worst (src, dst, dport) tuple as a bar."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from twtop.knowledge_ui import UI_WORDS
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
        self.border_title = ""

    def watch_snapshot(self, snap: Snapshot | None) -> None:
        """Size the pane to the lines it will draw (borders included)."""
        if snap is None:
            return
        rows = 3 if self.app.size.height >= 40 else 1
        extra = 1 if any(v.notable for v in snap.ports.sources[:1]) else 0
        height = max(1, min(rows, len(snap.ports.tuples))) + extra + 2
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height
        self._title(snap)

    def _title(self, snap: Snapshot) -> None:
        """The range and what a tuple may use, set before the first frame draws the border."""
        ports = snap.ports
        w = UI_WORDS[str(getattr(self.app, "lang", "en"))]
        taken = [w["ports_reserved"].format(n=ports.reserved)] if ports.reserved else []
        if ports.bound:
            taken.append(w["ports_bound"].format(n=ports.bound))
        self.border_title = w["ports_title_n"].format(
            low=ports.low, high=ports.high, n=count(ports.available)
        ) + (w["ports_taken"].format(list=w["sep"].join(taken)) if taken else "")

    def render(self) -> Text:
        """Draw the gauge (one tuple; more when the pane is tall; details when it is wide)."""
        snap = self.snapshot
        t = Text(no_wrap=True, overflow="ellipsis")
        if snap is None:
            return t
        ports = snap.ports
        lang = str(getattr(self.app, "lang", "en"))
        w = UI_WORDS[lang]
        if not ports.tuples:
            t.append(w["ports_none"])
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
                t.append(w["ports_blocked"].format(blocking=count(tup.blocking),
                                                   available=count(tup.available)))  # fmt: skip
                t.append(port_state(tup, lang), style="bold reverse" if alarm else "")
                t.append(w["ports_regime"].format(regime=port_regime(tup.regime, lang)))
            else:
                t.append(w["ports_narrow"].format(rate=per_s(tup.demand_per_s),
                                                  hold=hold(tup.regime.hold_s, lang)))  # fmt: skip
                t.append(port_state_short(tup, lang), style="bold reverse" if alarm else "")
        for v in ports.sources[:1]:
            if v.notable:
                t.append("\n")
                t.append(
                    w["ports_bind"].format(src=v.src, held=count(v.held),
                                           available=count(v.available)),
                    style="bold" if v.full else "",
                )  # fmt: skip
        return t
