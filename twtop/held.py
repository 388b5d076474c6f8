"""Ports held by bind(): every listener, and the bound-only sockets (idiag_states bit 13).

connect() skips ports in the range held by bind()-ed sockets for every destination
(kernel-facts 6), so the port model subtracts them from each tuple's budget, whatever the filter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from twtop import wire
from twtop.keys import AddrCache, Listeners
from twtop.ports import Bound, bound_only_dumpable
from twtop.states import BOUND_INACTIVE, TcpState

#: idiag_states bit 13: bound-only sockets, reported as CLOSE (kernel-facts 2).
BOUND_BIT = 1 << BOUND_INACTIVE
_BOUND_STATES = (int(TcpState.CLOSE), BOUND_INACTIVE)
#: The bound-only dump walks the whole bind hash in the kernel (measured: about as long as the
#: TIME_WAIT walk of an idle namespace), and bound-only sockets rarely change: re-read at most
#: this often.
BOUND_REFRESH_S = 5.0

Dump = Callable[[int], Iterator[list[wire.Row]]]


class HeldPorts:
    """The bound sockets of one namespace; the bound-only dump cached for BOUND_REFRESH_S."""

    def __init__(self, kernel_release: str) -> None:
        #: Whether this kernel can dump bound-only sockets (Linux 6.8+).
        self.bound_only_known = bound_only_dumpable(kernel_release)
        self._cache: tuple[float, int, tuple[Bound, ...]] | None = None  # when, netns, rows

    def read(
        self, dump: Dump, listeners: Listeners, addr: AddrCache, generation: int,
        refresh: bool = True,
    ) -> tuple[Bound, ...]:  # fmt: skip
        """Every listener's port, and the bound-only sockets (re-dumped when the cache is older
        than BOUND_REFRESH_S or the namespace changed; ``refresh`` False -- the TUI's counts
        polls -- re-dumps only when there is no cache of this namespace: the detail walk
        refreshes it, as the budget allows)."""
        out = [Bound(addr(r[wire.R_SRC], f), wire.port(r[wire.R_SPORT]), True)
               for f, r in listeners.rows]  # fmt: skip
        if self.bound_only_known:
            now, cache = time.monotonic(), self._cache
            stale = refresh and now - cache[0] >= BOUND_REFRESH_S if cache else True
            if cache is None or stale or cache[1] != generation:
                rows = [r for chunk in dump(BOUND_BIT) for r in chunk
                        if r[wire.R_STATE] in _BOUND_STATES]  # fmt: skip
                found = tuple(Bound(addr(r[wire.R_SRC], r[wire.R_FAMILY]),
                                    wire.port(r[wire.R_SPORT]), False) for r in rows)  # fmt: skip
                cache = self._cache = (now, generation, found)
            out += cache[2]
        return tuple(out)
