#!/usr/bin/env python3
"""Benchmark twtop's collector against the raw sock_diag dump, ss, netstat, psutil and pyroute2.

    python bench/snapshot.py --tw 100000 --estab 5000 --close-wait 1000     # makes its population
    python bench/snapshot.py --netns lg1                                    # measures an existing
    one

With population flags, bench/loadgen.py is started in a fresh namespace (sustaining the TIME_WAIT
count) and stopped afterwards. The benchmark process enters the namespace itself, so every tool
measured reads the same sockets. Each figure is the median of --runs runs (pyroute2's generic
decoder, which is slow, runs fewer times). Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.loadgen import running  # noqa: E402
from twtop import netns as netns_mod  # noqa: E402
from twtop import wire  # noqa: E402
from twtop.states import MASK_ALL  # noqa: E402


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netns", help="measure this existing namespace")
    ap.add_argument("--tw", type=int, default=0)
    ap.add_argument("--estab", type=int, default=0)
    ap.add_argument("--close-wait", type=int, default=0)
    ap.add_argument("--hold", type=float, default=300)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-pyroute2", action="store_true")
    ap.add_argument(
        "--no-sustain",
        action="store_true",
        help="make the population once (large populations: measure within its 60 s lifetime)",
    )
    args = ap.parse_args(argv)
    if not (args.tw or args.estab or args.close_wait):
        return _measure_in(args, args.netns)
    with running(
        args.tw, args.estab, args.close_wait, args.hold, not args.no_sustain, "twtop-bench"
    ) as name:
        time.sleep(0 if args.no_sustain else 2)  # let the sustain loop settle
        return _measure_in(args, name)


def _measure_in(args: argparse.Namespace, name: str | None) -> int:
    if name:
        fd = os.open(netns_mod.resolve(name), os.O_RDONLY)
        netns_mod._setns(fd)  # this (still single-threaded) process and its children
        os.close(fd)
    return _run(args, name)


def _run(args: argparse.Namespace, name: str | None) -> int:
    import psutil

    import twtop
    from twtop.collector import Collector

    runs = args.runs
    sock = wire.open_socket()
    results: list[tuple[str, float, str]] = []

    def floor_compat() -> None:
        wire.raw_dump_bytes(sock, wire.build_compat_request(MASK_ALL, 1))

    def floor_v2() -> None:
        for fam in (socket.AF_INET, socket.AF_INET6):
            wire.raw_dump_bytes(sock, wire.build_request(fam, MASK_ALL, 2))

    floor = _median(floor_compat, runs)
    results.append(("raw dump, one walk (floor)", floor, "TCPDIAG_GETSOCK, no decode"))
    results.append(("raw dump, per family", _median(floor_v2, runs), "2 x SOCK_DIAG_BY_FAMILY"))
    collector = Collector()
    collector.poll()
    poll = _median(collector.poll, runs)
    snap = collector.poll()
    results.append(("twtop Collector.poll()", poll, "steady state, as the TUI polls"))
    cold = _median(lambda: twtop.take_snapshot(), runs)
    results.append(("twtop.take_snapshot()", cold, "new collector: includes the /proc fd scan"))
    devnull = subprocess.DEVNULL
    ss_t = _median(lambda: subprocess.run(["ss", "-tan"], stdout=devnull, check=True), runs)
    results.append(("ss -tan", ss_t, "output to /dev/null"))
    if subprocess.run(["which", "netstat"], stdout=devnull).returncode == 0:
        ns_t = _median(lambda: subprocess.run(["netstat", "-tan"], stdout=devnull), runs)
        results.append(("netstat -tan", ns_t, "reads /proc/net/tcp{,6}"))
    ps_t = _median(lambda: psutil.net_connections("tcp"), max(1, runs // 2))
    results.append(("psutil.net_connections('tcp')", ps_t, "/proc/net/tcp{,6} + fd scan"))
    if not args.skip_pyroute2:
        from pyroute2 import DiagSocket

        def pyroute2_decode() -> None:
            with DiagSocket() as ds:
                ds.bind()
                for fam in (socket.AF_INET, socket.AF_INET6):
                    ds.get_sock_stats(family=fam, states=MASK_ALL)

        n = 1 if snap.total > 150_000 else 3
        results.append(("pyroute2 generic decode", _median(pyroute2_decode, n), f"median of {n}"))
    # Peak RSS of a fresh process taking one snapshot: VmHWM belongs to the process's own
    # address space (ru_maxrss would carry the forking parent's size across exec).
    code = (
        "import twtop; twtop.take_snapshot(); "
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    rss_note = f"{int(out.stdout) / 1024:.0f} MB"
    _print(snap, name, rss_note, results, floor, ss_t)
    return 0


def _print(
    snap: Any, name: str | None, rss_note: str, results: list[tuple[str, float, str]],
    floor: float, ss_t: float,
) -> None:  # fmt: skip
    code = "import twtop; twtop.take_snapshot()"
    states = ", ".join(f"{s.name} {n}" for s, n in sorted(snap.states.items()) if n)
    print(f"population: {snap.total} sockets ({states}) in netns {name or 'current'}")
    print(f"machine: {_cpu_model()}, {os.cpu_count()} cores, Linux {platform.release()}, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"peak RSS of `python -c '{code}'`: {rss_note}")
    print()
    print("| what | median ms | x floor | x ss -tan | note |")
    print("|---|---:|---:|---:|---|")
    for what, t, note in results:
        print(f"| {what} | {t * 1000:.1f} | {t / floor:.2f} | {t / ss_t:.2f} | {note} |")


if __name__ == "__main__":
    sys.exit(main())
