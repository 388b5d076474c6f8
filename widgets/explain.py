"""Explainer panes: a strip for the selected peer, and the full explanation of one socket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from twtop.explain import explain_peer, explain_socket
from twtop.knowledge import PHRASES, STATE_TEXT
from twtop.knowledge_ui import UI_WORDS
from twtop.model import PeerRow, Snapshot, Socket
from twtop.states import TcpState as S

if TYPE_CHECKING:
    from twtop.tcpinfo import TcpInfo


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
        w = UI_WORDS[lang]
        lines = explain_peer(row, snap, lang)[:shown] or [
            w["strip_fallback"].format(peer=row.peer, n=row.total)
        ]
        text = Text("\n".join(lines), no_wrap=False)
        text.append(w["strip_enter"], style="dim")
        self.update(text)


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
        read (the explainer says when a minisocket's timer ran out: it is gone)."""
        exp = explain_socket(sock, snap, lang, info, elapsed_ms)
        # wrap to what is left of the screen after padding and the scrollbar (2 + 2 columns)
        self.update(Text(exp.render(max(40, self.app.size.width - 4))))
