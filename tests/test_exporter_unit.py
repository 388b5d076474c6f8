"""The exporter's sharing, timeouts and HTTP behaviour, with a fake collection (no root)."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from prometheus_client.core import GaugeMetricFamily, Metric

from twtop.errors import UsageError
from twtop.exporter import (
    MAX_CONNECTIONS,
    Server,
    SharedCollection,
    build_parser,
    is_loopback,
    make_registry,
    parse_listen_address,
)


class Fake:
    """A collection that counts its calls and takes ``delay`` seconds (or fails)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0
        self.fail = False
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> list[Metric]:
        self.calls += 1
        n = self.calls
        time.sleep(self.delay)
        self.release.wait(30)
        if self.fail:
            raise RuntimeError("netns gone")
        return [GaugeMetricFamily("twtop_fake", "Which collection this is.", value=n)]


def value(res_families: list[Metric] | None) -> float | None:
    return None if res_families is None else res_families[0].samples[0].value


def test_concurrent_scrapes_share_one_collection() -> None:
    fake = Fake(delay=0.3)
    shared = SharedCollection(fake, share_s=0.0)
    results = []
    threads = [threading.Thread(target=lambda: results.append(shared.get(5))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.calls == 1
    assert all(r.up and value(r.families) == 1 for r in results)


def test_a_recent_collection_answers_new_scrapes() -> None:
    fake = Fake()
    shared = SharedCollection(fake, share_s=0.5)
    for _ in range(50):
        assert shared.get(5).up
    assert fake.calls == 1
    time.sleep(0.6)
    assert value(shared.get(5).families) == 2


def test_a_slow_collection_serves_the_last_good_data_with_up_0() -> None:
    fake = Fake()
    shared = SharedCollection(fake, share_s=0.0)
    assert value(shared.get(5).families) == 1
    fake.release.clear()  # the next collection hangs
    t0 = time.monotonic()
    res = shared.get(0.3)
    assert time.monotonic() - t0 < 1.0
    assert not res.up and value(res.families) == 1
    # more scrapes while it hangs: no second collection is started
    assert not shared.get(0.1).up and fake.calls == 2
    fake.release.set()
    time.sleep(0.1)
    res = shared.get(5)
    assert res.up and value(res.families) in (2, 3)


def test_a_failed_collection_serves_the_last_good_data_with_up_0() -> None:
    fake = Fake()
    errors: list[BaseException] = []
    shared = SharedCollection(fake, share_s=0.0, on_error=errors.append)
    shared.get(5)
    fake.fail = True
    res = shared.get(5)
    assert not res.up and value(res.families) == 1 and res.errors == 1
    assert "netns gone" in str(errors[0])


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("127.0.0.1:9489", ("127.0.0.1", 9489, socket.AF_INET)),
        ("[::1]:9489", ("::1", 9489, socket.AF_INET6)),
        (":9489", ("0.0.0.0", 9489, socket.AF_INET)),
        ("0.0.0.0:80", ("0.0.0.0", 80, socket.AF_INET)),
    ],
)
def test_listen_address(text: str, want: tuple[str, int, int]) -> None:
    assert parse_listen_address(text) == want


@pytest.mark.parametrize("text", ["9489", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", "a:b"])
def test_bad_listen_address_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_listen_address(text)


@contextlib.contextmanager
def serving(collect: Callable[[], list[Metric]], timeout: float = 5.0) -> Iterator[str]:
    shared = SharedCollection(collect, share_s=0.0)
    server = Server(("127.0.0.1", 0), socket.AF_INET, make_registry(shared, timeout), None)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_index_metrics_and_404() -> None:
    with serving(Fake()) as base:
        code, page = get(base + "/")
        assert code == 200 and 'href="/metrics"' in page
        code, text = get(base + "/metrics")
        assert code == 200 and "twtop_up 1.0" in text and "twtop_fake 1.0" in text
        assert get(base + "/metrics?x=1")[0] == 200
        for path in ("/nope", "/metrics/", "/../etc/passwd", "/favicon.ico"):
            assert get(base + path)[0] == 404, path


def test_scrape_never_hangs_on_a_stuck_collection() -> None:
    fake = Fake()
    with serving(fake, timeout=0.5) as base:
        assert "twtop_up 1.0" in get(base + "/metrics")[1]
        fake.release.clear()
        t0 = time.monotonic()
        code, text = get(base + "/metrics")
        assert time.monotonic() - t0 < 2.0
        assert code == 200 and "twtop_up 0.0" in text and "twtop_fake 1.0" in text
        fake.release.set()


def test_slow_and_oversized_requests_do_not_block_scrapes() -> None:
    with serving(Fake()) as base:
        port = int(base.rsplit(":", 1)[1])
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
        for s in slow:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # and never finish the headers
        big = socket.create_connection(("127.0.0.1", port))
        big.sendall(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
        t0 = time.monotonic()
        for _ in range(5):
            assert get(base + "/metrics", timeout=3)[0] == 200
        assert time.monotonic() - t0 < 3.0
        big.settimeout(5)
        assert big.recv(100).startswith(b"HTTP/1.0 414")  # request line too long
        for s in [*slow, big]:
            s.close()


def test_connections_beyond_the_cap_get_503_not_a_queue() -> None:
    with serving(Fake()) as base:
        port = int(base.rsplit(":", 1)[1])
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(MAX_CONNECTIONS)]
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", port))
        extra.settimeout(5)
        assert extra.recv(100).startswith(b"HTTP/1.0 503")
        for s in [*held, extra]:
            s.close()
        time.sleep(0.3)
        assert get(base + "/metrics")[0] == 200  # slots come back


def test_gzip_openmetrics_and_head() -> None:
    with serving(Fake()) as base:
        req = urllib.request.Request(base + "/metrics", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            assert b"twtop_fake 1.0" in gzip.decompress(r.read())
        om = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
        req = urllib.request.Request(base + "/metrics", headers={"Accept": om})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.headers["Content-Type"].startswith("application/openmetrics-text")
            assert r.read().endswith(b"# EOF\n")
        req = urllib.request.Request(base + "/metrics", method="HEAD")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200 and r.read() == b""


def test_loopback_unless_told_otherwise() -> None:
    assert build_parser().parse_args([]).listen == "127.0.0.1:9489"
    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5")
