"""``twtop export``: a Prometheus exporter that collects when it is scraped.

One engine Collector lives as long as the process (so CLOSE_WAIT ages and the netns follow-up
work as in the TUI), driven only by scrapes: no background loop, no timestamps on samples.

- Concurrent scrapes share one collection (``SharedCollection``): a scrape that arrives while one
  runs waits for it; a collection that finished less than ``SHARE_S`` ago answers new scrapes
  too. A storm of scrapes therefore costs at most one collection per ``SHARE_S``.
- A scrape waits at most ``--scrape-timeout`` seconds. When the collection is late or failed, it
  gets the last good data with ``twtop_up 0``; the late collection still finishes in its thread
  and becomes the data of the next scrape.
- The HTTP server is threaded with per-connection socket timeouts and a cap on connections being
  served, so a slow or oversized request holds one thread, never the others.
"""

from __future__ import annotations

import argparse
import gzip
import html
import ipaddress
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from twtop import __version__, prom
from twtop.errors import TwtopError, UsageError

DEFAULT_LISTEN = "127.0.0.1:9489"
DEFAULT_SCRAPE_TIMEOUT_S = 5.0
#: A collection that finished this recently answers new scrapes as well: two Prometheus servers
#: (an HA pair) or a dashboard refresh then cost one collection, and a storm costs at most one
#: collection per SHARE_S. Well under any sane scrape interval (15 s by default).
SHARE_S = 0.5
#: Seconds a client may take between two reads or writes on its connection.
REQUEST_TIMEOUT_S = 10.0
#: Connections served at once; more are answered 503 at once rather than queued behind them.
MAX_CONNECTIONS = 64


@dataclass(frozen=True, slots=True)
class Result:
    """What one scrape serves: the latest good families and whether they are fresh."""

    families: list[Metric] | None
    up: bool
    polls: int
    errors: int


