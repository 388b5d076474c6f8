"""Writing the incident note (twtop.note) for the snapshot on display: a new private file."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from twtop import files
from twtop.errors import TwtopError
from twtop.knowledge_views import VIEW_WORDS
from twtop.note import incident_note

if TYPE_CHECKING:
    from tui.app import TwtopApp


def write_note(app: TwtopApp) -> str | None:
    """Write the note with ``files.write_new`` (0600, the state directory, never over a file or
    a symlink); say the full path, or why nothing was written. Returns the path."""
    words = VIEW_WORDS[app.lang]
    snap = app.snapshot
    if snap is None:
        app.notify(words["nothing_yet"], severity="warning", markup=False)
        return None
    stem = f"twtop-note-{snap.host}-{time.strftime('%Y%m%d-%H%M%S')}"
    text = incident_note(snap, app.main.findings, app.lang)
    try:
        path = files.write_new(stem, ".md", text, app.state_dir)
    except TwtopError as exc:
        app.notify(words["note_failed"].format(error=exc), severity="error", markup=False)
        return None
    app.notify(words["note_written"].format(path=path), markup=False, timeout=10)
    return path
