"""Socket inode -> owning process, by scanning /proc/PID/fd (names and users through psutil).

The scan costs one readlink per open file descriptor on the machine, so it is cached: a poll reuses
the last map and rescans only when it meets inodes the map does not know and the map is older than
``refresh_s``. TIME_WAIT, request and orphaned sockets have inode 0 and never map to a process.

After each poll ``after_poll`` applies the rescan policy: sockets seen unowned in two polls in a
row trigger a (rate-limited) rescan -- short-lived sockets of an accept-and-close loop never do --
and a CLOSE_WAIT seen unowned for the first time triggers one at once, so a new CLOSE_WAIT pile is
named by the next poll. Those immediate rescans are bounded: each inode triggers at most one (an
owner the scan cannot see, e.g. another user's process when not root, is not looked for again),
and they run at most once per ``CW_RESCAN_MIN_S`` and at most ``1 / CW_RESCAN_COST`` of the time
(the last scan's duration x CW_RESCAN_COST must have passed), so CLOSE_WAITs of a churning server
cannot turn the scan into a loop.
Reading other users' /proc/PID/fd needs root; unprivileged, only one's own processes are mapped.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from functools import partial

import psutil

from twtop.identity import IdentityCache
from twtop.model import Owner
from twtop.safe import sanitize

#: Immediate rescans for new unowned CLOSE_WAITs: at most one per this many seconds ...
CW_RESCAN_MIN_S = 1.0
#: ... and only after CW_RESCAN_COST times the last scan's duration (at most 1/20 of the time).
CW_RESCAN_COST = 20


#: How long a live socket's owner is remembered after it was last seen (by cookie): up to
#: tcp_fin_timeout as an orphaned FIN_WAIT2 (60 s by default), then 60 s of TIME_WAIT.
REMEMBER_S = 120.0
#: At most this many sockets remembered per generation (three generations are kept).
REMEMBER_MAX = 100_000


class CookieOwners:
    """The owner of each socket seen live, by socket cookie, so the TIME_WAIT (or orphan) it
    becomes -- which keeps the cookie (kernel-facts section 3) but has no file descriptor -- can
    name the process that made it.

    Memory is bounded: entries live in generations of REMEMBER_S / 2 seconds; the current one and
    the two before are kept (an entry lasts REMEMBER_S to 1.5 x REMEMBER_S after the socket was
    last seen live), each holding at most REMEMBER_MAX cookies (``dropped`` counts the rest).
    Recording is C-speed (dict.update over the poll's cookie and pid columns)."""

    def __init__(self) -> None:
        self._gens: list[dict[int, int]] = [{}, {}, {}]  # cookie -> pid, newest first
        self._all: dict[int, int] = {}  # the generations merged (newest wins): one lookup
        self._owners: dict[int, Owner] = {}
        self._started = time.monotonic()
        self.dropped = 0

    def remember(
        self, cookies: list[int], pids: list[int], owner: Callable[[int], Owner | None]
    ) -> None:
        """Record the owners (``pids``, named by ``owner``) of sockets seen live now."""
        now = time.monotonic()
        if now - self._started >= REMEMBER_S / 2:
            self._gens = [{}, *self._gens[:2]]
            self._started = now
            self._all = {k: v for gen in reversed(self._gens) for k, v in gen.items()}
            kept = set().union(*(g.values() for g in self._gens))
            self._owners = {p: o for p, o in self._owners.items() if p in kept}
        cur = self._gens[0]
        if len(cur) + len(cookies) > REMEMBER_MAX:
            room = max(0, REMEMBER_MAX - len(cur))
            new = [i for i, c in enumerate(cookies) if c not in cur]
            self.dropped += max(0, len(new) - room)
            drop = set(new[room:])
            keep = [i for i in range(len(cookies)) if i not in drop]
            cookies, pids = [cookies[i] for i in keep], [pids[i] for i in keep]
        cur.update(zip(cookies, pids, strict=True))
        self._all.update(zip(cookies, pids, strict=True))
        for pid in set(pids):
            o = owner(pid)
            if o is not None:
                self._owners[pid] = o

    def get(self, cookie: int) -> Owner | None:
        """The owner remembered for a cookie, newest first."""
        pid = self._all.get(cookie)
        return None if pid is None else self._owners.get(pid)

    def pids(self) -> dict[int, int]:
        """cookie -> pid of every remembered socket (read-only; for bulk ``map(d.get, ...)``)."""
        return self._all

    def owner(self, pid: int) -> Owner | None:
        """The Owner of a pid that made a remembered socket (it may have exited since)."""
        return self._owners.get(pid)

    def __len__(self) -> int:
        return len(self._all)


def socket_inodes(fd_dir: str) -> list[int]:
    """The socket inodes among a process's open files (``fd_dir``: its /proc/PID/fd).

    One readlink per file descriptor is the whole cost of a scan (most of it in the kernel), so
    the directory is opened once and each link read relative to it (no path walk from /proc per
    descriptor), and the Python work per descriptor is one C-level call. Raises OSError when the
    directory cannot be read (PermissionError: another user's process, when not root)."""
    dfd = os.open(fd_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        names = os.listdir(dfd)
        try:
            targets = list(map(partial(os.readlink, dir_fd=dfd), names))
        except OSError:  # a descriptor closed meanwhile: read the rest one by one
            targets = []
            for fd in names:
                with contextlib.suppress(OSError):
                    targets.append(os.readlink(fd, dir_fd=dfd))
    finally:
        os.close(dfd)
    return [int(t[8:-1]) for t in targets if t.startswith("socket:[")]


class ProcessMap:
    """A cached inode -> Owner map."""

    def __init__(self, refresh_s: float = 5.0, proc: str = "/proc") -> None:
        self.refresh_s = refresh_s
        self.proc = proc
        self._by_inode: dict[int, int] = {}
        self._owners: dict[int, Owner] = {}
        self.scanned_at = 0.0
        self.scan_ms = 0.0
        self.unreadable = 0  # processes whose fds could not be read in the last scan
        self.scans = 0
        self.identities = IdentityCache(proc)  # service name, unit, container per (pid, start)
        self._unowned_before: set[int] = set()
        self._cw_looked_for: set[int] = set()  # unowned CLOSE_WAIT inodes a scan already sought
        self._cw_scan_at = -1e9
        #: False for a one-shot report: nothing polls after the last poll, so a rescan it would
        #: trigger is wasted (the report scans once, right before its full poll).
        self.rescan_after_poll = True

    def after_poll(self, unowned: set[int], unowned_cw: set[int]) -> bool:
        """Apply the rescan policy to a poll's unowned inodes (and the CLOSE_WAITs among them);
        return whether the map was rescanned."""
        if not self.rescan_after_poll:
            return False
        persistent = unowned & self._unowned_before
        self._unowned_before = unowned
        self._cw_looked_for &= unowned_cw  # forget the ones that are gone or now owned
        now = time.monotonic()
        wait = max(CW_RESCAN_MIN_S, CW_RESCAN_COST * self.scan_ms / 1000)
        if unowned_cw - self._cw_looked_for and now - self._cw_scan_at >= wait:
            self._cw_looked_for |= unowned_cw
            self._cw_scan_at = now
            self._scan()
            return True
        return bool(persistent) and self.refresh(unknown=True)

    def pid_of(self) -> dict[int, int]:
        """The current inode -> pid dict (for bulk ``map(d.get, inodes)``)."""
        return self._by_inode

    def owner(self, pid: int) -> Owner | None:
        """The Owner of a pid seen in the last scan."""
        return self._owners.get(pid)

    def refresh(
        self, inodes: Iterable[int] = (), force: bool = False, unknown: bool = False
    ) -> bool:
        """Rescan when forced, on first use, or when sockets with unknown inodes were seen
        (``unknown``, or some of ``inodes``) and the map is older than ``refresh_s``."""
        now = time.monotonic()
        if not force and self.scans:
            if now - self.scanned_at < self.refresh_s:
                return False
            known = self._by_inode
            if not unknown and all(i in known for i in inodes if i):
                return False
        self._scan()
        return True

    def _scan(self) -> None:
        t0 = time.perf_counter()
        by_inode: dict[int, int] = {}
        unreadable = 0
        try:
            entries = os.listdir(self.proc)
        except OSError:
            entries = []
        for name in entries:
            if not name.isdigit():
                continue
            try:
                inodes = socket_inodes(f"{self.proc}/{name}/fd")
            except PermissionError:
                unreadable += 1
                continue
            except OSError:
                continue
            if inodes:
                by_inode.update(dict.fromkeys(inodes, int(name)))
        pids = set(by_inode.values())
        owners = {}
        for pid in pids:
            try:
                p = psutil.Process(pid)
                with p.oneshot():
                    name = p.name()
                    try:
                        user = p.username()
                    except (KeyError, psutil.Error):
                        user = str(p.uids().real)
            except psutil.Error:
                continue
            ident = self.identities.get(pid)  # names are data: sanitised there and here
            owners[pid] = (
                Owner(pid, ident.service, sanitize(user), ident.comm, ident.unit, ident.container)
                if ident is not None
                else Owner(pid, sanitize(name), sanitize(user))
            )
        self._by_inode = by_inode
        self._owners = owners
        self.unreadable = unreadable
        self.scanned_at = time.monotonic()
        self.scan_ms = (time.perf_counter() - t0) * 1000
        self.scans += 1
