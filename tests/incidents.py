"""Five incidents an on-call engineer meets, each built for real in a network namespace of its own.

    with incident("close_wait", prefix="incidents") as inc:
        inc.netns          # the namespace's name: ``twtop --netns NAME``
        inc.pid("orders-api.py")

Every service is a real ``python3 SCRIPT.py`` process (scripts written to a temporary directory,
started with ``ip netns exec``, which execs python3: the PID we get is the service's), so twtop
names it by its script, as it would name a real one. Everything is bounded: each process ends
itself after ``lifetime`` seconds (SIGALRM), counts are fixed below, only loopback, dummy-interface
and ULA addresses inside the namespace are used. On exit the builder ends the processes IT
started (by PID) and deletes the namespace.

The incidents (``KINDS``):

- ``close_wait``: ``orders-api.py`` reads each request until its client closes, then forgets to
  close: LEAK CLOSE_WAITs from peer 127.0.0.41 (``checkout-web.py``). ``inventory-api.py`` and
  ``payments-api.py`` behave.
- ``ports``: ``report-worker.py`` hammers 127.0.0.20:5432 (``ledger-db.py``) from 127.0.0.1,
  closing first each time, in a namespace with a 100-port ``ip_local_port_range`` and
  tcp_tw_reuse=0, until connect() fails with EADDRNOTAVAIL; it keeps retrying, so the tuple stays
  full. It also holds a pool of POOL live connections on that tuple.
- ``server_close``: ``legacy-http.py`` answers HTTP/1.0 and closes first: its TIME_WAITs pile up
  on 127.0.0.1:8080, towards ``health-poller.py`` on 127.0.0.30-32.
- ``quiet``: ``payments-api.py`` with a few ESTABLISHED clients (``checkout-web.py``).
- ``dual_stack``: ``search-api.py`` listens on [::]:8443 (IPv4 and IPv6) and leaks CLOSE_WAITs
  from V6_LEAKER; V6_STEADY (which differs from it only in the last group) and 127.0.0.51 hold
  ESTABLISHED connections.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

KINDS = ("close_wait", "ports", "server_close", "quiet", "dual_stack")
#: CLOSE_WAITs orders-api.py leaks (above the advisor's 50).
LEAK = 80
#: The ephemeral port range of the port-exhaustion namespace (start/end of different parity).
PORT_RANGE = (40000, 40099)
#: Live connections report-worker.py keeps on the exhausted tuple.
POOL = 4
#: Requests health-poller.py makes at once (above the advisor's 10,000 inbound TIME_WAITs).
SERVER_TW = 12_600
#: ULA addresses on the namespace's dummy interface (or lo): two peers differing only at the end.
V6_NET = "fd6a:6b1c:2d4e:5f00"
V6_SERVER = f"{V6_NET}::1"
V6_STEADY = f"{V6_NET}::10"
V6_LEAKER = f"{V6_NET}::11"
#: CLOSE_WAITs search-api.py leaks from V6_LEAKER.
V6_LEAK = 60
#: Seconds any process of an incident lives at most (it ends itself).
LIFETIME_S = 300
MAX_LIFETIME_S = 900

# One small program, saved under each service's name. Servers: "serve HOST PORT MODE" with MODE
# "leak" (never close after the peer's FIN), "close-first" (HTTP/1.0: answer, then close) or
# "tidy" (close on the peer's FIN). Clients: "client SPEC..." with SPEC
# "SRC,DST,PORT,COUNT,HOW", HOW "hold" (stay connected), "once" (request, read, close first),
# "wait-eof" (request, read until the server closes, then close), "hammer" (once, until
# EADDRNOTAVAIL, and keep retrying) or "sustain" (wait-eof at COUNT/60 per second).
PROGRAM = r"""
import errno, selectors, signal, socket, sys, time

