"""Real sockets in known TCP states, on loopback, for the kernel tests (no fakes)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from bench.loadgen import netns_add
from twtop import netns as netns_mod


def is_root() -> bool:
    """True when the tests may create namespaces and set sysctls."""
    return os.geteuid() == 0


@dataclass
class Population:
    """Sockets a test made; closed (without linger tricks) at the end."""

    keep: list[socket.socket] = field(default_factory=list)

    def listener(self, addr: str = "127.0.0.1", port: int = 0, backlog: int = 128) -> socket.socket:
        """A listening socket."""
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(backlog)
        self.keep.append(s)
        return s

    def connect(self, lst: socket.socket, src: str | None = None) -> socket.socket:
        """A client connected to ``lst`` (not yet accepted)."""
        c = socket.socket(lst.family, socket.SOCK_STREAM)
        if src is not None:
            c.setsockopt(socket.SOL_IP, 24, 1)  # IP_BIND_ADDRESS_NO_PORT: keep port sharing
            c.bind((src, 0))
        c.connect(lst.getsockname()[:2])
        return c

    def established(
        self, lst: socket.socket, n: int = 1
    ) -> list[tuple[socket.socket, socket.socket]]:
        """n ESTABLISHED pairs (client, server)."""
        out = []
        for _ in range(n):
            c = self.connect(lst)
            s, _ = lst.accept()
            self.keep += [c, s]
            out.append((c, s))
        return out

    def time_wait(self, lst: socket.socket, n: int = 1, src: str | None = None) -> None:
        """n client-side TIME_WAITs: the client closes first, then the server."""
        for _ in range(n):
            c = self.connect(lst, src)
            s, _ = lst.accept()
            c.close()
            _wait_readable_eof(s)
            s.close()
        time.sleep(0.05)

    def server_time_wait(self, lst: socket.socket, n: int = 1) -> None:
        """n server-side TIME_WAITs: this host's accepted socket closes first (inbound)."""
        for _ in range(n):
            c = self.connect(lst)
            s, _ = lst.accept()
            s.close()
            _wait_readable_eof(c)
            c.close()
        time.sleep(0.05)

    def close_wait(self, lst: socket.socket, n: int = 1) -> list[socket.socket]:
        """n CLOSE_WAITs on the server side (the client closed; the server never does).

        The client side becomes an orphaned FIN_WAIT2 (a minisocket after close)."""
        out = []
        for _ in range(n):
            c = self.connect(lst)
            s, _ = lst.accept()
            c.close()
            self.keep.append(s)
            out.append(s)
        time.sleep(0.05)
        return out

    def fin_wait2_open(self, lst: socket.socket) -> tuple[socket.socket, socket.socket]:
        """A non-orphan FIN_WAIT2: shutdown(SHUT_WR) with the fd still open, peer silent."""
        c = self.connect(lst)
        s, _ = lst.accept()
        c.shutdown(socket.SHUT_WR)
        self.keep += [c, s]
        time.sleep(0.05)
        return c, s

    def close(self) -> None:
        """Close everything kept."""
        for s in self.keep:
            with contextlib.suppress(OSError):
                s.close()
        self.keep.clear()


def _wait_readable_eof(s: socket.socket, timeout: float = 2.0) -> None:
    s.settimeout(timeout)
    with contextlib.suppress(OSError):
        while s.recv(4096):
            pass


class TestNetns:
    """A network namespace made by a test, with lo up; deleted on close.

    It has a socket hash table of its own (EHASH buckets; tcp_max_tw_buckets kept at the host's
    value): a dump walks only the test's sockets, not every namespace's (a benchmark's 400k-1M
    sockets elsewhere made one dump take 8-9 s under load, close to the 10 s recv timeout)."""

    EHASH = 16384

    __test__ = False

    counter = 0

    def __init__(self) -> None:
        TestNetns.counter += 1
        self.name = f"twtop-test-{os.getpid()}-{TestNetns.counter}"
        netns_add(self.name, self.EHASH)
        self.path = f"/run/netns/{self.name}"
        self.ip("link", "set", "lo", "up")
        with open("/proc/sys/net/ipv4/tcp_max_tw_buckets") as f:
            self.sysctl("net.ipv4.tcp_max_tw_buckets", f.read().strip())

    def ip(self, *args: str) -> None:
        """Run ``ip -n NAME ...``."""
        subprocess.run(["ip", "-n", self.name, *args], check=True)

    def sysctl(self, key: str, value: str) -> None:
        """Set a sysctl inside the namespace."""
        with netns_mod.entered(self.path), open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(value)

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        """Create sockets inside the namespace (the calling thread enters it)."""
        with netns_mod.entered(self.path):
            yield

    def ss(self, *args: str) -> str:
        """``ss`` inside the namespace."""
        out = subprocess.run(
            ["ip", "netns", "exec", self.name, "ss", *args],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    def close(self) -> None:
        """Delete the namespace."""
        subprocess.run(["ip", "netns", "del", self.name], check=False)


def have(tool: str) -> bool:
    """Whether a command is on PATH."""
    return shutil.which(tool) is not None


SS_STATE = {
    "ESTAB": "ESTABLISHED",
    "SYN-SENT": "SYN_SENT",
    "SYN-RECV": "SYN_RECV",
    "FIN-WAIT-1": "FIN_WAIT1",
    "FIN-WAIT-2": "FIN_WAIT2",
    "TIME-WAIT": "TIME_WAIT",
    "UNCONN": "CLOSE",
    "CLOSE-WAIT": "CLOSE_WAIT",
    "LAST-ACK": "LAST_ACK",
    "LISTEN": "LISTEN",
    "CLOSING": "CLOSING",
}


def ss_rows(text: str) -> list[dict[str, str]]:
    """Parse ``ss -tan``/``ss -tano`` output into dicts (state, local, peer, timer)."""
    rows = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 5:
            continue
        row = {
            "state": SS_STATE.get(parts[0], parts[0]),
            "local": parts[3],
            "peer": parts[4],
            "timer": " ".join(parts[5:]),
        }
        rows.append(row)
    return rows


def host_of(endpoint: str) -> str:
    """``[::1]:80`` -> ``::1``; ``1.2.3.4:80`` -> ``1.2.3.4``; strips ::ffff: like twtop."""
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    return host
