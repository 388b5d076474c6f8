"""The port gauge: ephemeral range and the worst (src, dst, dport) tuple as a bar."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from twtop.knowledge_ui import UI_WORDS
from twtop.model import Snapshot
from twtop.ports import PortTuple, TupleState
from twtop.text import (
    cols,
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


#: Columns the tuple text keeps at least beside the rest of its line (``127.0.0.1→10.0.0.2:5432``).
TUPLE_MIN = 24
#: Narrow lines, fullest first: (bar width, demand and hold shown).
NARROW_STEPS = ((12, True), (12, False), (6, False), (0, False))


def _alarm(tup: PortTuple) -> str:
    return "bold reverse" if tup.state is not TupleState.STEADY else ""


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

    @staticmethod
    def _wide(tup: PortTuple, lang: str) -> Text:
        """Bar, percentage, blocked ports, the state, demand and regime (100 columns and more):
        the state first, as the regime may be cut at the pane's edge."""
        w = UI_WORDS[lang]
        rest = Text()
        rest.append(bar(tup.ratio, BAR), style="bold" if tup.ratio >= 0.5 else "")
        rest.append(f" {tup.ratio * 100:4.1f}%")
        rest.append(w["ports_blocked"].format(blocking=count(tup.blocking),
                                              available=count(tup.available)))  # fmt: skip
        rest.append(port_state(tup, lang), style=_alarm(tup))
        rest.append(w["ports_regime"].format(regime=port_demand(tup, lang)))
        rest.append(w["ports_regime"].format(regime=port_regime(tup.regime, lang)))
        return rest

    def _narrow(self, tup: PortTuple, lang: str, whole: str) -> tuple[Text, int]:
        """What follows the tuple under 100 columns, and the columns the tuple keeps: the
        fullest line that leaves the tuple TUPLE_MIN columns (or all it needs); narrower, the
        demand and hold go first, then the bar shrinks, then it goes: the tuple (who, where)
        and its state word (what) always stay."""
        w = UI_WORDS[lang]
        need = min(cols(whole), TUPLE_MIN)
        for bar_w, details in NARROW_STEPS:
            rest = Text()
            if bar_w:
                rest.append(bar(tup.ratio, bar_w), style="bold" if tup.ratio >= 0.5 else "")
            rest.append(f" {tup.ratio * 100:4.1f}% " if bar_w else f"{tup.ratio * 100:4.1f}% ")
            if details:
                rest.append(
                    w["ports_narrow"].format(
                        demand=port_demand_short(tup, lang), hold=hold(tup.regime.hold_s, lang)
                    )[1:]
                )
            rest.append(port_state_short(tup, lang), style=_alarm(tup))
            room = self.size.width - rest.cell_len - 2  # "→" and a space
            if room >= need:
                break
        return rest, room

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
            if wide:
                rest, room = self._wide(tup, lang), None
            else:
                rest, room = self._narrow(tup, lang, f"{tup.src}→{tup.dst}:{tup.dport}")
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
