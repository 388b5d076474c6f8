"""What the app does besides polling: writing files, and the command palette's entries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen

from tui.words import words as ui_words
from twtop import files
from twtop.errors import TwtopError
from twtop.report import document

if TYPE_CHECKING:
    from tui.app import TwtopApp


def export_json(app: TwtopApp) -> None:
    """Write the snapshot on display and its findings as JSON (a new private file); say where."""
    snap = app.snapshot
    if snap is None:
        app.notify(ui_words(app.lang)["nothing_yet"], severity="warning")
        return
    stem = f"twtop-{snap.host}-{time.strftime('%Y%m%d-%H%M%S')}"
    text = json.dumps(document(snap, app.main.findings), indent=2, ensure_ascii=False)
    try:
        path = files.write_new(stem, ".json", text, app.state_dir)
    except TwtopError as exc:
        app.notify(ui_words(app.lang)["ntf_export_failed"].format(error=exc), severity="error",
                   markup=False)  # fmt: skip
        return
    app.notify(ui_words(app.lang)["ntf_exported"].format(path=path), markup=False)


def save_svg(app: TwtopApp) -> None:
    """Save an SVG screenshot of the screen (a new private file); say where."""
    stem = f"twtop-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        path = files.write_new(stem, ".svg", app.export_screenshot(), app.state_dir)
    except TwtopError as exc:
        app.notify(ui_words(app.lang)["ntf_shot_failed"].format(error=exc), severity="error",
                   markup=False)  # fmt: skip
        return
    app.notify(ui_words(app.lang)["ntf_shot"].format(path=path), markup=False)


#: Textual's own palette entries twtop keeps, by title (its "Screenshot" is left out: it writes
#: into the current directory; twtop's own writes a private file in the state directory).
_TEXTUAL = {"Theme": "tx_theme", "Quit": "tx_quit", "Keys": "tx_keys", "Maximize": "tx_maximize",
            "Minimize": "tx_minimize"}  # fmt: skip


def textual_commands(app: TwtopApp, builtin: Iterable[SystemCommand]) -> Iterable[SystemCommand]:
    """Textual's palette entries with twtop's words (an entry twtop has no word for is left out:
    no English line in another language's palette)."""
    w = ui_words(app.lang)
    for cmd in builtin:
        key = _TEXTUAL.get(cmd.title)
        if key is not None:
            yield SystemCommand(w[key], w[f"{key}_help"], cmd.callback)


def palette(app: TwtopApp, screen: Screen[Any]) -> Iterable[SystemCommand]:
    """twtop's actions in the command palette (the overview's only on the overview)."""
    main = app.main
    w = ui_words(app.lang)

    def cmd(name: str, action: Callable[[], object]) -> SystemCommand:
        return SystemCommand(w[name], w[f"{name}_help"], action)

    if screen is main:
        yield cmd("pal_filter", main.action_filter)
        yield cmd("pal_sort", main.action_sort)
        yield cmd("pal_reverse", main.action_reverse)
        yield cmd("pal_group", app.action_cycle_group)
        yield cmd("pal_pause", app.action_pause)
    yield cmd("pal_findings", app.action_findings)
    yield cmd("palette_listeners", app.action_listeners)
    yield cmd("palette_counters", app.action_counters)
    yield cmd("palette_note", app.action_note)
    yield cmd("pal_slower", app.action_slower)
    yield cmd("pal_faster", app.action_faster)
    yield cmd("pal_export", app.action_export)
    yield cmd("pal_shot", app.action_save_svg)
    yield cmd("pal_help", app.action_help)
