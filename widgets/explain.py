"""Explainer panes: a strip for the selected peer, and the full explanation of one socket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from twtop.explain import Explanation, explain_peer, explain_socket
from twtop.knowledge import PHRASES, STATE_TEXT
from twtop.knowledge_screen import SCREEN_WORDS
from twtop.knowledge_ui import UI_WORDS
from twtop.model import PeerRow, Snapshot, Socket
from twtop.states import TcpState as S
from twtop.text import cols, wrap

if TYPE_CHECKING:
    from twtop.tcpinfo import TcpInfo


class ExplainerStrip(Static):
    """One or two lines about the selected peer (what its states mean here, and Enter)."""

    DEFAULT_CSS = """
    ExplainerStrip { height: auto; max-height: 3; padding: 0 1; color: $text-muted;
                     text-wrap: nowrap; text-overflow: ellipsis; }
    ExplainerStrip.-narrow { max-height: 2; }
    """

    _shown: tuple[PeerRow | None, Snapshot | None, str] | None = None
    _text: Text | None = None

    def show(self, row: PeerRow | None, snap: Snapshot | None, lang: str) -> None:
        """Explain ``row`` (or nothing)."""
        self._shown = (row, snap, lang)
        if row is None or snap is None:
            self._text = None
            self.update("")
            return
        shown = 2 if self.app.size.height >= 30 else 1
        lines = explain_peer(row, snap, lang)[:shown] or [
            UI_WORDS[lang]["strip_fallback"].format(peer=row.peer, n=row.total)
        ]
        # wrapped here, once, at the strip's own columns: the hint goes at the end of the last
        # line only when it fits there, never onto a line of its own
        width = self.size.width or max(20, self.app.size.width - 2)
        body = wrap("\n".join(lines), width).split("\n")[: 3 if shown > 1 else 2]
        text = Text("\n".join(body), no_wrap=True, overflow="ellipsis")
        hint = SCREEN_WORDS[lang]["strip_hint"]  # with its language's brackets
        if cols(body[-1]) + cols(hint) <= width:
            text.append(hint, style="dim")
        if text != self._text:  # update() re-lays out the screen: not every poll for nothing
            self._text = text
            self.update(text)

    def on_resize(self) -> None:
        """Wrap again at the new width."""
        if self._shown is not None:
            self.show(*self._shown)


class PeerPanel(Static):
    """The full explanation beside the peer table when the terminal is wide: what the selected
    peer's dominant state means here, what it waits for, when it is a problem, what to do."""

    DEFAULT_CSS = """
    PeerPanel { width: 60; height: 1fr; border: round $primary; padding: 0 1;
                border-title-align: left; display: none; }
    """

    #: Columns from which the panel is shown.
    MIN_WIDTH = 150

    def show(self, row: PeerRow | None, snap: Snapshot | None, lang: str) -> None:
        """Explain ``row``'s most telling state (the first of the non-ESTABLISHED ones it has)."""
        if row is None or snap is None:
            self.update("")
            return
        order = (S.CLOSE_WAIT, S.TIME_WAIT, S.FIN_WAIT2, S.SYN_RECV, S.LAST_ACK, S.FIN_WAIT1,
                 S.CLOSING, S.SYN_SENT, S.ESTABLISHED, S.LISTEN, S.CLOSE)  # fmt: skip
        state = next((st for st in order if row.count(st)), S.ESTABLISHED)
        text = STATE_TEXT[lang][state]
        p = PHRASES[lang]
        self.border_title = Text(f"{row.peer}: {state.name}")
        body = "\n".join(explain_peer(row, snap, lang))
        body += f"\n\n{state.name} — {text['role']}\n\n{text['meaning']}\n\n"
        body += f"{p['label_waits']}{p['colon']}{text['waits']}{p['stop']}\n"
        body += f"{p['label_next']}{p['colon']}{text['next']}{p['stop']}\n\n"
        body += f"{p['label_normal']}{p['colon']}{text['normal']}\n"
        body += f"{p['label_problem']}{p['colon']}{text['problem']}\n"
        body += f"{p['label_action']}{p['colon']}{text['action']}"
        self.update(Text(body))


class ExplanationView(Static):
    """The full explanation of one socket: handshake diagram, timer, reuse, what to do."""

    DEFAULT_CSS = """
    ExplanationView { padding: 0 1; text-wrap: nowrap; text-overflow: clip; }
    """

    _text: Explanation | None = None

    def show(
        self,
        sock: Socket,
        snap: Snapshot | None,
        lang: str,
        elapsed_ms: int = 0,
        info: TcpInfo | None = None,
    ) -> None:
        """Render the explanation; ``elapsed_ms`` counts the timer down since the socket was
        read (the explainer says when a minisocket's timer ran out: it is gone)."""
        self._text = explain_socket(sock, snap, lang, info, elapsed_ms)
        self._draw()

    def _draw(self) -> None:
        # Wrapped once, here, at the columns this widget really has (after padding and a
        # scrollbar, which come and go); Textual must not wrap it again (no_wrap), or a line one
        # column too long leaves an orphan word on a line of its own.
        if self._text is None:
            return
        width = self.size.width or max(20, self.app.size.width - 4)  # before the first layout
        self.update(Text(self._text.render(width), no_wrap=True, overflow="crop"))

    def on_resize(self) -> None:
        """Wrap again at the new width (a terminal resize, a scrollbar appearing)."""
        self._draw()
