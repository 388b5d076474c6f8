"""What the app does besides polling: writing files, and the command palette's entries."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen

from twtop import files
from twtop.errors import TwtopError
from twtop.knowledge_views import VIEW_WORDS
from twtop.report import document

if TYPE_CHECKING:
    from tui.app import TwtopApp


def export_json(app: TwtopApp) -> None:
    """Write the snapshot on display and its findings as JSON (a new private file); say where."""
    snap = app.snapshot
    if snap is None:
        app.notify("nothing collected yet", severity="warning")
        return
    stem = f"twtop-{snap.host}-{time.strftime('%Y%m%d-%H%M%S')}"
    text = json.dumps(document(snap, app.main.findings), indent=2, ensure_ascii=False)
    try:
        path = files.write_new(stem, ".json", text, app.state_dir)
    except TwtopError as exc:
        app.notify(f"export failed: {exc}", severity="error", markup=False)
        return
    app.notify(f"snapshot written to {path}", markup=False)


def save_svg(app: TwtopApp) -> None:
    """Save an SVG screenshot of the screen (a new private file); say where."""
    stem = f"twtop-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        path = files.write_new(stem, ".svg", app.export_screenshot(), app.state_dir)
    except TwtopError as exc:
        app.notify(f"screenshot failed: {exc}", severity="error", markup=False)
        return
    app.notify(f"screenshot saved to {path}", markup=False)


def palette(app: TwtopApp, screen: Screen[Any]) -> Iterable[SystemCommand]:
    """twtop's actions in the command palette (the overview's only on the overview)."""
    main = app.main
    if screen is main:
        yield SystemCommand("Filter sockets", "Filter with the ss-like language",
                            main.action_filter)  # fmt: skip
        yield SystemCommand("Sort by next column", "Cycle the peer table's sort", main.action_sort)
        yield SystemCommand("Reverse sort", "Flip the sort order", main.action_reverse)
        yield SystemCommand("Group peers", "IP → IP:port → local port → process",
                            app.action_cycle_group)  # fmt: skip
        yield SystemCommand("Pause / resume", "Freeze the display", app.action_pause)
    yield SystemCommand("Findings", "Evidence, why and what to do", app.action_findings)
    words = VIEW_WORDS[app.lang]
    yield SystemCommand(words["palette_listeners"], words["palette_listeners_help"],
                        app.action_listeners)  # fmt: skip
    yield SystemCommand(words["palette_counters"], words["palette_counters_help"],
                        app.action_counters)  # fmt: skip
    yield SystemCommand(words["palette_note"], words["palette_note_help"], app.action_note)
    yield SystemCommand("Poll slower", "Longer interval", app.action_slower)
    yield SystemCommand("Poll faster", "Shorter interval", app.action_faster)
    yield SystemCommand("Export JSON", "Write the snapshot to a file", app.action_export)
    yield SystemCommand("Screenshot", "Save an SVG of the screen", app.action_save_svg)
    yield SystemCommand("Help", "Keys and filter language", app.action_help)
