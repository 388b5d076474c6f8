"""App-wide messages: data from the poll worker to the UI thread."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from twtop.advisor import Finding
from twtop.model import Snapshot


@dataclass
class SnapshotReady(Message):
    """A poll finished; a newer one replaces an older one still queued (no backlog)."""

    snapshot: Snapshot
    findings: tuple[Finding, ...]

    def can_replace(self, message: Message) -> bool:
        """Drop a stale snapshot that was not handled yet."""
        return isinstance(message, SnapshotReady)


@dataclass
class PollFailed(Message):
    """A poll failed (namespace gone, permission); the last good data stays on screen."""

    error: str

    def can_replace(self, message: Message) -> bool:
        """Only the newest error matters."""
        return isinstance(message, PollFailed)


@dataclass
class FilterHint(Message):
    """The active filter matched nothing, and what to try instead (twtop.hints)."""

    filter: str
    hint: str
