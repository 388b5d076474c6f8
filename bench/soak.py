#!/usr/bin/env python3
"""Soak: the TUI in tmux and repeated ``--once`` against churning sockets, RSS and CPU sampled.

    python bench/soak.py                        # 30 minutes, 50k TIME_WAIT churning
    python bench/soak.py --minutes 5 --tw 50000 --estab 2000 --close-wait 500

The script makes a namespace of its own (deleted at the end) and runs bench/loadgen.py inside it
to keep the population churning (the TIME_WAIT count is sustained: tw/60 new connections a
second, as many expire); loadgen stops by itself after at most 15 min, so a longer soak starts a
new one when it ends (the TIME_WAITs of the old one are still there then: no gap). The installed
``twtop --netns NAME`` runs in tmux at 80x24; every --every seconds the TUI's RSS and CPU (since
the previous sample, % of one core) are sampled, and ``twtop --once --json`` runs once (its wall
time, exit code and peak RSS from wait4). Prints the samples and a Markdown summary: RSS
first/last/max, CPU mean/max, --once failures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.loadgen import MAX_HOLD_S  # noqa: E402

LOADGEN = os.path.join(ROOT, "bench", "loadgen.py")


def _once(twtop: str, name: str) -> tuple[float, int, float]:
    """Wall seconds, exit code and peak RSS (MB) of one ``--once --json``."""
    env = {**os.environ, "TWTOP_CONFIG": "/nonexistent"}
    t0 = time.monotonic()
    proc = subprocess.Popen([twtop, "--netns", name, "--once", "--json"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    return wall, os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024


class Churn:
    """loadgen.py inside the namespace, restarted whenever it ends (it stops by itself)."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.cmd = ["ip", "netns", "exec", name, sys.executable, LOADGEN, "--tw", str(args.tw),
                    "--estab", str(args.estab), "--close-wait", str(args.close_wait), "--hold",
                    str(min(MAX_HOLD_S - 60, args.minutes * 60 + 60)), "--sustain"]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def keep_going(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL)
            self.starts += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


def soak(twtop: str, name: str, churn: Churn, minutes: float, every: float) -> int:
    import psutil

    session = f"twtop-soak-{os.getpid()}"
    cmd = f"env TWTOP_CONFIG=/nonexistent TERM=xterm-256color {twtop} --netns {name}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd],
                   check=True)  # fmt: skip
    try:
        time.sleep(5)
        pid = int(subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                                 capture_output=True, text=True).stdout)  # fmt: skip
        proc = psutil.Process(pid)
        start = time.monotonic()
        end = start + minutes * 60
        prev_cpu, prev_t = proc.cpu_times(), start
        rss, cpu, onces, fails = [], [], [], 0
        print("| t s | TUI RSS MB | TUI CPU % | --once s | --once rc | --once peak RSS MB | load |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        while time.monotonic() < end:
            churn.keep_going()
            wall, rc, peak = _once(twtop, name)
            onces.append(wall)
            fails += rc != 0
            time.sleep(max(0.0, every - wall))
            now, c = time.monotonic(), proc.cpu_times()
            pct = (c.user + c.system - prev_cpu.user - prev_cpu.system) / (now - prev_t) * 100
            prev_cpu, prev_t = c, now
            mb = proc.memory_info().rss / 2**20
            rss.append(mb)
            cpu.append(pct)
            load = os.getloadavg()[0]  # the machine may be shared: say how busy it was
            print(f"| {now - start:.0f} | {mb:.1f} | {pct:.1f} | {wall:.2f} | {rc} | {peak:.0f} "
                  f"| {load:.1f} |", flush=True)  # fmt: skip
        alive = proc.is_running()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    print()
    print(f"soak: {minutes:g} min, {len(onces)} samples every {every:g} s, TUI alive at the end: "
          f"{alive}, loadgen started {churn.starts} time(s)")  # fmt: skip
    print("| measure | value |\n|---|---:|")
    print(f"| TUI RSS first / last / max | {rss[0]:.1f} / {rss[-1]:.1f} / {max(rss):.1f} MB |")
    print(f"| TUI CPU mean / max of samples | {statistics.mean(cpu):.1f}% / {max(cpu):.1f}% |")
    print(f"| --once --json runs / failures | {len(onces)} / {fails} |")
    print(f"| --once --json wall median / max | {statistics.median(onces):.2f} / "
          f"{max(onces):.2f} s |")  # fmt: skip
    return 0 if alive and not fails else 1


def main(argv: list[str] | None = None) -> int:
    """Build the churning population, soak, print."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    ap.add_argument("--tw", type=int, default=50_000, help="TIME_WAIT level (churning)")
    ap.add_argument("--estab", type=int, default=2_000)
    ap.add_argument("--close-wait", type=int, default=500)
    ap.add_argument("--prefix", default="twtop-soak", help="namespace name prefix")
    args = ap.parse_args(argv)
    twtop = os.path.join(os.path.dirname(sys.executable), "twtop")
    twtop = twtop if os.path.exists(twtop) else (shutil.which("twtop") or "twtop")
    name = f"{args.prefix}-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    churn = Churn(name, args)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        for key, value in (("net.ipv4.tcp_tw_reuse", "0"),
                           ("net.ipv4.ip_local_port_range", "10000 65000")):  # fmt: skip
            subprocess.run(["ip", "netns", "exec", name, "sysctl", "-q", "-w", f"{key}={value}"],
                           check=True)  # fmt: skip
        churn.keep_going()
        time.sleep(20)  # the first population
        return soak(twtop, name, churn, args.minutes, args.every)
    finally:
        churn.stop()
        subprocess.run(["ip", "netns", "del", name], check=False)


if __name__ == "__main__":
    sys.exit(main())
