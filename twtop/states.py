"""TCP states as the kernel numbers them (include/net/tcp_states.h) and as `ss` spells them."""

from __future__ import annotations

import enum


class TcpState(enum.IntEnum):
    """A TCP state number as reported in inet_diag_msg.idiag_state."""

    ESTABLISHED = 1
    SYN_SENT = 2
    SYN_RECV = 3
    FIN_WAIT1 = 4
    FIN_WAIT2 = 5
    TIME_WAIT = 6
    CLOSE = 7
    CLOSE_WAIT = 8
    LAST_ACK = 9
    LISTEN = 10
    CLOSING = 11

    @property
    def ss_name(self) -> str:
        """The spelling `ss` uses in its state column and filters (e.g. ``time-wait``)."""
        return SS_NAMES[self]

    @property
    def short(self) -> str:
        """A short column label (e.g. ``TIME_W``)."""
        return SHORT_NAMES[self]


#: Kernel-only state numbers that can appear on the wire but are folded into the 11 above.
NEW_SYN_RECV = 12  # request sockets; the kernel reports them as SYN_RECV (3)
BOUND_INACTIVE = 13  # bound-only sockets; reported as CLOSE (7)

ALL_STATES: tuple[TcpState, ...] = tuple(TcpState)

#: The one fold of a wire state number into a TcpState (kernel-facts 2): request sockets
#: (NEW_SYN_RECV) are SYN_RECV, bound-only sockets (BOUND_INACTIVE) are CLOSE. A number no kernel
#: sends today is also counted as CLOSE: it is not a connection, and dropping it would make the
#: per-state counts disagree with the total. Bulk paths use ``FOLD.get(n, TcpState.CLOSE)``.
FOLD: dict[int, TcpState] = {
    **{int(s): s for s in TcpState},
    NEW_SYN_RECV: TcpState.SYN_RECV,
    BOUND_INACTIVE: TcpState.CLOSE,
}


def from_wire(n: int) -> TcpState:
    """The TcpState of an idiag_state number (see FOLD for the policy)."""
    return FOLD.get(n, TcpState.CLOSE)


#: Shown even at zero (state counts, the --once table): the states a TIME_WAIT / CLOSE_WAIT
#: triage looks at first, in this order.
KEY_STATES: tuple[TcpState, ...] = (
    TcpState.ESTABLISHED,
    TcpState.TIME_WAIT,
    TcpState.CLOSE_WAIT,
    TcpState.FIN_WAIT2,
    TcpState.SYN_RECV,
)

#: The per-state columns of a peer row (the rest are summed into "other"); also the states by
#: which the engine keeps the top peer groups, so sorting by any of them is right at the top.
PEER_STATES: tuple[TcpState, ...] = KEY_STATES[:4]

#: Sockets in a listing: the states that need a person's attention first.
ATTENTION_ORDER: tuple[TcpState, ...] = (
    TcpState.CLOSE_WAIT,
    TcpState.FIN_WAIT2,
    TcpState.LAST_ACK,
    TcpState.FIN_WAIT1,
    TcpState.CLOSING,
    TcpState.SYN_RECV,
    TcpState.SYN_SENT,
    TcpState.TIME_WAIT,
    TcpState.ESTABLISHED,
    TcpState.LISTEN,
    TcpState.CLOSE,
)
#: Rank of each state in ATTENTION_ORDER (a sort key).
ATTENTION_RANK: dict[TcpState, int] = {s: i for i, s in enumerate(ATTENTION_ORDER)}


class Timer(enum.IntEnum):
    """An idiag_timer value (kernel-facts 3); ``ss_name`` is what `ss -o` prints."""

    OFF = 0  # no timer (expires 0)
    ON = 1  # retransmit / RTO / loss probe; SYN-ACK timer of a request socket
    KEEPALIVE = 2  # sk_timer: keepalive, or an orphan FIN_WAIT2 when tcp_fin_timeout > 60 s
    TIMEWAIT = 3  # TIME_WAIT minisocket timer (substate TIME_WAIT or FIN_WAIT2)
    PERSIST = 4  # zero-window probe

    @property
    def ss_name(self) -> str:
        """``off``, ``on``, ``keepalive``, ``timewait`` or ``persist``."""
        return self.name.lower()


