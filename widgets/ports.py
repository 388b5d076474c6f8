"""The port gauge: ephemeral range and the worst (src, dst, dport) tuple as a bar."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from twtop.knowledge_ui import UI_WORDS
from twtop.model import Snapshot
from twtop.ports import TupleState
from twtop.text import (
    hold,
    port_demand,
    port_demand_short,
    port_regime,
    port_state,
    port_state_short,
    port_who_short,
)
from widgets.format import count
from widgets.peers import elide
from widgets.sockets import endpoint_fit

BAR = 20


def tuple_text(src: str, dst: str, room: int | None) -> str:
    """``src→dst:port``; when ``room`` columns are fewer than it needs (IPv6 at 80 columns), each
    address loses its middle (the port stays whole) so the state word after it stays on screen."""
    if room is None or len(src) + len(dst) <= room:
        return f"{src}→{dst}"
    src_room = max(5, room * len(src) // (len(src) + len(dst)))
    return f"{elide(src, src_room)}→{endpoint_fit(dst, max(7, room - src_room))}"


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
        # Who is behind the first tuple: who made its TIME_WAITs, else who holds its live
        # sockets (names are data: a Text, never parsed as markup). Set here, not in render():
        # a border changed while rendering is not redrawn until the next refresh.
        first = snap.ports.tuples[0] if snap.ports.tuples else None
        lang = str(getattr(self.app, "lang", "en"))
        self.border_subtitle = Text(port_who_short(first, lang)) if first is not None else ""
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
        if snap.detail_age_s >= 1:  # a counts-only poll (budget.py): the tuples are the detail's
            self.border_title += w["tuples_age"].format(s=f"{snap.detail_age_s:.0f}")

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
            rest = Text()
            heavy = "bold" if tup.ratio >= 0.5 else ""
            rest.append(bar(tup.ratio, BAR if wide else 12), style=heavy)
            rest.append(f" {tup.ratio * 100:4.1f}%")
            if wide:  # the state first: the regime may be cut at the pane's edge
                rest.append(w["ports_blocked"].format(blocking=count(tup.blocking),
                                                      available=count(tup.available)))  # fmt: skip
                rest.append(port_state(tup, lang), style="bold reverse" if alarm else "")
                rest.append(w["ports_regime"].format(regime=port_demand(tup, lang)))
                rest.append(w["ports_regime"].format(regime=port_regime(tup.regime, lang)))
            else:
                narrow = w["ports_narrow"]
                rest.append(narrow.format(demand=port_demand_short(tup, lang),
                                          hold=hold(tup.regime.hold_s, lang)))  # fmt: skip
                rest.append(port_state_short(tup, lang), style="bold reverse" if alarm else "")
            room = None if wide else self.size.width - rest.cell_len - 2  # "→" and a space
            t.append(tuple_text(tup.src, f"{tup.dst}:{tup.dport}", room) + " ")
            t.append_text(rest)
        for v in ports.sources[:1]:
            if v.notable:
                t.append("\n")
                t.append(
                    w["ports_bind"].format(src=v.src, held=count(v.held),
                                           available=count(v.available)),
                    style="bold" if v.full else "",
                )  # fmt: skip
        return t