class SharedCollection:
    """At most one collection at a time, shared by every scrape that asks while it runs.

    ``collect`` runs in its own thread, so a scrape can give up on it after its timeout without
    leaving it half done; a scrape never starts a second collection while one is running.
    """

    def __init__(
        self,
        collect: Callable[[], list[Metric]],
        share_s: float = SHARE_S,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._collect = collect
        self._share_s = share_s
        self._on_error = on_error
        self._cond = threading.Condition()
        self._running = False
        self._done = 0  # collections finished (good or not)
        self._errors = 0
        self._last: list[Metric] | None = None
        self._last_ok = False
        self._last_end = float("-inf")

    @property
    def polls(self) -> int:
        """Collections started so far."""
        with self._cond:
            return self._done + (1 if self._running else 0)

    def get(self, timeout: float) -> Result:
        """The data for one scrape, waiting at most ``timeout`` seconds for a collection."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if time.monotonic() - self._last_end < self._share_s:
                return self._result(self._last_ok)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="twtop-collect", daemon=True).start()
            # The running collection is the one this scrape waits for: it finishes as _done + 1.
            target = self._done + 1
            while self._done < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return self._result(False)
                self._cond.wait(remaining)
            return self._result(self._last_ok)

    def _result(self, up: bool) -> Result:
        running = 1 if self._running else 0
        return Result(self._last, up, self._done + running, self._errors)

    def _run(self) -> None:
        families: list[Metric] | None = None
        error: BaseException | None = None
        try:
            families = self._collect()
        except Exception as exc:  # reported as twtop_up 0; the exporter keeps serving
            error = exc
        with self._cond:
            self._done += 1
            self._running = False
            self._last_ok = families is not None
            self._last_end = time.monotonic()
            if families is not None:
                self._last = families
            else:
                self._errors += 1
            self._cond.notify_all()
        if error is not None and self._on_error is not None:
            self._on_error(error)


class TwtopCollector(Collector):
    """The prometheus-client Collector: every scrape asks the shared collection."""

    def __init__(self, shared: SharedCollection, timeout: float) -> None:
        self.shared = shared
        self.timeout = timeout

    def describe(self) -> Iterable[Metric]:
        """Nothing up front: registering must not trigger a collection."""
        return []

    def collect(self) -> Iterable[Metric]:
        """``twtop_up``, the exporter's own counters, and the last good data."""
        res = self.shared.get(self.timeout)
        yield GaugeMetricFamily(
            "twtop_up",
            "1 when this scrape's data was collected in time; 0 when it is the last good data "
            "(the collection failed or took longer than --scrape-timeout).",
            value=1 if res.up else 0,
        )
        yield CounterMetricFamily(
            "twtop_collections", "Collections started (scrapes share them).", value=res.polls
        )
        yield CounterMetricFamily(
            "twtop_collection_errors", "Collections that failed.", value=res.errors
        )
        if res.families is not None:
            yield from res.families
        else:
            yield prom.build_info()


INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>twtop exporter</title></head>
<body><h1>twtop exporter</h1>
<p>TCP connection states, ephemeral-port headroom per tuple, CLOSE_WAIT by process.</p>
<p><a href="/metrics">Metrics</a></p>
<p>version {version}, namespace {netns}</p>
</body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = f"twtop/{__version__}"
    timeout = REQUEST_TIMEOUT_S  # socket timeout for every read and write of the connection

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            body = encoder(self.server.registry)
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                self._send(200, content_type, gzip.compress(body, 6), head, gzip_=True)
            else:
                self._send(200, content_type, body, head)
        elif path == "/":
            page = INDEX.format(
                version=html.escape(__version__), netns=html.escape(self.server.netns or "(own)")
            )
            self._send(200, "text/html; charset=utf-8", page.encode(), head)
        else:
            self._send(404, "text/plain; charset=utf-8", b"404 not found: try /metrics\n", head)

    def _send(
        self, code: int, content_type: str, body: bytes, head: bool, gzip_: bool = False
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if gzip_:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per request would flood a service's journal."""


class Server(ThreadingHTTPServer):
    """One thread per connection, at most MAX_CONNECTIONS at a time."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], family: int, registry: CollectorRegistry, netns: str | None
    ) -> None:
        self.address_family = family
        self.registry = registry
        self.netns = netns
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind; an IPv6 socket serves IPv6 only, so ``[::]`` and ``0.0.0.0`` mean what they say."""
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve in a thread, or answer 503 at once when every slot is busy."""
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(
                    b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n"
                )
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Handle one connection, then give its slot back."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def parse_listen_address(text: str) -> tuple[str, int, int]:
    """``host:port``, ``[v6]:port`` or ``:port`` (all interfaces) -> (host, port, family)."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(
            f"--web.listen-address '{text}': expected HOST:PORT, [IPv6]:PORT or :PORT "
            "with a port from 1 to 65535"
        )
    port = int(port_text)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "":
        return "0.0.0.0", port, socket.AF_INET
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        try:
            info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UsageError(f"--web.listen-address: cannot resolve '{host}': {exc}") from None
        fam, _t, _p, _c, sockaddr = info[0]
        return str(sockaddr[0]), port, int(fam)
    return str(ip), port, socket.AF_INET6 if ip.version == 6 else socket.AF_INET


def is_loopback(host: str) -> bool:
    """Whether an address is reachable from this host only."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``twtop export``."""
    ap = argparse.ArgumentParser(
        prog="twtop export",
        description="Serve twtop's metrics to Prometheus: collected on each scrape, "
        "shared by concurrent scrapes.",
    )
    ap.add_argument(
        "--web.listen-address",
        dest="listen",
        default=DEFAULT_LISTEN,
        help=f"address to serve /metrics on (default {DEFAULT_LISTEN}; anything beyond "
        "loopback must be given here explicitly)",
    )
    ap.add_argument("-n", "--netns", help="network namespace: NAME (ip netns), PID or PATH")
    ap.add_argument(
        "--scrape-timeout",
        type=float,
        default=DEFAULT_SCRAPE_TIMEOUT_S,
        help="longest a scrape waits for a collection; then the last good data is served with "
        f"twtop_up 0 (default {DEFAULT_SCRAPE_TIMEOUT_S:g} s)",
    )
    ap.add_argument(
        "--top",
        type=int,
        default=prom.DEFAULT_TOP,
        help=f"labelled port tuples and CLOSE_WAIT processes (default {prom.DEFAULT_TOP}, "
        f"at most {prom.MAX_TOP}); the rest are summed in an 'other' series",
    )
    return ap


def make_registry(shared: SharedCollection, timeout: float) -> CollectorRegistry:
    """A registry holding only twtop's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TwtopCollector(shared, timeout))
    return registry


def _log(text: str) -> None:
    print(f"twtop export: {text}", file=sys.stderr, flush=True)


def run(argv: list[str]) -> int:
    """``twtop export [options]``: serve until SIGTERM or SIGINT."""
    args = build_parser().parse_args(argv)
    if not 0.1 <= args.scrape_timeout <= 300:
        raise UsageError("--scrape-timeout must be between 0.1 and 300 seconds")
    if not 1 <= args.top <= prom.MAX_TOP:
        raise UsageError(f"--top must be between 1 and {prom.MAX_TOP}")
    host, port, family = parse_listen_address(args.listen)

    from twtop.advisor import advise
    from twtop.collector import Collector as Engine

    engine = Engine(netns=args.netns)  # a missing namespace is an error before we listen
    top = args.top

    def collect() -> list[Metric]:
        snap = engine.poll()
        return prom.snapshot_families(snap, advise(snap), top)

    last_error: list[str] = []

    def on_error(exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, TwtopError) else f"{type(exc).__name__}: {exc}"
        if last_error[-1:] != [text]:  # once per distinct error, not once per scrape
            _log(f"collection failed: {text}")
            last_error[:] = [text]

    shared = SharedCollection(collect, on_error=on_error)
    registry = make_registry(shared, args.scrape_timeout)
    try:
        server = Server((host, port), family, registry, args.netns)
    except OSError as exc:
        raise TwtopError(f"cannot listen on {args.listen}: {exc.strerror or exc}") from None

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # systemd's stop: a clean exit 0
    try:
        shown = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
        where = f" for netns {args.netns}" if args.netns else ""
        _log(f"serving http://{shown}/metrics{where}")
        if not is_loopback(host):
            _log(
                f"{host} is reachable beyond this host: allow only your Prometheus servers "
                "(firewall) or put a reverse proxy with TLS and authentication in front"
            )
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        engine.close()
    return 0


__all__ = [
    "DEFAULT_LISTEN",
    "SHARE_S",
    "Server",
    "SharedCollection",
    "TwtopCollector",
    "build_parser",
    "make_registry",
    "parse_listen_address",
    "run",
]