def timer_name(n: int) -> str:
    """The `ss -o` name of a wire timer number (the number itself when unknown)."""
    return Timer(n).ss_name if n in Timer._value2member_map_ else str(n)


SS_NAMES: dict[TcpState, str] = {
    TcpState.ESTABLISHED: "established",
    TcpState.SYN_SENT: "syn-sent",
    TcpState.SYN_RECV: "syn-recv",
    TcpState.FIN_WAIT1: "fin-wait-1",
    TcpState.FIN_WAIT2: "fin-wait-2",
    TcpState.TIME_WAIT: "time-wait",
    TcpState.CLOSE: "unconnected",
    TcpState.CLOSE_WAIT: "close-wait",
    TcpState.LAST_ACK: "last-ack",
    TcpState.LISTEN: "listening",
    TcpState.CLOSING: "closing",
}

SHORT_NAMES: dict[TcpState, str] = {
    TcpState.ESTABLISHED: "ESTAB",
    TcpState.SYN_SENT: "SYN_S",
    TcpState.SYN_RECV: "SYN_R",
    TcpState.FIN_WAIT1: "FIN_W1",
    TcpState.FIN_WAIT2: "FIN_W2",
    TcpState.TIME_WAIT: "TIME_W",
    TcpState.CLOSE: "CLOSE",
    TcpState.CLOSE_WAIT: "CLOSE_W",
    TcpState.LAST_ACK: "LAST_A",
    TcpState.LISTEN: "LISTEN",
    TcpState.CLOSING: "CLOSING",
}

#: idiag_states bit for every state twtop reports (bit 12 NEW_SYN_RECV is selected by bit 3 anyway;
#: bit 13 BOUND_INACTIVE is left out on purpose: bound-only sockets are not connections).
MASK_ALL = sum(1 << s for s in TcpState)

_ALIASES: dict[str, TcpState] = {}
for _s in TcpState:
    _ALIASES[_s.name.lower()] = _s
    _ALIASES[_s.name.lower().replace("_", "-")] = _s
    _ALIASES[SS_NAMES[_s]] = _s
    _ALIASES[SHORT_NAMES[_s].lower()] = _s
_ALIASES.update(
    {
        "estab": TcpState.ESTABLISHED,
        "fin-wait1": TcpState.FIN_WAIT1,
        "fin-wait2": TcpState.FIN_WAIT2,
        "fin_wait_1": TcpState.FIN_WAIT1,
        "fin_wait_2": TcpState.FIN_WAIT2,
        "listen": TcpState.LISTEN,
        "closed": TcpState.CLOSE,
        "tw": TcpState.TIME_WAIT,
    }
)

#: ss's state groups, usable in filters (`state connected`).
STATE_GROUPS: dict[str, frozenset[TcpState]] = {
    "all": frozenset(TcpState),
    "connected": frozenset(TcpState) - {TcpState.LISTEN, TcpState.CLOSE},
    "synchronized": frozenset(TcpState) - {TcpState.LISTEN, TcpState.CLOSE, TcpState.SYN_SENT},
    "bucket": frozenset({TcpState.SYN_RECV, TcpState.TIME_WAIT}),
    "big": frozenset(TcpState) - {TcpState.SYN_RECV, TcpState.TIME_WAIT},
}


def parse_state(word: str) -> TcpState | None:
    """Return the state a user typed (``time-wait``, ``TIME_WAIT``, ``tw`` ...), or None."""
    return _ALIASES.get(word.strip().lower())


def mask_of(states: frozenset[TcpState] | set[TcpState]) -> int:
    """The idiag_states bitmask that selects these states."""
    return sum(1 << s for s in states)
