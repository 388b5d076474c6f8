"""Socket inode -> owning process, by scanning /proc/PID/fd (names and users through psutil).

The scan costs one readlink per open file descriptor on the machine, so it is cached: a poll reuses
the last map and rescans only when it meets inodes the map does not know and the map is older than
``refresh_s``. TIME_WAIT, request and orphaned sockets have inode 0 and never map to a process.
Reading other users' /proc/PID/fd needs root; unprivileged, only one's own processes are mapped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

import psutil

from twtop.identity import IdentityCache
from twtop.model import Owner
from twtop.safe import sanitize


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
        pids: set[int] = set()
        unreadable = 0
        try:
            entries = os.listdir(self.proc)
        except OSError:
            entries = []
        for name in entries:
            if not name.isdigit():
                continue
            pid = int(name)
            fd_dir = f"{self.proc}/{name}/fd"
            try:
                fds = os.scandir(fd_dir)
            except PermissionError:
                unreadable += 1
                continue
            except OSError:
                continue
            with fds:
                for entry in fds:
                    try:
                        target = os.readlink(entry.path)
                    except OSError:
                        continue
                    if target.startswith("socket:["):
                        by_inode[int(target[8:-1])] = pid
                        pids.add(pid)
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
