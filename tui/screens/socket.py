"""One socket's full explanation; its timer keeps counting down."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from twtop.errors import TwtopError
from twtop.model import Socket
from widgets.explain import ExplanationView
from widgets.header import StatusHeader
from widgets.status import StatusBar

if TYPE_CHECKING:
    from tui.app import TwtopApp
    from twtop.tcpinfo import TcpInfo


class SocketScreen(Screen[None]):
    """What this socket's state means, what it waits for, its timer, and what to do."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="back")]
    """Esc goes back to the group's sockets."""

    def __init__(self, sock: Socket, elapsed_ms: int = 0) -> None:
        super().__init__()
        self.sock = sock
        self.elapsed_at_open = elapsed_ms
        self.opened = 0.0
        self.info: TcpInfo | None = None

    @property
    def twtop(self) -> TwtopApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with VerticalScroll():
            yield ExplanationView()
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        """Draw, then redraw every second (the timer counts down)."""
        self.twtop.init_chrome(self)
        self.opened = self.twtop.clock() - self.elapsed_at_open / 1000
        self.redraw()
        self.set_interval(1.0, self.redraw)
        self.fetch_info()

    @work(thread=True, exclusive=True, group="tcp_info", exit_on_error=False)
    def fetch_info(self) -> None:
        """tcp_info by exact lookup (TIME_WAIT and request sockets have none)."""
        try:
            info = self.twtop.source.tcp_info(self.sock)
        except TwtopError:
            return
        if info is not None:
            self.app.call_from_thread(self._got_info, info)

    def _got_info(self, info: TcpInfo) -> None:
        self.info = info
        self.redraw()

    def redraw(self) -> None:
        """Render the explanation with the timer as of now."""
        elapsed = int((self.twtop.clock() - self.opened) * 1000)
        self.query_one(ExplanationView).show(
            self.sock, self.twtop.snapshot, self.twtop.lang, elapsed, self.info
        )
