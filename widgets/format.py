"""Number formatting for the panes: defined once in the engine (twtop.text), re-exported here."""

from __future__ import annotations

from twtop.text import compact, count, rate

__all__ = ["compact", "count", "rate"]
