"""Names are data: one sanitiser for every string twtop takes from the system.

Process names, command lines, cgroup/unit names, netns names, paths and filter text echoed back
are chosen by whoever runs the process or types the filter -- possibly another, hostile, local
user. ``sanitize`` makes such a string safe to show on root's terminal: every control or invisible
formatting character becomes a visible escape (ESC -> ``\\x1b``, U+202E -> ``\\u202e``), bytes
that were not UTF-8 (surrogate escapes from ``os.fsdecode``) show as ``\\xNN``, and the length is
bounded. Backslashes are left alone, so sanitising twice changes nothing (each layer may apply
it); a name spelled with a literal ``\\x1b`` looks like an escaped ESC, which is harmless.
Brackets are left alone too: the UI renders names as plain Text, never as markup.
"""

from __future__ import annotations

import re
import unicodedata

#: Default bound for a name (process, unit, netns); command lines pass a larger one.
NAME_LIMIT = 256
#: The mark that ends a string cut at its bound.
ELLIPSIS = "…"

# Cheap pre-check: only strings with something other than printable ASCII take the slow path.
_PLAIN = re.compile(r"[\x20-\x7e]*")


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"\\x{code:02x}"
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return ch


def sanitize(text: str | bytes, limit: int = NAME_LIMIT, keep: str = "") -> str:
    """``text`` with control and invisible characters as visible escapes, at most ``limit`` chars.

    ``keep`` lists characters passed through (``"\\n"`` for a multi-line report). Bytes are decoded
    as UTF-8 with undecodable bytes shown as ``\\xNN``. A string longer than ``limit`` is cut and
    ends with an ellipsis (escapes count at their escaped length, so the bound holds on screen).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    if _PLAIN.fullmatch(text):
        return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELLIPSIS
    pieces = [ch if ch in keep else _escape(ch) for ch in text]
    if sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    out, used = [], 0
    for piece in pieces:  # never cut inside an escape
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + ELLIPSIS


__all__ = ["ELLIPSIS", "NAME_LIMIT", "sanitize"]
