"""How numbers, durations, endpoints and paragraphs are written, once for every view.

The --once table, the findings, the explainer and the TUI panes all format through these, so a
duration or a count reads the same everywhere.
"""

from __future__ import annotations

from twtop.knowledge import ETA_WORDS

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


def duration(seconds: float | None, unknown: str = "-") -> str:
    """``42s``, ``3m10s``, ``2h05m``; ``unknown`` (default ``-``) for None."""
    if seconds is None:
        return unknown
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def ms(value: int) -> str:
    """A timer in milliseconds: ``850 ms``, ``42.0 s``, ``3m05s``."""
    if value < 1000:
        return f"{value} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    s = value // 1000
    return f"{s // 60}m{s % 60:02d}s"


def endpoint(addr: str, port: int) -> str:
    """``1.2.3.4:80`` or ``[::1]:80``, as ss prints them."""
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def exhaustion(eta: float | None, lang: str = "en") -> str:
    """Time to port exhaustion in words: none left now, full in T at this rate, or not at risk."""
    words = ETA_WORDS[lang]
    if eta is None:
        return words["safe"]
    if eta <= 0:
        return words["now"]
    return words["eta"].format(t=duration(eta))


def exhaustion_short(eta: float | None) -> str:
    """The same for a table cell: ``now``, ``3m10s`` or ``not at risk``."""
    if eta is None:
        return "not at risk"
    return "now" if eta <= 0 else duration(eta)


def cols(text: str) -> int:
    """Terminal columns ``text`` takes (CJK characters count double)."""
    return sum(2 if ord(ch) > _WIDE_FROM else 1 for ch in text)


def _units(text: str) -> list[str]:
    """Split into wrap units: space-led words, and single CJK characters."""
    units: list[str] = []
    cur = ""
    for ch in text:
        if ch == " ":
            if cur:
                units.append(cur)
            cur = " "
        elif ord(ch) > _WIDE_FROM:
            if cur:
                units.append(cur)
            units.append(ch)
            cur = ""
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
