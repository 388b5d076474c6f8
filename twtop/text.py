"""How numbers, durations, endpoints and paragraphs are written, once for every view.

The --once table, the findings, the explainer and the TUI panes all format through these, so a
duration or a count reads the same everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twtop.knowledge import PHRASES, PORT_WORDS
from twtop.knowledge_ui import UI_WORDS
from twtop.ports import TupleState

if TYPE_CHECKING:
    from twtop.model import PortUsage
    from twtop.ports import PortTuple, Regime

#: Code points from here up are CJK (and other wide scripts): two terminal columns each.
_WIDE_FROM = 0x2E80


def count(n: int) -> str:
    """1234 -> ``1,234``; 123456 -> ``123.5k``; 12345678 -> ``12.3M``."""
    if n < 100_000:
        return f"{n:,}"
    if n < 10_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def compact(n: int) -> str:
    """At most 5 characters: ``9999``, ``20.6k``, ``312k``, ``1.2M``."""
    if n < 10_000:
        return str(n)
    if n < 100_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def rate(r: float | None) -> str:
    """A signed per-second change: ``+12/s``, ``-1.2k/s``, blank when unknown."""
    if r is None:
        return ""
    if abs(r) < 0.05:
        return "0/s"
    sign = "+" if r > 0 else "-"
    a = abs(r)
    if a >= 1000:
        return f"{sign}{a / 1000:.1f}k/s"
    if a >= 10:
        return f"{sign}{a:.0f}/s"
    return f"{sign}{a:.1f}/s"


def per_s(r: float | None, unknown: str = "unknown") -> str:
    """An unsigned rate as a plain number (``12``, ``0.5``), ``unknown`` when not measured."""
    if r is None:
        return unknown
    return f"{r:.0f}" if r >= 10 or r == 0 else f"{r:.1f}"


def duration(seconds: float | None, unknown: str = "-", lang: str = "en") -> str:
    """``42s``, ``3m10s``, ``2h05m`` (zh: ``42 秒``, ``3 分 10 秒``); ``unknown`` (default ``-``)
    for None."""
    if seconds is None:
        return unknown
    w = UI_WORDS[lang]
    s = int(round(seconds))
    if s < 60:
        return w["dur_s"].format(s=s)
    if s < 3600:
        return w["dur_m"].format(m=s // 60, s=s % 60)
    return w["dur_h"].format(h=s // 3600, m=(s % 3600) // 60)


def ms(value: int, lang: str = "en") -> str:
    """A timer in milliseconds: ``850 ms``, ``42.0 s``, ``3m05s`` (zh: ``850 毫秒``, ``42.0 秒``,
    ``3 分 05 秒``)."""
    p = PHRASES[lang]
    if value < 1000:
        return p["dur_ms"].format(ms=value)
    if value < 60_000:
        return p["dur_s"].format(s=f"{value / 1000:.1f}")
    s = value // 1000
    return p["dur_min"].format(m=s // 60, s=f"{s % 60:02d}")


def endpoint(addr: str, port: int) -> str:
    """``1.2.3.4:80`` or ``[::1]:80``, as ss prints them."""
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def hold(seconds: float, lang: str = "en") -> str:
    """How long a TIME_WAIT blocks connect(): ``1s``, ``0.25s``, ``60s`` (zh: ``60 秒``)."""
    return UI_WORDS[lang]["hold"].format(s=seconds)


def port_regime(regime: Regime, lang: str = "en") -> str:
    """``reuse after 1s`` or ``no reuse (tcp_tw_reuse=0): TIME_WAIT holds 60s``."""
    words = PORT_WORDS[lang]
    if regime.reuse:
        return words["reuse"].format(t=hold(regime.hold_s, lang))
    why = UI_WORDS[lang].get(f"why_{regime.why.name}", regime.why.value)
    return words["no_reuse"].format(why=why)


def port_state(t: PortTuple, lang: str = "en") -> str:
    """A tuple's state in words: FULL now, full in T at this demand, or steady at this demand."""
    words = PORT_WORDS[lang]
    if t.state is TupleState.FULL:
        return words["full"]
    if t.state is TupleState.FILLING and t.seconds_to_full is not None:
        return words["filling"].format(t=duration(t.seconds_to_full, lang=lang))
    return words["steady"].format(pct=f"{min(t.steady_ratio, 1.0) * 100:.0f}")


def port_state_short(t: PortTuple, lang: str = "en") -> str:
    """The same for a table cell or a narrow gauge: ``FULL``, ``full in 3m10s`` or ``steady``."""
    words = PORT_WORDS[lang]
    if t.state is TupleState.FULL:
        return words["full_short"]
    if t.state is TupleState.FILLING and t.seconds_to_full is not None:
        return words["filling_short"].format(t=duration(t.seconds_to_full, lang=lang))
    return words["steady_short"]


def port_budget(ports: PortUsage, lang: str = "en") -> str:
    """What was subtracted from the range: ``10 in range - 0 reserved - 5 held by bind()``."""
    words = PORT_WORDS[lang]
    if ports.budget is None:
        return words["budget_unknown"].format(size=ports.size, reserved=ports.reserved)
    b = ports.budget
    return words["budget"].format(size=b.size, reserved=b.reserved, bound=b.bound)


def cols(text: str) -> int:
    """Terminal columns ``text`` takes (CJK characters count double)."""
    return sum(2 if ord(ch) > _WIDE_FROM else 1 for ch in text)


#: Full-width punctuation that may not start a line, and brackets that may not end one.
_NO_BREAK_BEFORE = frozenset("，。；：、）」』！？")
_NO_BREAK_AFTER = frozenset("（「『")


def _units(text: str) -> list[str]:
    """Split into wrap units: space-led words, and single CJK characters (a closing
    punctuation mark stays with what precedes it, an opening bracket with what follows)."""
    units: list[str] = []
    cur = ""
    for ch in text:
        if ch == " ":
            if cur:
                units.append(cur)
            cur = " "
        elif ch in _NO_BREAK_BEFORE and (cur or units):
            if cur:
                cur += ch
            else:
                units[-1] += ch
        elif ord(ch) > _WIDE_FROM:
            if cur:
                units.append(cur)
                cur = ""
            if units and units[-1][-1] in _NO_BREAK_AFTER:
                units[-1] += ch
            else:
                units.append(ch)
        elif units and not cur and units[-1][-1] in _NO_BREAK_AFTER:
            cur = units.pop() + ch
        else:
            cur += ch
    if cur:
        units.append(cur)
    return units


def wrap(text: str, width: int = 80) -> str:
    """Wrap a paragraph to ``width`` display columns (CJK characters count double)."""
    if "\n" in text:
        return "\n".join(wrap(t, width) for t in text.split("\n"))
    out: list[str] = []
    line = ""
    used = 0
    for word in _units(text):
        w = cols(word)
        if used + w > width and line.strip():
            out.append(line.rstrip())
            line, used = "", 0
            word = word.lstrip()
            w = cols(word)
        line += word
        used += w
    out.append(line.rstrip())
    return "\n".join(out)
