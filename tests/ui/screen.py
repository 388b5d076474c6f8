"""What the terminal shows: the composed screen as text (a widget hidden under another is not)."""

from __future__ import annotations

from typing import Any

from textual.app import App


def screen_text(app: App[Any]) -> str:
    """The screen as a user sees it, one line per terminal row (docked footer on top)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


async def settle(pilot: Any) -> None:
    """Let workers finish and messages drain, then let the screen repaint."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
