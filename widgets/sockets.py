"""The sockets of one peer: state, endpoints, timer counting down, retransmits, queues, owner."""

from __future__ import annotations

from rich.console import JustifyMethod
from rich.text import Text
from textual.widgets import DataTable

from twtop.model import Socket
from twtop.text import ms as fmt_ms
from widgets.format import Plain, compact

#: (key, label, width) with cell padding 0: fits 80 columns up to WQ; PROCESS scrolls in.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("state", "STATE", 12),
    ("local", "LOCAL", 22),
    ("remote", "REMOTE", 22),
    ("timer", "TIMER", 11),
    ("rq", "RQ", 5),
    ("wq", "WQ", 5),
    ("process", "  PROCESS", 24),
)
#: Short timer kinds: the state column already says TIME_WAIT.
_KIND = {"on": "rto ", "keepalive": "ka ", "timewait": "", "persist": "zwp "}
#: Sockets listed at most in a drill-down.
MAX_SOCKETS = 500


def timer_cell(sock: Socket, elapsed_ms: int) -> Text:
    """``timewait 42.1s`` counting down; retransmits after a slash."""
    if not sock.timer:
        return Text("-", style="dim")
    left = max(0, sock.expires_ms - elapsed_ms)
    extra = f"/{sock.retrans}" if sock.retrans else ""
    kind = _KIND.get(sock.timer_name, sock.timer_name + " ")
    return Text(f"{kind}{fmt_ms(left).replace(' ', '')}{extra}")


class SocketTable(DataTable[object]):
    """Sockets keyed by cookie, so the cursor stays on its socket across refreshes."""

    DEFAULT_CSS = """
    SocketTable { height: 1fr; border: round $primary; border-title-align: left;
                  scrollbar-size-vertical: 1; }
    """

    def __init__(self) -> None:
        super().__init__(cursor_type="row", id="sockets", cell_padding=0)
        self.by_key: dict[str, Socket] = {}

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label, width in COLUMNS:
            justify: JustifyMethod = "right" if key in ("rq", "wq") else "left"
            self.add_column(Text(label, justify=justify), key=key, width=width)

    def update_sockets(self, socks: list[Socket], elapsed_ms: int = 0) -> None:
        """Apply a new list as a diff; timers are redrawn from ``elapsed_ms``."""
        wanted = {s.key: s for s in socks[:MAX_SOCKETS]}
        with self.app.batch_update():
            for key in list(self.by_key):
                if key not in wanted:
                    self.remove_row(key)
                    del self.by_key[key]
            for key, s in wanted.items():
                owner = f"{s.owner.name}[{s.owner.pid}]" if s.owner else ("orphan" if s.orphan
                                                                          else "-")  # fmt: skip
                cells = {
                    "state": s.state.name,
                    "local": s.local_ep,
                    "remote": s.remote_ep,
                    "timer": timer_cell(s, elapsed_ms),
                    "rq": Text(compact(s.rqueue), justify="right"),
                    "wq": Text(compact(s.wqueue), justify="right"),
                    "process": Plain("  " + owner),
                }
                if key in self.by_key:
                    for col, value in cells.items():
                        self.update_cell(key, col, value)
                else:
                    self.add_row(*(cells[k] for k, _l, _w in COLUMNS), key=key)
                self.by_key[key] = s
        more = len(socks) - len(wanted)
        self.border_subtitle = f"+{more:,} more" if more > 0 else f"{len(wanted)} sockets"

    def tick(self, elapsed_ms: int) -> None:
        """Count the timers down between refreshes."""
        for key, s in self.by_key.items():
            if s.timer:
                self.update_cell(key, "timer", timer_cell(s, elapsed_ms))

    def selected(self) -> Socket | None:
        """The socket under the cursor."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - no cursor row
            return None
        return self.by_key.get(key or "")
