#!/usr/bin/env python3
"""Where twtop's CPU goes: the TUI per thread, and the counts-only poll's user vs system time.

    python bench/threads.py --tw 100000 --estab 150000 --seconds 60   # loadgen population
    python bench/threads.py --netns NAME --seconds 60                  # an existing namespace

Runs the installed ``twtop --netns NAME`` in tmux at 120x24 (at 80 columns the header clock is
cut), 1 s interval, default --cpu-budget,
and reads /proc/PID/task/*/stat before and after --seconds: user and system time per thread
(named by /proc/PID/task/TID/comm: ``twtop-poll`` counts, ``twtop-detail`` the detail walk, the
main thread is Textual's UI loop), as % of one core. Once a second the header's clock is
compared with the wall clock (the counts' age; 1 s resolution) and its "detail Ns old" read.
Then in this process (--runs times): a counts-only poll on its own session, with the calling
thread's user and system time (/proc/thread-self/stat), and its kernel dumps alone (raw recv of
the small-states dump and of the LISTEN dump, no decode). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.loadgen import running  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
LIVE_S = 15  # seconds of poll_live without the UI


def task_times(pid: int) -> dict[int, tuple[str, float, float]]:
    """tid -> (comm, user s, system s) of every thread of ``pid``."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(tid)] = (comm, int(fields[11]) / TICK, int(fields[12]) / TICK)
    return out


def proc_times(pid: int) -> tuple[float, float]:
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def thread_self() -> tuple[float, float]:
    """The calling thread's (user s, system s)."""
    with open("/proc/thread-self/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True).stdout  # fmt: skip


def twtop_pid(session: str) -> int:
    pane = subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                          capture_output=True, text=True, check=True).stdout.split()[0]  # fmt: skip
    import psutil

    for _ in range(100):
        kids = psutil.Process(int(pane)).children(recursive=True)
        named = [k for k in kids if "twtop" in " ".join(k.cmdline())]
        if named:
            return named[-1].pid
        time.sleep(0.1)
    return int(pane)


def tui(twtop: str, name: str, seconds: float, warmup: float, budget: str) -> dict[str, Any]:
    session = f"twtop-threads-{os.getpid()}"
    cmd = (f"env TWTOP_CONFIG=/nonexistent TERM=xterm-256color {twtop} --netns {name}"
           f" --cpu-budget {budget}")  # fmt: skip
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "24", cmd],
                   check=True)  # fmt: skip
    try:
        time.sleep(warmup)
        pid = twtop_pid(session)
        t0, p0, w0 = task_times(pid), proc_times(pid), time.monotonic()
        lags, details, header = [], [], ""
        while time.monotonic() - w0 < seconds:
            time.sleep(1.0)
            header = capture(session).splitlines()[0]
            m = re.search(r"(\d\d):(\d\d):(\d\d)", header)
            if m:
                h, mi, se = (int(x) for x in m.groups())
                lt = time.localtime()
                lags.append(((lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec)
                             - (h * 3600 + mi * 60 + se)) % 86400)  # fmt: skip
            d = re.search(r"detail (\d+)s old", header)
            details.append(int(d.group(1)) if d else 0)
        t1, p1, wall = task_times(pid), proc_times(pid), time.monotonic() - w0
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    threads = []
    for tid, (comm, u1, s1) in t1.items():
        _c, u0, s0 = t0.get(tid, (comm, 0.0, 0.0))
        threads.append((("main/UI " if tid == pid else "") + comm, tid, (u1 - u0) / wall * 100,
                        (s1 - s0) / wall * 100))  # fmt: skip
    total = (p1[0] + p1[1] - p0[0] - p0[1]) / wall * 100
    gone = total - sum(u + s for _n, _t, u, s in threads)
    threads.sort(key=lambda t: -t[2] - t[3])
    return {"wall": wall, "total_pct": total, "threads": threads,
            "exited_pct": gone, "lag_max": max(lags) if lags else None,
            "lag_median": statistics.median(lags) if lags else None,
            "detail_max": max(details), "header": header.strip(),
            "load": os.getloadavg()}  # fmt: skip


