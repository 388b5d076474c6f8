#!/usr/bin/env python3
"""Measure the TUI under load: CPU over a minute, and how fast a key press is answered.

    python bench/tui.py --tw 100000 --estab 5000 --close-wait 1000 --seconds 60

Starts bench/loadgen.py in a fresh namespace (sustaining the TIME_WAIT count), runs the installed
``twtop --netns NAME`` in tmux at 80x24 with a 1 s interval, and reports:
- CPU: the twtop process's user+system time over --seconds, as a percentage of one core;
- key latency: time from ``tmux send-keys s`` until the pane shows the new sort column, measured
  by polling capture-pane every 5 ms (an upper bound: it includes tmux and the terminal redraw).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.loadgen import running  # noqa: E402

SORT_ORDER = ("total", "estab", "time_wait", "close_wait", "fin_wait2", "other", "inbound",
              "outbound", "peer")  # fmt: skip


def capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True).stdout  # fmt: skip


def main() -> int:
    """Run the measurement and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tw", type=int, default=100_000)
    ap.add_argument("--estab", type=int, default=5_000)
    ap.add_argument("--close-wait", type=int, default=1_000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument(
        "--warmup",
        type=float,
        default=65.0,
        help="seconds before measuring: the initial TIME_WAIT burst expires after 60 s",
    )
    args = ap.parse_args()
    import psutil

    twtop = os.path.join(os.path.dirname(sys.executable), "twtop")
    twtop = twtop if os.path.exists(twtop) else shutil.which("twtop")
    hold = args.seconds + args.warmup + 60
    with running(args.tw, args.estab, args.close_wait, hold, True, "twtop-tui-bench") as name:
        return _measure(args, twtop, name, psutil)


def _measure(args: argparse.Namespace, twtop: str, name: str, psutil: Any) -> int:
    session = name
    try:
        cmd = f"env TWTOP_CONFIG=/nonexistent TERM=xterm-256color {twtop} --netns {name}"
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd],
                       check=True)  # fmt: skip
        time.sleep(args.warmup)
        pane_pid = int(
            subprocess.run(
                ["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                capture_output=True,
                text=True,
            ).stdout
        )
        proc = psutil.Process(pane_pid)
        kids = [p for p in proc.children(recursive=True) if "twtop" in " ".join(p.cmdline())]
        target = kids[0] if kids else proc
        c0 = target.cpu_times()
        t0 = time.monotonic()
        time.sleep(args.seconds)
        c1 = target.cpu_times()
        wall = time.monotonic() - t0
        cpu = (c1.user + c1.system - c0.user - c0.system) / wall * 100
        latencies = []
        col = 0
        for _ in range(args.presses):
            col = (col + 1) % len(SORT_ORDER)
            want = f"sorted by {SORT_ORDER[col]} "
            start = time.monotonic()
            subprocess.run(["tmux", "send-keys", "-t", session, "s"], check=True)
            while want not in capture(session):
                if time.monotonic() - start > 5:
                    break
                time.sleep(0.005)
            latencies.append((time.monotonic() - start) * 1000)
            time.sleep(0.3)
        screen = capture(session)
        total = next((ln for ln in screen.splitlines() if "sockets" in ln), "").strip()
        print(f"population: {total}")
        print()
        print("| measure | value | target |")
        print("|---|---:|---:|")
        print(
            f"| twtop CPU over {wall:.0f} s at a 1 s interval | {cpu:.1f}% of one core | <= 10% |"
        )
        print(f"| key press -> screen updated, median of {len(latencies)} | "
              f"{statistics.median(latencies):.0f} ms | <= 100 ms |")  # fmt: skip
        print(f"| key press -> screen updated, worst | {max(latencies):.0f} ms | |")
        print("latencies ms:", " ".join(f"{x:.0f}" for x in latencies), file=sys.stderr)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
