"""Socket lists straight from kernel-filtered dumps (no full poll): a filter's sockets, a peer
group's (at most a limit, or a page sorted across the group: pages.py), one socket's tcp_info.
The Collector mixes this in; it supplies the sessions, the filter, the process map and
``to_socket``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from twtop import keys, pages, wire
from twtop.budget import Budget
from twtop.build import CloseWaitAges
from twtop.filter import Plan, compile_filter
from twtop.keys import AddrCache, Listeners
from twtop.model import PeerKey, PeerRow, Socket
from twtop.procs import ProcessMap
from twtop.session import Session
from twtop.states import MASK_ALL

if TYPE_CHECKING:
    from twtop.tcpinfo import TcpInfo


class SocketLists:
    """Listing methods of the Collector (see the module docstring)."""

    session: Session
    _pages: Session  # the drill-down's netlink socket, apart from the polls'
    _lock: threading.RLock
    _page_lock: threading.Lock
    plan: Plan
    procs: ProcessMap
    close_wait_ages: CloseWaitAges
    budget: Budget | None

    def _listeners(self) -> Listeners:
        raise NotImplementedError

    def to_socket(
        self, family: int, r: wire.Row, listeners: Listeners | None = None,
        addr: AddrCache | None = None,
    ) -> Socket:  # fmt: skip
        """A decoded row as a Socket (the Collector's)."""
        raise NotImplementedError

    def tcp_info(self, sock: Socket) -> TcpInfo | None:
        """tcp_info of one socket by exact lookup (None: gone, or a TIME_WAIT/request socket,
        which carry no tcp_info)."""
        from twtop.tcpinfo import decode_reply, lookup_request

        with self._lock:
            data = self.session.lookup(lookup_request(sock, self.session.next_seq()))
        if data is None:
            return None
        err, info = decode_reply(data)
        return info if err == 0 else None

    def sockets(self, filter: str | None = None, limit: int | None = None) -> list[Socket]:
        """Sockets matching a filter (default: the active one), straight from a filtered kernel
        dump (no full poll); at most ``limit``, most urgent first (keys.ATTENTION)."""
        plan = compile_filter(filter) if filter is not None else self.plan
        with self._lock:  # the UI asks for sockets while the poll thread dumps
            return self._select(plan.mask, plan.bytecode, plan, None, limit)

    def peer_sockets(self, row: PeerRow, limit: int | None = None) -> list[Socket]:
        """The sockets of one peer group under the active filter, selected in the kernel (state
        mask + bytecode; process groups by owner after a state mask); at most ``limit``, most
        urgent first. Listeners are not peers: a process's list leaves its LISTEN sockets out."""
        with self._lock:
            mask, prog, keep = keys.group_selection(self._key(row), self.plan, self.procs.pid_of())
            test = None if keep is None else (lambda r: keep(r[wire.R_INODE]))
            return self._select(mask, prog, self.plan, test, limit)

    def peer_page(
        self, row: PeerRow, query: pages.PageQuery, seen: pages.Seen,
        cancelled: Callable[[], bool] | None = None,
    ) -> pages.Page:  # fmt: skip
        """One page of a peer group's sockets, sorted across the whole group (pages.py), on a
        netlink socket of its own: a poll running meanwhile does not delay it."""
        selection = keys.group_selection(self._key(row), self.plan, self.procs.pid_of())
        if not seen.now:  # a new drill-down: the CLOSE_WAITs polls have watched keep their age
            seen.first.update(self.close_wait_ages.first_seen)
        with self._page_lock:
            page = pages.fetch_page(self._pages, selection, self.plan.node, query, seen,
                                    self.to_socket, cancelled)  # fmt: skip
        if self.budget is not None:  # one budget for polls and drill-downs (budget.py)
            self.budget.charge(page.cpu_s)
        inodes = [s.inode for s in page.sockets if s.inode]
        if inodes and self._lock.acquire(blocking=False):  # never wait for a poll
            try:
                if self.procs.refresh(inodes):  # owners of sockets newer than the last scan
                    page = replace(page, sockets=tuple(self._owned(s) for s in page.sockets))
            finally:
                self._lock.release()
        return page

    def _owned(self, s: Socket) -> Socket:
        pid = self.procs.pid_of().get(s.inode) if s.inode else None
        owner = self.procs.owner(pid) if pid is not None else None
        return replace(s, owner=owner) if owner is not None else s

    @staticmethod
    def _key(row: PeerRow) -> PeerKey:
        if row.key is None:
            raise ValueError(f"peer row {row.peer!r} has no key (not made by the engine)")
        return row.key

    def _select(
        self, mask: int, prog: bytes, plan: Plan, keep: keys.RowTest | None, limit: int | None
    ) -> list[Socket]:
        """Dump with ``mask``/``prog``, keep what ``plan``'s Python part and ``keep`` accept, and
        decode the ``limit`` most urgent into Sockets."""
        self.session.reset_stats()
        listeners = self._listeners()
        chunks = self.session.rows(mask & MASK_ALL, prog) if mask & MASK_ALL else iter(())
        rows = keys.most_urgent(chunks, plan.node, keep, limit)
        self.procs.refresh(r[wire.R_INODE] for r in rows)
        addr = AddrCache()
        return [self.to_socket(r[wire.R_FAMILY], r, listeners, addr) for r in rows]
