#!/usr/bin/env python3
"""twtop at scale: poll, --once --json, TUI CPU, drill-down time and memory, against ss.

    python bench/scale.py --tw 300000                     # mostly TIME_WAIT
    python bench/scale.py --tw 100000 --estab 150000      # 300k ESTABLISHED + 100k TIME_WAIT
    python bench/scale.py --netns NAME                     # an existing namespace

With population flags bench/loadgen.py builds the sockets in a namespace of its own (sustaining
the TIME_WAIT count: TIME_WAIT lasts 60 s, so a level of N needs N/60 new ones a second, which
bounds what one loadgen process can hold on a busy machine) and stops by itself. Measured:

- Collector.poll() (no budget: a full poll), a counts-only poll (what the budget does between
  details) and the kernel's raw dump (one walk, no decode), medians of --runs;
- the installed ``twtop --netns NAME --once --json`` (default sampling, and --sample 0) and
  ``ss -tan``, wall clock, medians of --runs;
- drill-down: ``peer_sockets(row, limit=500)`` into the biggest process group (the ownerless
  TIME_WAITs): time, peak extra RSS (VmHWM after /proc/self/clear_refs 5), RSS after release;
- the TUI (installed binary, tmux 80x24, default --cpu-budget): CPU over --seconds, the header
  clock's lag behind wall time (counts' age), the detail age it shows; then Enter on the biggest
  peer (first page on screen, RSS), Esc (RSS), q (time until the process is gone).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import gc
import json
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
from bench.peer import quit_seconds  # noqa: E402
from bench.snapshot import _median  # noqa: E402


def _cost(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 0
) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, from wait4) of one run of ``cmd``, output discarded;
    killed after ``timeout`` seconds when given (then wall is inf)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG if timeout else 0)
    while not pid and time.monotonic() - t0 < timeout:  # not reaped by Popen: wait4 has the CPU
        time.sleep(0.2)
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if not pid:
        proc.kill()
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        wall = float("inf")
    return wall, usage.ru_utime + usage.ru_stime


def _costs(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> dict[str, float]:
    """Median wall and CPU seconds of ``runs`` runs, and the 1-minute load average meanwhile."""
    got = [_cost(cmd, env) for _ in range(runs)]
    return {
        "wall": statistics.median(w for w, _ in got),
        "cpu": statistics.median(c for _, c in got),
        "load": os.getloadavg()[0],
    }


def _status_kb(field: str, pid: str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def inner(name: str, runs: int, limit: int) -> dict[str, Any]:
    """Run inside the namespace (a child process): engine-level figures."""
    from twtop import netns as netns_mod
    from twtop import wire
    from twtop.collector import Collector
    from twtop.states import MASK_ALL

    fd = os.open(netns_mod.resolve(name), os.O_RDONLY)
    netns_mod._setns(fd)
    os.close(fd)
    sock = wire.open_socket()
    out: dict[str, Any] = {}
    out["raw_dump_s"] = _median(
        lambda: wire.raw_dump_bytes(sock, wire.build_compat_request(MASK_ALL, 1)), runs
    )
    with Collector() as c:
        snap = c.poll()
        out["states"] = {s.name: n for s, n in snap.states.items() if n}
        out["total"] = snap.total
        out["load"] = os.getloadavg()[0]
        out["poll_s"] = _median(c.poll, runs)
        t0 = time.thread_time()
        c.poll()
        out["poll_cpu_s"] = time.thread_time() - t0
    with Collector(
        cpu_budget=0.01
    ) as c:  # a tiny budget: every poll after the first is counts-only
        c.poll()
        cheap, cheap_cpu = [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.thread_time()
            s = c.poll()
            cheap.append(time.perf_counter() - t0)
            cheap_cpu.append(time.thread_time() - c0)
            assert s.detail_age_s > 0
        out["counts_poll_s"] = statistics.median(cheap)
        out["counts_poll_cpu_s"] = statistics.median(cheap_cpu)
    with Collector(group="process") as c:
        row = max(c.poll().peers, key=lambda p: p.total)
        out["drill_group"] = f"{row.peer} ({row.total} sockets)"
        gc.collect()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        base = _status_kb("VmRSS")
        t0, c0 = time.perf_counter(), time.thread_time()
        page = c.peer_sockets(row, limit)
        out["drill_s"] = time.perf_counter() - t0
        out["drill_cpu_s"] = time.thread_time() - c0
        out["drill_peak_extra_mb"] = (_status_kb("VmHWM") - base) / 1024
        out["drill_rows"] = len(page)
        del page
        gc.collect()
        out["drill_after_mb"] = (_status_kb("VmRSS") - base) / 1024
    return out


def _capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True).stdout  # fmt: skip


def _twtop_pid(session: str) -> int:
    import psutil

    pane = int(subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                              capture_output=True, text=True).stdout)  # fmt: skip
    proc = psutil.Process(pane)
    kids = [p for p in proc.children(recursive=True) if "twtop" in " ".join(p.cmdline())]
    return (kids[0] if kids else proc).pid


def tui(twtop: str, name: str, seconds: float, warmup: float) -> dict[str, Any]:
    """CPU, counts' age and detail age over ``seconds``; drill-down, Esc and q in tmux."""
    import psutil

    session = f"twtop-scale-{os.getpid()}"
    out: dict[str, Any] = {}
    cmd = f"env TWTOP_CONFIG=/nonexistent TERM=xterm-256color {twtop} --netns {name}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd],
                   check=True)  # fmt: skip
    try:
        time.sleep(warmup)
        proc = psutil.Process(_twtop_pid(session))
        c0, t0 = proc.cpu_times(), time.monotonic()
        lags, details = [], []
        while time.monotonic() - t0 < seconds:
            time.sleep(1.0)
            line = _capture(session).splitlines()[0]
            m = re.search(r"(\d\d):(\d\d):(\d\d)", line)
            if m:
                h, mi, se = (int(x) for x in m.groups())
                lt = time.localtime()
                lag = (lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec) - (h * 3600 + mi * 60 + se)
                lags.append(lag % 86400)
            d = re.search(r"detail (\d+)s old", line)
            details.append(int(d.group(1)) if d else 0)
        c1 = proc.cpu_times()
        wall = time.monotonic() - t0
        out["cpu_pct"] = (c1.user + c1.system - c0.user - c0.system) / wall * 100
        out["load"] = os.getloadavg()[0]
        out["wall_s"] = wall
        out["header_lag_max_s"] = max(lags) if lags else None
        out["detail_age_max_s"] = max(details)
        out["header"] = line.strip()
        out["rss_before_mb"] = proc.memory_info().rss / 2**20
        # drill-down: the first row of the peers table is the biggest peer (sorted by total)
        before = _capture(session)
        t0 = time.monotonic()
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        shown = None
        while time.monotonic() - t0 < 60:
            screen = _capture(session)
            if (
                screen != before
                and re.search(r"[\d,]+-[\d,]+ of [\d,]+", screen)  # the drill-down's range
                and re.search(r"(TIME_WAIT|ESTABLISHED)", screen)
            ):
                shown = time.monotonic() - t0
                break
            time.sleep(0.02)
        out["drill_first_page_s"] = shown
        peak = proc.memory_info().rss
        for _ in range(10):
            time.sleep(0.3)
            peak = max(peak, proc.memory_info().rss)
        out["drill_rss_mb"] = peak / 2**20
        out["drill_screen_title"] = next(
            (ln.strip() for ln in _capture(session).splitlines() if "PgDn/PgUp" in ln), ""
        )
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        time.sleep(3)
        out["after_esc_rss_mb"] = proc.memory_info().rss / 2**20
        # drill down again and quit right away
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        time.sleep(1.5)
        out["quit_s"] = quit_seconds(session, proc)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return out


