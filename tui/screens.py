"""Screens: drill-down into a peer's sockets, one socket's explanation, help."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Static

from twtop.errors import TwtopError
from twtop.model import PeerRow, Socket
from twtop.states import TcpState
from twtop.text import endpoint as fmt_endpoint
from widgets.explain import ExplanationView
from widgets.header import StatusHeader
from widgets.sockets import SocketTable

if TYPE_CHECKING:
    from tui.app import TwtopApp
    from twtop.tcpinfo import TcpInfo

#: Every state a process can own (TIME_WAIT and request sockets have no owner).
_OWNABLE = (
    "established,syn-sent,fin-wait-1,fin-wait-2,unconnected,close-wait,last-ack,listening,closing"
)


def peer_filter(row: PeerRow, group: str) -> tuple[str, int | None]:
    """A kernel filter selecting a peer group's sockets, plus a pid to keep (process groups)."""
    if group == "ip":
        return f"dst {_host(row.peer)}", None
    if group == "ipport":
        host, _, port = row.peer.rpartition(":")
        return f"dst {_host(host.strip('[]'))} and dport = {port}", None
    if group == "lport":
        return f"sport = {row.peer}", None
    if row.peer.isdigit():
        return f"state {_OWNABLE}", int(row.peer)
    return "state time-wait", None  # "(no owner)": TIME_WAIT first, the biggest ownerless group


def _host(addr: str) -> str:
    return f"[{addr}]" if ":" in addr else addr


def _init_header(screen: Screen[None]) -> None:
    app: TwtopApp = screen.app  # type: ignore[assignment]
    header = screen.query_one(StatusHeader)
    header.snapshot = app.snapshot
    header.interval = app.interval
    header.paused = app.paused


class PeerScreen(Screen[None]):
    """The sockets of one peer group, refreshed every interval, timers counting down."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

    def __init__(self, row: PeerRow, group: str) -> None:
        super().__init__()
        self.row = row
        self.group = group
        self.fetched_at = 0.0
        self.expr, self.pid = peer_filter(row, group)

    @property
    def twtop(self) -> TwtopApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(id="peer-title")
        yield SocketTable()
        yield Footer()

    def on_mount(self) -> None:
        """Fetch now, then every interval; tick the timers every second."""
        _init_header(self)
        self.query_one("#peer-title", Static).update(
            Text(
                f" {self.row.peer}: {self.row.total} sockets  (filter: {self.expr})"
                "  Enter: explain  Esc: back"
            )
        )
        self.query_one(SocketTable).border_title = Text(f"Sockets of {self.row.peer}")
        self.fetch()
        self.set_interval(self.twtop.interval, self.fetch)
        self.set_interval(1.0, self.tick)

    @work(thread=True, exclusive=True, group="peer", exit_on_error=False)
    def fetch(self) -> None:
        """Read this peer's sockets with a kernel-filtered dump (no full poll)."""
        try:
            socks = self.twtop.source.sockets(self.expr)
        except TwtopError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        if self.pid is not None:
            socks = [s for s in socks if s.owner is not None and s.owner.pid == self.pid]
        self.app.call_from_thread(self._show, socks)

    def _show(self, socks: list[Socket]) -> None:
        self.fetched_at = self.twtop.clock()
        self.query_one(SocketTable).update_sockets(socks)

    def tick(self) -> None:
        """Count timers down between fetches."""
        if self.fetched_at:
            elapsed = int((self.twtop.clock() - self.fetched_at) * 1000)
            self.query_one(SocketTable).tick(elapsed)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter: explain the socket."""
        sock = self.query_one(SocketTable).by_key.get(event.row_key.value or "")
        if sock is not None:
            elapsed = int((self.twtop.clock() - self.fetched_at) * 1000)
            self.app.push_screen(SocketScreen(sock, elapsed))


class SocketScreen(Screen[None]):
    """One socket's full explanation; the timer keeps counting down."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

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
        yield Footer()

    def on_mount(self) -> None:
        """Draw, then redraw every second (the timer counts down)."""
        _init_header(self)
        self.opened = self.twtop.clock() - self.elapsed_at_open / 1000
        self.redraw()
        self.set_interval(1.0, self.redraw)
        self.fetch_info()

    @work(thread=True, exclusive=True, group="tcp_info", exit_on_error=False)
    def fetch_info(self) -> None:
        """tcp_info by exact lookup (not every source has it; TIME_WAIT has none)."""
        lookup = getattr(self.twtop.source, "tcp_info", None)
        if lookup is None:
            return
        try:
            info = lookup(self.sock)
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


HELP = """\
[b]twtop[/b] — a top for TCP connection states

[b]Keys[/b]
  q, ctrl+c      quit
  ?, F1          this help
  /, F4          filter (Enter applies, Esc clears); errors point at the token
  s, F6          sort by the next column;  r  reverse the order
  g              group peers by remote IP → IP:port → local port → process
  space, Z       pause the display (collection continues, history has no gap)
  + / -          slower / faster polling
  Enter          drill down: peer → its sockets → one socket's explanation
  Esc            back
  e              export the current snapshot as JSON (the path is shown)
  ctrl+s         save an SVG screenshot
  ctrl+p         command palette

[b]Filter language[/b] (like ss)
  state time-wait            state established,close-wait
  dst 10.0.0.0/8             src [::1]       dst 10.1.2.3:443
  dport = :443   sport >= 1024   with and / or / not and parentheses

[b]Columns[/b]
  IN: sockets whose local port is a listening port (peers connected here)
  OUT: connections this host opened (they use ephemeral ports)
  TIME_W on OUT means this host closed first; CLOSE_W means the peer closed
  and the owning process has not called close().

twtop only reads: it never changes a sysctl or closes a socket.
"""


class HelpScreen(ModalScreen[None]):
    """Every binding, the filter language, what the columns mean."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close", id="close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP)


__all__ = ["HelpScreen", "PeerScreen", "SocketScreen", "TcpState", "fmt_endpoint", "peer_filter"]
