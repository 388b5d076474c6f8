#!/usr/bin/env python3
"""Benchmark the drill-down: a page of the biggest group, sorted across the whole group.

    .venv/bin/python bench/peer.py --tw 150000            # makes its population (loadgen)
    .venv/bin/python bench/peer.py --tw 600000 --workers 4 --hold 420 --tui  # twgen (--fast)
    .venv/bin/python bench/peer.py --netns NAME [--tui]   # measures an existing namespace

Engine (in the namespace, process grouping, the biggest group: the ownerless TIME_WAITs):
- first page per sort (``Collector.peer_page``): wall and CPU (this process: user + kernel,
  the kernel's walk of the socket tables included), median of --runs;
- the next pages (PgDn), CPU per page;
- peak extra RSS of a first page and a next page (VmHWM after clear_refs) and RSS after the
  page and the first-seen memory are released;
- the old ``peer_sockets(row, limit=500)`` for comparison.
With --tui, the installed twtop in tmux at 80x24 (--group process): Enter -> first page on
screen, RSS before / in the drill-down / after Esc, and ``q`` pressed while a fetch runs ->
process gone. The load average is printed with every run: the machine is shared.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import psutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.loadgen import running  # noqa: E402
from twtop import netns as netns_mod  # noqa: E402


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def quit_seconds(session: str, proc: psutil.Process) -> float | None:
    """Press q in the tmux session and time until the TUI process has exited (None: 30 s passed).
    Exited: gone, or a zombie (psutil's wait() counts a zombie as alive until tmux reaps it,
    which added 1-2 s to what was measured before)."""
    t0 = time.monotonic()
    subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
    while time.monotonic() - t0 < 30:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.005)
    else:
        return None
    return time.monotonic() - t0


def _median(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU (process: user + system) in ms."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def engine(name: str | None, runs: int) -> int:
    if name:
        fd = os.open(netns_mod.resolve(name), os.O_RDONLY)
        netns_mod._setns(fd)
        os.close(fd)
    from twtop import pages
    from twtop.collector import Collector

    c = Collector(group="process")
    snap = c.poll()
    row = max(snap.peers, key=lambda p: p.total)
    print(f"population: {snap.total:,} sockets; group {row.peer}: {row.total:,} ({_load()})")
    print("| what | median wall ms | median CPU ms |\n|---|---:|---:|")
    seen = pages.Seen()
    for sort in pages.SORTS:
        w, u = _median(lambda s=sort: c.peer_page(row, pages.PageQuery(s), seen), runs)
        print(f"| first page, sort {sort} | {w:.0f} | {u:.0f} |")
    page = c.peer_page(row, pages.PageQuery(), seen)
    for way, what in ((pages.AFTER, "next page (PgDn)"), (pages.BEFORE, "page before (PgUp)")):
        cpu = []
        for _ in range(runs):  # one after the other: each page moves on from the last
            c0 = time.process_time()
            page = c.peer_page(row, pages.next_query(page, way), seen)
            cpu.append((time.process_time() - c0) * 1000)
        print(f"| {what}, {runs} in a row | | {statistics.median(cpu):.0f} |")
    w, u = _median(lambda: c.peer_sockets(row, 500), runs)
    print(f"| before: peer_sockets(row, limit=500) | {w:.0f} | {u:.0f} |")
    del page
    seen.first.clear()
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS
    base = _status_kb("VmRSS")
    memo = pages.Seen()
    page = c.peer_page(row, pages.PageQuery(), memo)
    page = c.peer_page(row, pages.next_query(page, pages.AFTER), memo)
    peak = (_status_kb("VmHWM") - base) / 1024
    kept = len(memo.first)
    del page, memo
    gc.collect()
    after = (_status_kb("VmRSS") - base) / 1024
    print(f"peak extra RSS (first + next page, {kept:,} first sightings kept): {peak:.1f} MB; "
          f"after release: {after:.1f} MB ({_load()})")  # fmt: skip
    return 0


def _capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True).stdout  # fmt: skip


def _wait(session: str, pattern: str, timeout: float) -> float | None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if re.search(pattern, _capture(session)):
            return time.monotonic() - t0
        time.sleep(0.02)
    return None


def tui(name: str) -> int:

    twtop = os.path.join(os.path.dirname(sys.executable), "twtop")
    twtop = twtop if os.path.exists(twtop) else (shutil.which("twtop") or "twtop")
    session = f"twtop-peer-{os.getpid()}"
    cmd = f"env TWTOP_CONFIG=/nonexistent {twtop} --netns {name} --group process"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd],
                   check=True)  # fmt: skip
    out: dict[str, Any] = {}
    try:
        _wait(session, r"\(no owner\)", 120)
        time.sleep(5)
        pane = int(subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                                  capture_output=True, text=True).stdout.split()[0])  # fmt: skip
        pids = [pane] + [p.pid for p in psutil.Process(pane).children(recursive=True)]
        proc = next(psutil.Process(p) for p in pids if "twtop" in " ".join(
            psutil.Process(p).cmdline()))  # fmt: skip
        out["rss_before_mb"] = proc.memory_info().rss / 2**20
        for _ in range(3):  # Enter -> first page, three times (polls run meanwhile)
            cpu0 = proc.cpu_times()
            subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
            out.setdefault("first_page_s", []).append(_wait(session, r"1-\d+ of [\d,]+", 60))
            c1 = proc.cpu_times()
            cpu = c1.user + c1.system - cpu0.user - cpu0.system
            out.setdefault("first_page_cpu_s", []).append(round(cpu, 2))
            peak = proc.memory_info().rss
            for _ in range(20):
                time.sleep(0.25)
                peak = max(peak, proc.memory_info().rss)
            out.setdefault("drill_peak_mb", []).append(round(peak / 2**20, 1))
            subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
            time.sleep(3)
            out.setdefault("after_esc_mb", []).append(round(proc.memory_info().rss / 2**20, 1))
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        _wait(session, "sorting…", 10)  # a fetch runs: q now
        out["quit_s"] = quit_seconds(session, proc)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    print(f"TUI: {out} ({_load()})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netns", help="measure this existing namespace")
    ap.add_argument("--tw", type=int, default=0, help="make a population with this many TW")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tui", action="store_true", help="also the installed twtop in tmux")
    ap.add_argument(
        "--workers", type=int, default=0, help="--tw by twgen processes (loadgen --fast)"
    )
    ap.add_argument("--hold", type=float, default=600, help="seconds the population lives")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    def measure(name: str | None) -> int:
        if args.inner or not name:
            return engine(name, args.runs)
        # the engine in a child (it enters the namespace; RSS figures are its own)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--inner", "--netns", name,
                        "--runs", str(args.runs)], check=True)  # fmt: skip
        return tui(name) if args.tui else 0

    if not args.tw:
        return measure(args.netns)
    with running(args.tw, 0, 0, args.hold, True, "twtop-peer-bench", args.workers) as name:
        time.sleep(2)
        return measure(name)


if __name__ == "__main__":
    sys.exit(main())