def engine(name: str, runs: int) -> dict[str, Any]:
    from twtop import schedule
    from twtop.budget import SMALL_MASK
    from twtop.collector import Collector
    from twtop.states import TcpState

    c = Collector(netns=name, cpu_budget=10)
    c.poll()  # the first detail
    rows: list[tuple[float, float, float]] = []
    dumps: list[tuple[float, float, float]] = []
    for _ in range(runs):
        u0, s0 = thread_self()
        w0 = time.perf_counter()
        with c._build_lock:
            c._poll(False, c._counts, live=True)
        u1, s1 = thread_self()
        rows.append((time.perf_counter() - w0, u1 - u0, s1 - s0))
        u0, s0 = thread_self()
        w0 = time.perf_counter()
        n = 0
        for mask in (SMALL_MASK, 1 << TcpState.LISTEN):
            for _buf, length, got in c._counts.chunks(mask):
                n += length or len(got or ())
        u1, s1 = thread_self()
        dumps.append((time.perf_counter() - w0, u1 - u0, s1 - s0))
    # poll_live once a second for LIVE_S, as the TUI's poll thread does, without the UI
    u0, s0 = thread_self()
    w0 = time.perf_counter()
    for _ in range(LIVE_S):
        t = time.perf_counter()
        c.poll_live()
        time.sleep(max(0.0, 1.0 - (time.perf_counter() - t)))
    u1, s1 = thread_self()
    span = time.perf_counter() - w0
    live = ((u1 - u0) / span * 100, (s1 - s0) / span * 100, c.live.details)
    details = []
    for _ in range(2):  # the detail walk alone (what the twtop-detail thread does)
        u0, s0 = thread_self()
        w0 = time.perf_counter()
        with c._lock:
            schedule.detail_counts(c)
        u1, s1 = thread_self()
        details.append((time.perf_counter() - w0, u1 - u0, s1 - s0))
    c.close()

    def med(xs: list[tuple[float, float, float]], i: int) -> float:
        return statistics.median(x[i] for x in xs) * 1000

    return {"counts": [med(rows, i) for i in range(3)], "dumps": [med(dumps, i) for i in range(3)],
            "detail": [med(details, i) for i in range(3)], "live": live,
            "load": os.getloadavg()[0]}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netns", help="measure this existing namespace")
    ap.add_argument("--tw", type=int, default=0)
    ap.add_argument("--estab", type=int, default=0)
    ap.add_argument("--fast", type=int, default=0, metavar="N", help="loadgen --fast, N workers")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=15.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--budget", default="10", help="--cpu-budget for the TUI")
    args = ap.parse_args()
    twtop = os.path.join(os.path.dirname(sys.executable), "twtop")
    twtop = twtop if os.path.exists(twtop) else (shutil.which("twtop") or "twtop")
    if args.netns:
        return report(args, twtop, args.netns)
    hold = args.seconds + args.warmup + 120
    with running(args.tw, args.estab, 0, hold, True, "twtop-fresh", args.fast) as name:
        time.sleep(5)
        return report(args, twtop, name)


def report(args: argparse.Namespace, twtop: str, name: str) -> int:
    out = subprocess.run(["ip", "netns", "exec", name, "cat", "/proc/net/sockstat"],
                         capture_output=True, text=True).stdout  # fmt: skip
    print(f"population (sockstat): {' '.join(out.split()[-14:])}")
    eng = engine(name, args.runs)
    ui = tui(twtop, name, args.seconds, args.warmup, args.budget)
    print(f"load after: {ui['load']}")
    print(f"header: {ui['header']}\n")
    print("| what | value |\n|---|---:|")
    cw, cu, cs = eng["counts"]
    dw, du, ds = eng["dumps"]
    print(f"| counts-only poll: wall / user / system (load {eng['load']:.1f}) | "
          f"{cw:.0f} / {cu:.0f} / {cs:.0f} ms |")  # fmt: skip
    print(f"| its two dumps alone (small states + LISTEN, raw): wall / user / system | "
          f"{dw:.0f} / {du:.0f} / {ds:.0f} ms |")  # fmt: skip
    xw, xu, xs = eng["detail"]
    print("| the detail walk alone (schedule.detail_counts): wall / user / system | "
          f"{xw:.0f} / {xu:.0f} / {xs:.0f} ms |")  # fmt: skip
    lu, ls, ld = eng["live"]
    print(f"| poll_live() each second for {LIVE_S} s, no UI: the polling thread's user / system | "
          f"{lu:.1f}% / {ls:.1f}% ({ld} detail walks) |")  # fmt: skip
    print(f"| TUI CPU over {ui['wall']:.0f} s (budget {args.budget}%) | "
          f"{ui['total_pct']:.1f}% of one core |")  # fmt: skip
    for comm, tid, u, s in ui["threads"]:
        if u + s >= 0.05:
            print(f"|   thread {comm} ({tid}): user / system | {u:.1f}% / {s:.1f}% |")
    print(f"|   threads that exited | {ui['exited_pct']:.1f}% |")
    print(f"| header clock lag (counts' age), median / max | {ui['lag_median']} / "
          f"{ui['lag_max']} s |")  # fmt: skip
    print(f"| detail age shown (max) | {ui['detail_max']} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
