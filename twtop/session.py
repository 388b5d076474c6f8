"""The netlink session: one NETLINK_SOCK_DIAG socket in the polled namespace.

It owns the sequence numbers, the choice between one TCPDIAG_GETSOCK walk for both families and
(kernels without it) one SOCK_DIAG_BY_FAMILY dump per family, the mapping of kernel errors to
twtop's errors, the dump loop and the exact lookup of one socket.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator

from twtop import netns as netns_mod
from twtop import wire
from twtop.errors import UnavailableError

Chunk = tuple[bytes, int, list[wire.Row] | None]


class _CompatRefused(Exception):
    """The kernel does not take this request form."""


class Session:
    """Dumps and lookups over one netlink socket, reopened when the namespace changes."""

    def __init__(self, netns_path: str | None = None) -> None:
        self.netns_path = netns_path
        self._sock: socket.socket | None = None
        self._seq = 0
        self._sock_ns = 0  # inode of the namespace the netlink socket was made in
        self._compat = True  # one TCPDIAG_GETSOCK walk for both families while the kernel takes it
        #: How many namespaces this session has followed (a change means: forget deltas).
        self.generation = 0
        #: Decode statistics of each dump since ``reset_stats``.
        self.stats: list[wire.DecodeStats] = []

    def close(self) -> None:
        """Close the netlink socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def reset_stats(self) -> None:
        """Start counting dumps afresh."""
        self.stats = []

    def _ns_inode(self) -> int:
        assert self.netns_path is not None
        try:
            return os.stat(self.netns_path).st_ino
        except OSError:
            raise UnavailableError(f"network namespace {self.netns_path} is gone") from None

    def socket(self) -> socket.socket:
        """The netlink socket, (re)opened in the namespace the name points at now."""
        # A netlink socket stays in the namespace it was made in: if the name now points at
        # another namespace (deleted and re-added), start over in the new one.
        moved = self.netns_path is not None and self._ns_inode() != self._sock_ns
        if self._sock is not None and moved:
            self.close()
        if self._sock is None:
            ino = self._ns_inode() if self.netns_path is not None else 0
            if ino != self._sock_ns or not self.generation:
                self.generation += 1
            self._sock_ns = ino
            with netns_mod.entered(self.netns_path):
                try:
                    self._sock = wire.open_socket()
                except wire.SockDiagError as exc:
                    raise UnavailableError(
                        f"sock_diag unavailable: {exc.strerror} (is CONFIG_INET_DIAG enabled and "
                        "the tcp_diag module loaded?)"
                    ) from None
        return self._sock

    def next_seq(self) -> int:
        """A fresh sequence number (never 0)."""
        self._seq = (self._seq + 1) & 0xFFFFFFFF or 1
        return self._seq

    def chunks(self, states: int, prog: bytes = b"") -> Iterator[Chunk]:
        """One dump of both families: a single TCPDIAG_GETSOCK walk, or (kernels without it) one
        SOCK_DIAG_BY_FAMILY dump per family. Yields ``wire.dump_chunks``'s ``(buf, L, rows)``."""
        if self._compat:
            try:
                yield from self._dump(wire.build_compat_request(states, self.next_seq(), prog))
                return
            except _CompatRefused:
                self._compat = False
        for fam in (socket.AF_INET, socket.AF_INET6):
            req = wire.build_request(fam, states, self.next_seq(), bytecode=prog)
            try:
                yield from self._dump(req)
            except _CompatRefused:
                if fam == socket.AF_INET:
                    raise UnavailableError(
                        "sock_diag: the kernel refused the dump request"
                    ) from None

    def rows(self, states: int, prog: bytes = b"") -> Iterator[list[wire.Row]]:
        """The decoded rows of one dump, a receive buffer at a time."""
        for buf, length, rows in self.chunks(states, prog):
            if length:
                yield wire.unpack_rows(buf, length)
            elif rows:
                yield rows

    def _dump(self, req: bytes) -> Iterator[Chunk]:
        sock = self.socket()
        stats = wire.DecodeStats()
        self.stats.append(stats)
        try:
            yield from wire.dump_chunks(sock, req, stats, self._seq)
        except wire.SockDiagError as exc:
            self.close()  # the socket may hold the rest of a dump: start clean next time
            if exc.errno in (errno.EPERM, errno.EACCES):
                raise UnavailableError(f"sock_diag: permission denied ({exc.strerror})") from None
            if exc.errno in (errno.EINVAL, errno.ENOENT, errno.EOPNOTSUPP) and stats.messages == 0:
                raise _CompatRefused() from None
            raise UnavailableError(f"sock_diag dump failed: {exc.strerror}") from None
        except OSError as exc:
            self.close()
            raise UnavailableError(f"sock_diag dump failed: {exc.strerror}") from None
        finally:
            if not stats.done:  # abandoned mid-dump (a cancelled page): the rest is unread
                self.close()

    def lookup(self, request: bytes) -> bytes | None:
        """Send an exact-lookup request (built with ``next_seq()``); the reply, or None when the
        socket failed (it is reopened next time)."""
        s = self.socket()
        s.send(request)
        try:
            return s.recv(wire.RECV_SIZE)
        except OSError:
            self.close()
            return None
