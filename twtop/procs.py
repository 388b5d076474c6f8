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

Only the processes in the polled network namespace are read in full (one stat of /proc/PID/ns/net,
and of each thread's when the leader's differs: a thread may have entered another namespace
alone), so another namespace's crowd of sockets costs nothing. But a socket belongs to the
namespace it was made in, not to its holder's (kernel-facts section 9): a process elsewhere can
hold the polled namespace's sockets -- made by a thread that entered it and left (tools that
setns for a moment, this project's own tests), or passed to it (SCM_RIGHTS, pidfd_getfd). So
processes outside are read too while they are small (at most ``OUTSIDE_FDS_MAX`` descriptors
each, the open-file count /proc/PID/fd's stat gives since Linux 6.2, FDSize before) and only up
to ``OUTSIDE_FDS_BUDGET`` descriptors in all; the big ones are skipped and counted. Socket inodes
are unique across namespaces, so reading more processes can never misname a socket; a socket
only a skipped process holds stays unowned -- never guessed. A live socket still unowned after a
rescan that came after it was seen triggers a wide scan (every process, keeping the holders of
those sockets only), at most once per ``WIDE_MIN_S`` and ``WIDE_COST`` times the last wide
scan's duration; a one-shot report does no wide scan and its note says what it skipped.
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
#: A process outside the polled namespace is read when it has at most this many descriptors ...
OUTSIDE_FDS_MAX = 4096
#: ... while the outside processes read so far hold at most this many in all (~70 ms of readlink).
OUTSIDE_FDS_BUDGET = 20_000
#: A wide scan (processes of every namespace) at most once per this many seconds ...
WIDE_MIN_S = 60.0
#: ... and after this many times the last wide scan's duration.
WIDE_COST = 20


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
    read = partial(os.readlink, dir_fd=dfd)
    targets: list[str] = []
    try:
        # The directory's size is its count of open descriptors (Linux 6.2+): when they are
        # 0..n-1 -- the usual case, and the whole of a process holding 300k sockets -- read them
        # without listing the directory (a listing costs a fifth of the reads).
        dense = os.fstat(dfd).st_size
        try:
            targets.extend(map(read, map(str, range(dense))))
            names: list[str] = []
        except OSError:  # a hole: list the directory, read the names not read yet
            names = [n for n in os.listdir(dfd) if not n.isdigit() or int(n) >= len(targets)]
        if not dense:  # an older kernel (size 0), or no descriptor at all
            names = os.listdir(dfd)
        try:
            targets.extend(map(read, names))
        except OSError:  # a descriptor closed meanwhile: read the rest one by one
            for fd in names:
                with contextlib.suppress(OSError):
                    targets.append(read(fd))
    finally:
        os.close(dfd)
    return [int(t[8:-1]) for t in targets if t.startswith("socket:[")]


class ProcessMap:
    """A cached inode -> Owner map."""

    def __init__(
        self, refresh_s: float = 5.0, proc: str = "/proc", netns: str | None = None
    ) -> None:
        self.refresh_s = refresh_s
        self.proc = proc
        #: The polled namespace's file (an nsfs file; None: our own): only its processes are
        #: scanned (a wide scan apart).
        self.netns = netns
        self.other_ns = 0  # processes in other namespaces the last scan skipped (too big)
        self.narrow = True  # whether the last scan skipped them (False: all, or no target)
        self.ns_note = ""  # why the last scan could not tell namespaces apart
        self._missed: set[int] = set()  # unowned inodes a narrow rescan was made for
        self._wide_at = -1e9
        self.wide_ms = 0.0
        #: Holders outside the namespace that the last wide scan found for unowned sockets,
        #: kept (under the narrow scans' finds) until the next wide scan.
        self._outside: dict[int, int] = {}
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
        if self._wide_due(persistent):
            return True
        now = time.monotonic()
        wait = max(CW_RESCAN_MIN_S, CW_RESCAN_COST * self.scan_ms / 1000)
        if unowned_cw - self._cw_looked_for and now - self._cw_scan_at >= wait:
            self._cw_looked_for |= unowned_cw
            self._cw_scan_at = now
            self._scan()
            self._missed = persistent if self.narrow else set()
            return True
        if persistent and self.refresh(unknown=True):
            self._missed = persistent if self.narrow else set()
            return True
        return False

    def _wide_due(self, persistent: set[int]) -> bool:
        """Scan every process when live sockets stayed unowned through a narrow rescan made
        after they were seen (their holder is in another namespace, or gone); rate-limited."""
        missed = persistent & self._missed
        if not missed:
            return False
        now = time.monotonic()
        if now - self._wide_at < max(WIDE_MIN_S, WIDE_COST * self.wide_ms / 1000):
            return False
        self._missed = set()
        self._wide_at = now
        narrow_ms = self.scan_ms
        self._scan(wide=missed)
        self.wide_ms, self.scan_ms = self.scan_ms, narrow_ms  # the CLOSE_WAIT wait: narrow's
        return True

    def notes(self, unowned: int) -> tuple[str, ...]:
        """What a reader should know about the last scan, given how many live sockets (inode
        known) were left without an owner."""
        if self.ns_note:
            return (self.ns_note,)
        if unowned and self.narrow and self.other_ns:
            return (
                f"{unowned} sockets without a known owner; {self.other_ns} processes in other "
                "network namespaces, too big to read every time, were skipped (a socket passed "
                "to one, or made before it left this namespace, has no owner here)",
            )
        return ()

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

    def _target(self) -> tuple[int, int] | None:
        """(st_dev, st_ino) of the polled namespace; None (and a note) when it cannot be read."""
        path = self.netns or f"{self.proc}/self/ns/net"
        try:
            st = os.stat(path)
        except OSError as exc:
            self.ns_note = (
                f"cannot read the network namespace of {sanitize(path)} ({exc.strerror}): "
                "the processes of every namespace were scanned"
            )
            return None
        self.ns_note = ""
        return st.st_dev, st.st_ino

    def _in_ns(self, name: str, target: tuple[int, int]) -> bool:
        """Whether process ``name`` (or one of its threads) is in the ``target`` namespace.
        Raises PermissionError when that cannot be read (another user's process, not root)."""
        try:
            st = os.stat(f"{self.proc}/{name}/ns/net")
        except FileNotFoundError:
            return False  # gone, or a zombie: no file descriptors either
        if (st.st_dev, st.st_ino) == target:
            return True
        try:
            tids = os.listdir(f"{self.proc}/{name}/task")
        except OSError:
            return False
        for tid in tids:
            if tid == name:
                continue
            with contextlib.suppress(OSError):
                st = os.stat(f"{self.proc}/{name}/task/{tid}/ns/net")
                if (st.st_dev, st.st_ino) == target:
                    return True
        return False

    def _fd_count(self, name: str) -> int:
        """How many descriptors process ``name`` has open (FDSize, its table's size, on kernels
        before 6.2); a big number when neither can be read."""
        with contextlib.suppress(OSError):
            n = os.stat(f"{self.proc}/{name}/fd").st_size
            if n:
                return n
            with open(f"{self.proc}/{name}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"FDSize:"):
                        return int(line.split()[1])
        return OUTSIDE_FDS_BUDGET + 1

    def _name_owners(self, pids: set[int]) -> dict[int, Owner]:
        """The Owner (name, user, service identity) of each pid still running."""
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
        return owners

    def _scan(self, wide: set[int] | None = None) -> None:
        """Map the sockets of the processes in the polled namespace; ``wide``: of every process,
        keeping the outside holders of those inodes only."""
        t0 = time.perf_counter()
        by_inode: dict[int, int] = {}
        outside: dict[int, int] = {}
        unreadable = other = 0
        target = self._target()
        budget = OUTSIDE_FDS_BUDGET
        try:
            entries = os.listdir(self.proc)
        except OSError:
            entries = []
        for name in entries:
            if not name.isdigit():
                continue
            try:
                inside = target is None or self._in_ns(name, target)
                if not inside and wide is None:
                    n = self._fd_count(name)
                    if n > OUTSIDE_FDS_MAX or n > budget:
                        other += 1
                        continue
                    budget -= n
                    inside = True  # small: read in full (it may hold sockets from here)
                inodes = socket_inodes(f"{self.proc}/{name}/fd")
            except PermissionError:
                unreadable += 1
                continue
            except OSError:
                continue
            if inside:
                by_inode.update(dict.fromkeys(inodes, int(name)))
            elif wide is not None:
                outside.update(dict.fromkeys(wide.intersection(inodes), int(name)))
        if wide is not None:
            self._outside = outside
        if self._outside:  # the narrow scan's finds win
            by_inode = {**self._outside, **by_inode}
        owners = self._name_owners(set(by_inode.values()))
        self._by_inode = by_inode
        self._owners = owners
        self.unreadable = unreadable
        self.other_ns = other
        self.narrow = target is not None and wide is None
        self.scanned_at = time.monotonic()
        self.scan_ms = (time.perf_counter() - t0) * 1000
        self.scans += 1