signal.alarm(int(sys.argv[1]))  # a bounded lifetime, whatever happens to whoever started us
REQUEST = b"GET / HTTP/1.0\r\n\r\n"


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def serve(host, port, mode):
    lst = socket.socket(family(host), socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if ":" in host:
        lst.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    lst.bind((host, int(port)))
    lst.listen(4096)
    sel = selectors.DefaultSelector()
    sel.register(lst, selectors.EVENT_READ)
    forgotten = []
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is lst:
                conn, _ = lst.accept()
                sel.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data:
                if mode == "close-first":
                    s.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    sel.unregister(s)
                    s.close()
                else:
                    s.sendall(b"ok\n")
                continue
            sel.unregister(s)
            if mode == "leak":
                forgotten.append(s)  # the bug: the peer is gone, we never close()
            else:
                s.close()


def connect(src, dst, port):
    c = socket.socket(family(dst), socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_IP, 24, 1)  # IP_BIND_ADDRESS_NO_PORT: connect() picks the port
    c.bind((src, 0))
    c.connect((dst, int(port)))
    return c


def once(src, dst, port, to_eof):
    c = connect(src, dst, port)
    c.sendall(REQUEST)
    while True:
        data = c.recv(4096)
        if not data or not to_eof:
            break
    c.close()


def client(specs):
    held, later = [], []
    for spec in specs:
        src, dst, port, count, how = spec.split(",")
        count = int(count)
        if how == "hold":
            held += [connect(src, dst, port) for _ in range(count)]
        elif how in ("once", "wait-eof"):
            for _ in range(count):
                once(src, dst, port, how == "wait-eof")
        else:
            later.append((src, dst, port, count, how))
    for src, dst, port, count, how in later:
        if how == "sustain":
            for _ in range(count):
                once(src, dst, port, True)
    print("ready", flush=True)
    if not later:
        signal.pause()
    start, made, said = time.monotonic(), [0] * len(later), False
    while True:
        for i, (src, dst, port, count, how) in enumerate(later):
            if how == "sustain":  # count per minute: as many new as TIME_WAITs end
                due = int((time.monotonic() - start) * count / 60) - made[i]
                for _ in range(max(0, due)):
                    once(src, dst, port, True)
                    made[i] += 1
                continue
            try:
                once(src, dst, port, False)
            except OSError as e:
                if e.errno != errno.EADDRNOTAVAIL:
                    raise
                if not said:
                    print("exhausted", flush=True)
                    said = True
                time.sleep(0.2)
        time.sleep(0.01)


if sys.argv[2] == "serve":
    serve(*sys.argv[3:6])
else:
    client(sys.argv[3:])
"""


@dataclass
class Service:
    """One started process: its script name, PID and what it was told to do."""

    name: str
    pid: int
    argv: list[str]
    proc: subprocess.Popen[str] = field(repr=False)


@dataclass
class Incident:
    """A built incident: its namespace and the services running in it."""

    kind: str
    netns: str
    services: dict[str, Service] = field(default_factory=dict)

    def pid(self, name: str) -> int:
        """The PID of the service whose script is ``name``."""
        return self.services[name].pid

    def owner(self, name: str) -> str:
        """How twtop shows the service: ``orders-api.py[PID]``."""
        return f"{name}[{self.pid(name)}]"


class _Builder:
    """Starts services in one namespace; ends them (by PID) and deletes the namespace."""

    def __init__(self, kind: str, netns: str, lifetime: int) -> None:
        self.kind = kind
        self.netns = netns
        self.lifetime = lifetime
        self.tmp = tempfile.mkdtemp(prefix=f"{netns}-")
        self.incident = Incident(kind, netns)

    def ip(self, *args: str) -> None:
        subprocess.run(["ip", "-n", self.netns, *args], check=True)

    def sysctl(self, key: str, value: str) -> None:
        subprocess.run(["ip", "netns", "exec", self.netns, "sysctl", "-q", "-w", f"{key}={value}"],
                       check=True)  # fmt: skip

    def start(self, script: str, *args: str, wait_for: str = "ready", timeout: float = 60) -> None:
        """Run ``python3 SCRIPT ARGS`` in the namespace; return once it printed ``wait_for``."""
        path = os.path.join(self.tmp, script)
        with open(path, "w") as f:
            f.write(PROGRAM)
        os.chmod(path, 0o644)
        python3 = shutil.which("python3") or sys.executable
        argv = ["ip", "netns", "exec", self.netns, python3, path, str(self.lifetime), *args]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        self.incident.services[script] = Service(script, proc.pid, argv, proc)
        _wait_line(proc, wait_for, timeout, script)

    def close(self) -> None:
        for svc in self.incident.services.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(svc.pid, signal.SIGTERM)
        for svc in self.incident.services.values():
            try:
                svc.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(svc.pid, signal.SIGKILL)
                svc.proc.wait(10)
            if svc.proc.stdout:
                svc.proc.stdout.close()
        subprocess.run(["ip", "netns", "del", self.netns], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _wait_line(proc: subprocess.Popen[str], want: str, timeout: float, who: str) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{who} exited ({proc.wait()}) before saying {want!r}")
        if line.strip() == want:
            return
    raise RuntimeError(f"{who} did not say {want!r} within {timeout:.0f} s")


def _close_wait(b: _Builder) -> None:
    b.start("orders-api.py", "serve", "127.0.0.1", "8000", "leak")
    b.start("inventory-api.py", "serve", "127.0.0.1", "8001", "tidy")
    b.start("payments-api.py", "serve", "127.0.0.1", "8002", "tidy")
    b.start("checkout-web.py", "client", f"127.0.0.41,127.0.0.1,8000,{LEAK},once",
            "127.0.0.42,127.0.0.1,8001,6,hold", "127.0.0.43,127.0.0.1,8002,3,hold")  # fmt: skip


def _ports(b: _Builder) -> None:
    b.sysctl("net.ipv4.ip_local_port_range", f"{PORT_RANGE[0]} {PORT_RANGE[1]}")
    b.sysctl("net.ipv4.tcp_tw_reuse", "0")
    b.start("ledger-db.py", "serve", "127.0.0.20", "5432", "tidy")
    b.start("report-worker.py", "client", f"127.0.0.1,127.0.0.20,5432,{POOL},hold",
            "127.0.0.1,127.0.0.20,5432,0,hammer", wait_for="exhausted")  # fmt: skip


def _server_close(b: _Builder) -> None:
    b.start("legacy-http.py", "serve", "127.0.0.1", "8080", "close-first")
    # Three source IPs: a new SYN may take over one of the server's TIME_WAITs when connect()
    # picks a port it used before (inbound SYNs can), which keeps one source's pile smaller.
    per = SERVER_TW // 3
    b.start("health-poller.py", "client",
            *(f"127.0.0.{30 + i},127.0.0.1,8080,{per},sustain" for i in range(3)),
            timeout=240)  # fmt: skip


def _quiet(b: _Builder) -> None:
    b.start("payments-api.py", "serve", "127.0.0.1", "8002", "tidy")
    b.start("checkout-web.py", "client", "127.0.0.41,127.0.0.1,8002,3,hold")


def _dual_stack(b: _Builder) -> None:
    # A dummy interface where the kernel has the module; lo takes any address otherwise.
    dev = "dummy0"
    made = subprocess.run(["ip", "-n", b.netns, "link", "add", dev, "type", "dummy"],
                          capture_output=True)  # fmt: skip
    if made.returncode != 0:
        dev = "lo"
    b.ip("link", "set", dev, "up")
    for addr in (V6_SERVER, V6_STEADY, V6_LEAKER):
        b.ip("-6", "addr", "add", f"{addr}/64", "dev", dev, "nodad")
    b.start("search-api.py", "serve", "::", "8443", "leak")
    b.start("web-frontend.py", "client", f"{V6_STEADY},{V6_SERVER},8443,5,hold",
            "127.0.0.51,127.0.0.1,8443,3,hold", "::1,::1,8443,2,hold")  # fmt: skip
    b.start("crawler.py", "client", f"{V6_LEAKER},{V6_SERVER},8443,{V6_LEAK},once")


_BUILD = {
    "close_wait": _close_wait,
    "ports": _ports,
    "server_close": _server_close,
    "quiet": _quiet,
    "dual_stack": _dual_stack,
}


@contextlib.contextmanager
def incident(kind: str, prefix: str = "incident", lifetime: int = LIFETIME_S) -> Iterator[Incident]:
    """Build incident ``kind`` in a new namespace ``PREFIX-KIND-PID``; tear it down on exit."""
    if kind not in _BUILD:
        raise ValueError(f"unknown incident {kind!r}; one of {', '.join(KINDS)}")
    lifetime = max(10, min(lifetime, MAX_LIFETIME_S))
    name = f"{prefix}-{kind.replace('_', '')}-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    b = _Builder(kind, name, lifetime)
    try:
        b.ip("link", "set", "lo", "up")
        _BUILD[kind](b)
        yield b.incident
    finally:
        b.close()


if __name__ == "__main__":  # build one and hold it: python3 -m tests.incidents KIND [SECONDS]
    hold = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    with incident(sys.argv[1], lifetime=hold + 30) as inc:
        print(inc.netns, {n: s.pid for n, s in inc.services.items()}, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            time.sleep(hold)