def _fmt(c: dict[str, float]) -> str:
    """'1234 ms / 567 ms CPU (load 7.1)'."""
    wall = "killed" if c["wall"] == float("inf") else f"{c['wall'] * 1000:.0f} ms"
    return f"{wall} / {c['cpu'] * 1000:.0f} ms CPU (load {c['load']:.1f})"


def outer(args: argparse.Namespace, name: str) -> int:
    twtop = os.path.join(os.path.dirname(sys.executable), "twtop")
    twtop = twtop if os.path.exists(twtop) else (shutil.which("twtop") or "twtop")
    got = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--inner", name, "--runs", str(args.runs)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    eng = json.loads(got.stdout)
    print(f"engine: {got.stdout.strip()}", file=sys.stderr, flush=True)
    ns = ["ip", "netns", "exec", name]
    once = [twtop, "--netns", name, "--once", "--json"]
    env = {**os.environ, "TWTOP_CONFIG": "/nonexistent"}
    # Interleaved, so a change in the machine's load hits both alike.
    ssr, o1, o0 = [], [], []
    for _ in range(args.runs):
        ssr.append(_costs([*ns, "ss", "-tan"], 1))
        o1.append(_costs(once, 1, env))
        o0.append(_costs([*once, "--sample", "0"], 1, env))
    ss, once_t, once0 = (
        {k: statistics.median(x[k] for x in xs) for k in ("wall", "cpu", "load")}
        for xs in (ssr, o1, o0)
    )
    print(f"ss -tan {ss}, --once --json {once_t}, --sample 0 {once0}", file=sys.stderr, flush=True)
    ssp = None
    if args.ssp_timeout:
        w, c = _cost([*ns, "ss", "-tanp"], timeout=args.ssp_timeout)
        ssp = {"wall": w, "cpu": c, "load": os.getloadavg()[0]}
        print(f"ss -tanp {ssp}", file=sys.stderr, flush=True)
    ui = tui(twtop, name, args.seconds, args.warmup) if args.seconds > 0 else {}
    print(f"population: {eng['total']} sockets {eng['states']} in netns {name}")
    print(
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
        f"Linux {os.uname().release}"
    )
    print()
    print("| what | value | target |\n|---|---:|---|")
    rows = [
        ("engine figures below measured at load", f"{eng['load']:.1f}", ""),
        ("kernel raw dump (one walk, no decode)", f"{eng['raw_dump_s'] * 1000:.0f} ms", ""),
        (
            "Collector.poll(), full",
            f"{eng['poll_s'] * 1000:.0f} ms "
            f"({eng['poll_s'] / eng['raw_dump_s']:.1f}x raw; "
            f"CPU {eng['poll_cpu_s'] * 1000:.0f} ms)",
            "",
        ),
        (
            "counts-only poll (between details)",
            f"{eng['counts_poll_s'] * 1000:.0f} ms (CPU {eng['counts_poll_cpu_s'] * 1000:.0f} ms)",
            "",
        ),
        ("ss -tan: wall / CPU (load)", _fmt(ss), ""),
        (
            "twtop --once --json (2 samples 1 s apart): wall / CPU (load)",
            f"{_fmt(once_t)}; {once_t['wall'] / ss['wall']:.2f}x / "
            f"{once_t['cpu'] / ss['cpu']:.2f}x ss",
            "faster than ss -tan (~1M TW); <= 1.5x (300k ESTABLISHED)",
        ),
        (
            "twtop --once --json --sample 0: wall / CPU (load)",
            f"{_fmt(once0)}; {once0['wall'] / ss['wall']:.2f}x / "
            f"{once0['cpu'] / ss['cpu']:.2f}x ss",
            "",
        ),
        *([("ss -tanp: wall / CPU (load)", _fmt(ssp), "")] if ssp else []),
        (
            f"peer_sockets(limit=500), {eng['drill_group']}",
            f"{eng['drill_s'] * 1000:.0f} ms (CPU {eng['drill_cpu_s'] * 1000:.0f} ms)",
            "< 1 s",
        ),
        (
            "  peak extra RSS / after release",
            f"{eng['drill_peak_extra_mb']:.1f} MB / {eng['drill_after_mb']:.1f} MB",
            "< 100 MB",
        ),
    ]
    if ui:
        first = ui["drill_first_page_s"]
        rows += [
            (
                f"TUI CPU over {ui['wall_s']:.0f} s (1 s interval, default budget)",
                f"{ui['cpu_pct']:.1f}% of one core (load {ui['load']:.1f})",
                "<= 15%",
            ),
            (
                "TUI header clock lag (max; counts' age)",
                f"{ui['header_lag_max_s']} s",
                "<= 1 interval",
            ),
            ("TUI detail age shown (max)", f"{ui['detail_age_max_s']} s", ""),
            (
                "TUI drill-down: Enter -> first page",
                "not seen" if first is None else f"{first * 1000:.0f} ms",
                "< 1 s",
            ),
            (
                "TUI RSS before / in drill-down / after Esc",
                f"{ui['rss_before_mb']:.0f} / {ui['drill_rss_mb']:.0f} / "
                f"{ui['after_esc_rss_mb']:.0f} MB",
                "",
            ),
            (
                "TUI q in a drill-down -> process gone",
                "timeout" if ui["quit_s"] is None else f"{ui['quit_s'] * 1000:.0f} ms",
                "< 1 s",
            ),
        ]
    for what, value, target in rows:
        print(f"| {what} | {value} | {target} |")
    if ui:
        print(f"\nheader: {ui['header']}\ndrill-down title: {ui['drill_screen_title']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Build (or use) the population, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netns", help="measure this existing namespace")
    ap.add_argument("--tw", type=int, default=0, help="TIME_WAIT level (sustained)")
    ap.add_argument("--estab", type=int, default=0, help="ESTABLISHED connections (2 sockets)")
    ap.add_argument("--close-wait", type=int, default=0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=60.0, help="TUI CPU window (0: no TUI)")
    ap.add_argument("--warmup", type=float, default=15.0, help="TUI seconds before measuring")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds after the population is up")
    ap.add_argument(
        "--fast",
        type=int,
        default=0,
        metavar="N",
        help="make the TIME_WAITs with N twgen processes (loadgen --fast)",
    )
    ap.add_argument(
        "--ssp-timeout",
        type=float,
        default=0,
        help="also time ss -tanp once, killed after this many seconds",
    )
    ap.add_argument("--inner", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.inner:
        print(json.dumps(inner(args.inner, args.runs, 500)))
        return 0
    if args.netns:
        return outer(args, args.netns)
    hold = 880  # loadgen's limit is 900 s; the measurements stop the population when done
    with running(args.tw, args.estab, args.close_wait, hold, True, "perf-scale", args.fast) as name:
        time.sleep(args.settle)
        return outer(args, name)


if __name__ == "__main__":
    sys.exit(main())
