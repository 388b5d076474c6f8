#!/usr/bin/env python3
"""Make screenshots/prometheus-graph.png: Debian's Prometheus graphing ``twtop export``.

Root only. In a namespace it creates (deleted at the end), with a 1000-port ephemeral range and
tcp_tw_reuse=0, a client opens and closes connections to 127.0.0.1:8080 at a rate rising from 2/s
to at most 12/s for 75 s (every TIME_WAIT holds its port for 60 s, so the tuple fills up), and
every 5 s the server leaves one connection in CLOSE_WAIT. ``twtop export --netns`` serves it,
Prometheus (scripts/prometheus.sh --ui) scrapes it every second, and chromium-headless-shell
(``apt-get install chromium-headless-shell``) photographs the classic graph page. Bounded: at most
~600 connections, 75 s, loopback inside the namespace only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
OUT = os.path.join(ROOT, "screenshots", "prometheus-graph.png")
LOAD_S = 75.0

from twtop import netns as netns_mod  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def load(path: str, stop: threading.Event) -> None:
    """The client/server churn, run by a thread that entered the namespace."""
    with netns_mod.entered(path):
        lst = socket.socket()
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.1", 8080))
        lst.listen(128)
        held: list[socket.socket] = []
        t0 = time.monotonic()
        next_cw = t0 + 5
        while not stop.is_set() and (now := time.monotonic()) - t0 < LOAD_S:
            rate = 2 + 10 * (now - t0) / LOAD_S
            c = socket.create_connection(("127.0.0.1", 8080))
            s, _ = lst.accept()
            c.close()  # the client closes first: its socket goes to TIME_WAIT
            if now >= next_cw:
                held.append(s)  # the server never closes this one: CLOSE_WAIT
                next_cw += 5
            else:
                s.settimeout(2)
                with contextlib.suppress(OSError):
                    s.recv(1)
                s.close()
            stop.wait(1 / rate)
        stop.wait()
        for s in [*held, lst]:
            s.close()


def main() -> int:
    if os.geteuid() != 0:
        print("fleet_screenshot.py: needs root (it creates a network namespace)", file=sys.stderr)
        return 1
    chromium = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if chromium is None:
        print("fleet_screenshot.py: apt-get install chromium-headless-shell", file=sys.stderr)
        return 1
    out = subprocess.run(
        ["bash", os.path.join(ROOT, "scripts", "prometheus.sh"), "--ui"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    bindir = out.stdout.strip().splitlines()[-1]
    assets = os.path.join(os.path.dirname(bindir), "share", "prometheus", "web")
    twtop = os.path.join(os.path.dirname(sys.executable), "twtop")
    name = f"twtop-shot-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    procs: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    tmp = tempfile.mkdtemp(prefix="twtop-shot-")
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        path = f"/run/netns/{name}"
        with netns_mod.entered(path):
            for key, value in (("ip_local_port_range", "40000 40999"), ("tcp_tw_reuse", "0")):
                with open(f"/proc/sys/net/ipv4/{key}", "w") as f:
                    f.write(value)
        eport, pport = free_port(), free_port()
        procs.append(
            subprocess.Popen(
                [twtop, "export", "--netns", name, "--web.listen-address", f"127.0.0.1:{eport}"]
            )
        )
        wait_http(f"http://127.0.0.1:{eport}/")
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
                f"  - job_name: twtop\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{eport}']\n        labels: {{instance: web-7}}\n"
            )
        procs.append(
            subprocess.Popen(
                [
                    os.path.join(bindir, "prometheus"),
                    f"--config.file={tmp}/prometheus.yml",
                    f"--storage.tsdb.path={tmp}/data",
                    f"--web.listen-address=127.0.0.1:{pport}",
                    f"--web.local-assets={assets}/",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_http(f"http://127.0.0.1:{pport}/-/ready")
        loader = threading.Thread(target=load, args=(path, stop))
        loader.start()
        time.sleep(LOAD_S + 3)
        query = {
            "g0.expr": "twtop_port_tuple_blocking_ratio",
            "g0.tab": "0",
            "g0.range_input": "2m",
            "g1.expr": 'twtop_tcp_sockets{state=~"time_wait|close_wait|established"}',
            "g1.tab": "0",
            "g1.range_input": "2m",
        }
        url = f"http://127.0.0.1:{pport}/classic/graph?" + urllib.parse.urlencode(query)
        subprocess.run(
            [chromium, "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--window-size=1100,1720", "--virtual-time-budget=10000", f"--screenshot={OUT}", url],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        print(f"wrote {OUT}")
    finally:
        stop.set()
        for p in procs:
            p.terminate()
            p.wait(timeout=15)
        subprocess.run(["ip", "netns", "del", name], check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
