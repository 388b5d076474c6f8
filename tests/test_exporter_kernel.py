"""``twtop export`` and ``twtop --once --format prom -o`` on a namespace the test fills."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import threading
import time

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import Population, TestNetns
from tests.promtools import exporter, promtool, scrape, twtop_bin
from tests.test_prom import samples
from twtop.identity import IdentityCache


def value(text: str, name: str, **labels: str) -> float | None:
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return None


def reuseport_listeners(pop: Population, port: int, n: int) -> list[socket.socket]:
    out = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("127.0.0.1", port))
        s.listen(16)
        pop.keep.append(s)
        out.append(s)
    return out


def test_scrape_of_a_namespace(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 7)
        pop.close_wait(lst, 3)
        group = reuseport_listeners(pop, 9000, 3)
        for _ in range(2):  # two connections waiting in the group's accept queues
            pop.keep.append(pop.connect(group[0]))
    with exporter("--netns", netns.name) as base:
        text = scrape(base + "/metrics")
    assert value(text, "twtop_up") == 1
    assert value(text, "twtop_tcp_sockets", state="time_wait") == 7
    assert value(text, "twtop_tcp_sockets", state="close_wait") == 3
    assert value(text, "twtop_tcp_sockets", state="last_ack") == 0
    # pytest made the CLOSE_WAITs; the exporter (another process) attributes them to it
    me = IdentityCache().get(os.getpid())  # by service name (pytest, not python3)
    assert me is not None
    assert value(text, "twtop_close_wait_sockets", process=me.service) == 3
    # three SO_REUSEPORT listeners on one port: one series, queues and limits summed
    assert value(text, "twtop_listen_queue", local="127.0.0.1", port="9000") == 2
    assert value(text, "twtop_listen_backlog", local="127.0.0.1", port="9000") == 48
    samples(text.encode())  # no duplicate series
    out = promtool("check", "metrics", stdin=text.encode())
    assert out.returncode == 0, out.stdout + out.stderr


def test_scrape_storm_shares_collections(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 20)
    codes: list[int] = []
    with exporter("--netns", netns.name) as base:
        stop = time.monotonic() + 10  # bounded: 20 clients, 10 seconds, loopback only

        def client() -> None:
            while time.monotonic() < stop:
                try:
                    scrape(base + "/metrics", timeout=10)
                    codes.append(200)
                except OSError as exc:
                    codes.append(getattr(exc, "code", 0) or -1)

        threads = [threading.Thread(target=client) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        text = scrape(base + "/metrics")
    polls = value(text, "twtop_collections_total")
    scrapes = len(codes)
    assert codes and all(c == 200 for c in codes), set(codes)
    assert polls is not None and polls <= scrapes / 5, (polls, scrapes)
    print(f"storm: {scrapes} scrapes in 10 s by 20 clients, {polls:.0f} collections")


def test_textfile_is_written_atomically_with_the_same_families(
    netns: TestNetns, pop: Population, tmp_path: object
) -> None:
    folder = str(tmp_path)
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 4)
    path = os.path.join(folder, "twtop.prom")
    env = {**os.environ, "TWTOP_CONFIG": "/nonexistent/twtop.toml"}
    cmd = [twtop_bin(), "--once", "--format", "prom", "--netns", netns.name, "-o", path]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0 and out.stdout == "", out.stderr
    assert os.listdir(folder) == ["twtop.prom"]  # no temporary file left behind
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # node_exporter reads it as its user
    with open(path, "rb") as f:
        textfile = f.read()
    assert b'twtop_tcp_sockets{state="time_wait"} 4.0' in textfile
    check = promtool("check", "metrics", stdin=textfile)
    assert check.returncode == 0, check.stdout + check.stderr
    with exporter("--netns", netns.name) as base:
        scraped = scrape(base + "/metrics")
    names = {name for name, _l in samples(textfile)}
    exporter_only = {"twtop_up", "twtop_collections_total", "twtop_collection_errors_total"}
    assert names == {name for name, _l in samples(scraped.encode())} - exporter_only
    # never through a symlink
    os.rename(path, path + ".real")
    os.symlink(path + ".real", path)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode != 0 and "symlink" in out.stderr and "Traceback" not in out.stderr


def test_bad_input_is_one_line() -> None:
    env = {**os.environ, "TWTOP_CONFIG": "/nonexistent/twtop.toml"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [twtop_bin(), *args], capture_output=True, text=True, timeout=30, env=env
        )

    out = run("export", "--netns", "twtop-no-such-ns-4711")
    assert out.returncode == 69 and "not found" in out.stderr and "Traceback" not in out.stderr
    out = run("export", "--web.listen-address", "localhost")
    assert out.returncode == 2 and "HOST:PORT" in out.stderr
    out = run("export", "--scrape-timeout", "0")
    assert out.returncode == 2
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        out = run("export", "--web.listen-address", f"127.0.0.1:{port}")
    assert out.returncode == 1 and "cannot listen on" in out.stderr
    assert "Traceback" not in out.stderr
    out = run("--once", "--format", "json", "-o", "/tmp/x.prom")
    assert out.returncode == 2 and "--format prom" in out.stderr


def test_beyond_loopback_only_when_asked_and_with_a_warning(netns: TestNetns) -> None:
    # Inside the test's namespace 0.0.0.0 reaches nothing but its own loopback.
    port = "9489"
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns.name, twtop_bin(), "export",
         "--web.listen-address", f"0.0.0.0:{port}"],
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TWTOP_CONFIG": "/nonexistent/twtop.toml"},
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        second = proc.stderr.readline()
        assert "serving http://0.0.0.0:9489/metrics" in first
        assert "reachable beyond this host" in second and "firewall" in second
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0  # SIGTERM is a clean stop for systemd


def test_a_deleted_namespace_gives_up_0_and_the_last_good_data(
    netns: TestNetns, pop: Population
) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 5)
    with exporter("--netns", netns.name) as base:
        assert value(scrape(base + "/metrics"), "twtop_up") == 1
        pop.close()
        netns.close()  # the namespace is gone
        time.sleep(0.6)  # past the 0.5 s in which a collection answers new scrapes
        text = scrape(base + "/metrics")
        assert value(text, "twtop_up") == 0
        assert value(text, "twtop_tcp_sockets", state="time_wait") == 5  # the last good data
        assert value(text, "twtop_collection_errors_total") == 1
