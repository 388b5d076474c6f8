"""Explainer panes: a strip for the selected peer, and the full explanation of one socket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from twtop.explain import explain_peer, explain_socket
from twtop.model import PeerRow, Snapshot, Socket

if TYPE_CHECKING:
    from twtop.detail import TcpInfo


class ExplainerStrip(Static):
    """One or two lines about the selected peer (what its states mean here, and Enter)."""

    DEFAULT_CSS = """
    ExplainerStrip { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    ExplainerStrip.-narrow { max-height: 2; }
    """

    def show(self, row: PeerRow | None, snap: Snapshot | None, lang: str) -> None:
        """Explain ``row`` (or nothing)."""
        if row is None or snap is None:
            self.update("")
            return
        shown = 2 if self.app.size.height >= 30 else 1
        lines = explain_peer(row, snap, lang)[:shown] or [f"{row.peer}: {row.total} sockets"]
        text = Text("\n".join(lines), no_wrap=False)
        text.append("  (Enter: its sockets)", style="dim")
        self.update(text)


class ExplanationView(Static):
    """The full explanation of one socket: handshake diagram, timer, reuse, what to do."""

    DEFAULT_CSS = """
    ExplanationView { padding: 0 1; }
    """

    def show(
        self,
        sock: Socket,
        snap: Snapshot | None,
        lang: str,
        elapsed_ms: int = 0,
        info: TcpInfo | None = None,
    ) -> None:
        """Render the explanation; ``elapsed_ms`` counts the timer down since the socket was
        read."""
        if elapsed_ms and sock.expires_ms:
            from dataclasses import replace

            sock = replace(sock, expires_ms=max(0, sock.expires_ms - elapsed_ms))
        self.update(Text(explain_socket(sock, snap, lang, info).render()))
