#!/usr/bin/env python3
"""Benchmark the drill-down into one busy peer against a whole poll.

    .venv/bin/python bench/peer.py --tw 100000          # makes its population (5 peers x 20k TW)
    .venv/bin/python bench/peer.py --netns NAME          # measures an existing namespace

Per refresh the peer screen calls ``Collector.peer_sockets(row, limit=500)``; this prints its
median cost for the biggest peer next to the median of ``Collector.poll()``, and, for comparison,
listing every socket of that peer (no limit) and a dump of the peer's sockets decoded in full.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.loadgen import running  # noqa: E402
from twtop import netns as netns_mod  # noqa: E402


def _median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU (this process, kernel time of its dumps included) in ms."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def _measure(name: str | None, runs: int, limit: int) -> int:
    if name:
        fd = os.open(netns_mod.resolve(name), os.O_RDONLY)
        netns_mod._setns(fd)
        os.close(fd)
    from twtop.collector import Collector

    c = Collector()
    snap = c.poll()
    poll = _median_ms(c.poll, runs)
    row = max(c.poll().peers, key=lambda p: p.total)
    drill = _median_ms(lambda: c.peer_sockets(row, limit=limit), runs)
    every = _median_ms(lambda: c.peer_sockets(row), runs)
    got = len(c.peer_sockets(row, limit=limit))
    print(f"population: {snap.total} sockets; peer {row.peer}: {row.total} sockets")
    print("| what | median ms | x poll | median CPU ms | x poll (CPU) |\n|---|---:|---:|---:|---:|")
    for what, (w, u) in (
        ("Collector.poll()", poll),
        (f"peer_sockets(row, limit={limit}) ({got} decoded)", drill),
        (f"peer_sockets(row) (all {row.total})", every),
    ):
        print(f"| {what} | {w:.1f} | {w / poll[0]:.2f} | {u:.1f} | {u / poll[1]:.2f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netns", help="measure this existing namespace")
    ap.add_argument("--tw", type=int, default=0, help="make a population with this many TW")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--limit", type=int, default=500)
    args = ap.parse_args(argv)
    if not args.tw:
        return _measure(args.netns, args.runs, args.limit)
    with running(args.tw, 0, 0, 300, True, "twtop-peer-bench") as name:
        time.sleep(2)
        return _measure(name, args.runs, args.limit)


if __name__ == "__main__":
    sys.exit(main())
