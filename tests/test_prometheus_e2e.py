"""A real Prometheus (Debian's 2.42) scrapes ``twtop export --netns T`` and answers PromQL."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import Population, TestNetns, ss_rows
from tests.promtools import exporter, free_port, scrape, tool

#: ip_local_port_range of the test namespace: 200 ports (start and end of different parity).
LOW, HIGH = 40000, 40199


@contextlib.contextmanager
def prometheus(target: str, folder: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Prometheus on 127.0.0.1, a temporary config and TSDB, scraping ``target`` every second."""
    config = os.path.join(folder, "prometheus.yml")
    with open(config, "w") as f:
        f.write(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: twtop\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
    port = free_port()
    log = open(os.path.join(folder, "prometheus.log"), "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={os.path.join(folder, 'data')}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: scrape(base + "/-/ready", timeout=1), proc, folder, "/-/ready")
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wait_for(check: Any, proc: subprocess.Popen[bytes], folder: str, what: str) -> Any:
    deadline = time.monotonic() + 30
    while True:
        try:
            got = check()
            if got:
                return got
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            with open(os.path.join(folder, "prometheus.log")) as f:
                tail = f.read()[-2000:]
            raise AssertionError(f"Prometheus: no {what}\n{tail}")
        time.sleep(0.2)


def api(base: str, path: str, **params: str) -> Any:
    url = f"{base}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    doc = json.loads(scrape(url, timeout=5))
    assert doc["status"] == "success", doc
    return doc["data"]


def query_value(base: str, promql: str) -> float | None:
    result = api(base, "query", query=promql)["result"]
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scrapes_twtop(netns: TestNetns, pop: Population, tmp_path: Any) -> None:
    tool("prometheus")  # skip early, with the reason, when the package cannot be fetched
    netns.sysctl("net.ipv4.ip_local_port_range", f"{LOW} {HIGH}")
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")  # every TIME_WAIT blocks its port for connect()
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080, backlog=256)
        pop.time_wait(lst, 60)
        pop.established(lst, 40)
    # The truth, from ss: client sockets towards 127.0.0.1:8080 holding a port of the range.
    rows = ss_rows(netns.ss("-tan"))
    held = [
        r for r in rows
        if r["peer"] == "127.0.0.1:8080" and LOW <= int(r["local"].rsplit(":", 1)[1]) <= HIGH
    ]  # fmt: skip
    tw = sum(1 for r in rows if r["state"] == "TIME_WAIT")
    assert tw == 60 and len(held) == 100
    truth = len(held) / (HIGH - LOW + 1)
    folder = str(tmp_path)
    with exporter("--netns", netns.name) as base:
        target = base.removeprefix("http://")
        with prometheus(target, folder) as (prom, proc):

            def target_up() -> bool:
                active = api(prom, "targets")["activeTargets"]
                return any(t["scrapeUrl"].startswith(base) and t["health"] == "up" for t in active)

            wait_for(target_up, proc, folder, "target up")
            q = 'twtop_tcp_sockets{job="twtop",state="time_wait"}'
            wait_for(lambda: query_value(prom, q) is not None, proc, folder, "sample")
            assert query_value(prom, q) == 60
            ratio = query_value(
                prom,
                'twtop_port_tuple_blocking_ratio{src="127.0.0.1",dst="127.0.0.1",dport="8080"}',
            )
            assert ratio is not None and ratio == pytest.approx(truth, rel=0.02)
            assert query_value(prom, 'twtop_up{job="twtop"}') == 1
            assert query_value(prom, 'count(twtop_tcp_sockets{job="twtop"})') == 11
