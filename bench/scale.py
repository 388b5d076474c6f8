#!/usr/bin/env python3
"""twtop at ~1M sockets: the issue's CPU, freshness, memory and time budget, against ss.

    .venv/bin/python bench/scale.py                  # both cases below, one table
    .venv/bin/python bench/scale.py --case 1m        # ~1M: 800k TIME_WAIT + 100k ESTABLISHED pairs
    .venv/bin/python bench/scale.py --case estab     # 150k ESTABLISHED pairs + 100k TIME_WAIT
    .venv/bin/python bench/scale.py --twtop /work/main/.venv/bin/twtop   # another build
    .venv/bin/python bench/scale.py --netns NAME     # an existing namespace, as it is
    .venv/bin/python bench/scale.py --tw 20000 --estab 1000 --seconds 10 --lock ''   # a quick check

Each case takes the bench lock (/tmp/twtop-bench.lock, flock) for its own run (~4-7 min), builds
its population with bench/loadgen.py in a namespace of its own (``twtop-scale-PID``, with a
socket hash table of its own, --ehash: so the dumps walk only this population and the other
namespaces' dumps do not walk it), and stops it when done (loadgen also stops by itself). The
TIME_WAITs are made by bench/twgen.c processes (--fast): a TIME_WAIT lasts 60 s, so a level of
800k needs ~13.3k new connections a second, sustained while everything below runs; the
population is sampled at each step (it falls when the generators do not get the CPU).

Measured, with the load average beside each figure (the machine is shared: compare CPU times):
- generators: new connections a second, their CPU (per connection);
- engine (the build's own Python, in the namespace): raw dump, Collector.poll() full and
  counts-only, a first drill-down page of the biggest process group (time, peak extra RSS);
- ``twtop --once --json`` against ``ss -tan``, interleaved, medians of --runs (wall and CPU from
  wait4); ``ss -tanp`` once under --ssp-timeout (the estab case);
- the TUI (tmux, --cols x 24, 1 s interval, default --cpu-budget): CPU over --seconds; the
  header clock's lag behind wall time (how old the counts are; needs the columns to show it)
  and the detail age it shows; then ``g`` to the process grouping, Enter on the biggest group
  (first page on screen, peak RSS), Esc (RSS 3 s later), Enter again and ``q`` (until gone).
Prints one Markdown table (a column per case).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = "/tmp/twtop-bench.lock"
CASES: dict[str, dict[str, Any]] = {
    "1m": {"tw": 800_000, "estab": 100_000, "fast": 2, "ssp": 0.0},
    "estab": {"tw": 100_000, "estab": 150_000, "fast": 1, "ssp": 120.0},
}
EHASH = 262_144  # this host's own table size (dmesg: "TCP established hash table entries")


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


def _status_kb(field: str, pid: str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _cpu(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and thread CPU seconds of ``runs`` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.thread_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def inner(name: str, runs: int) -> dict[str, Any]:
    """Run inside the namespace, by the measured build's own Python: engine-level figures."""
    from twtop import netns as netns_mod
    from twtop import wire
    from twtop.collector import Collector
    from twtop.states import MASK_ALL

    fd = os.open(netns_mod.resolve(name), os.O_RDONLY)
    netns_mod._setns(fd)
    os.close(fd)
    out: dict[str, Any] = {"load": os.getloadavg()[0]}
    sock = wire.open_socket()
    req = wire.build_compat_request(MASK_ALL, 1)
    out["raw_s"], out["raw_cpu_s"] = _cpu(lambda: wire.raw_dump_bytes(sock, req), runs)
    with Collector() as c:
        c.poll()
        out["poll_s"], out["poll_cpu_s"] = _cpu(c.poll, runs)
    # a tiny budget: every poll after the first is counts-only
    with Collector(cpu_budget=0.01) as c:
        c.poll()
        out["counts_s"], out["counts_cpu_s"] = _cpu(c.poll, runs)
    with Collector(group="process") as c:
        row = max(c.poll().peers, key=lambda p: p.total)
        out["drill_group"] = f"{row.peer} ({row.total:,} sockets)"
        gc.collect()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        base = _status_kb("VmRSS")
        t0, c0 = time.perf_counter(), time.thread_time()
        try:  # the first page as the TUI fetches it
            from twtop import pages

            page: Any = c.peer_page(row, pages.PageQuery(), pages.Seen())
            out["drill_api"] = "peer_page"
        except (ImportError, AttributeError):
            page = c.peer_sockets(row, 500)
            out["drill_api"] = "peer_sockets(limit=500)"
        out["drill_s"] = time.perf_counter() - t0
        out["drill_cpu_s"] = time.thread_time() - c0
        out["drill_peak_extra_mb"] = (_status_kb("VmHWM") - base) / 1024
        del page
        gc.collect()
        out["drill_after_mb"] = (_status_kb("VmRSS") - base) / 1024
    return out


def population(name: str) -> dict[str, int]:
    """TIME_WAIT (sockstat ``tw``), ESTABLISHED (snmp CurrEstab), sockets in use and connect()s
    so far (snmp ActiveOpens) of namespace ``name``, read from its /proc/net."""
    got = subprocess.run(["ip", "netns", "exec", name, "cat", "/proc/net/sockstat",
                          "/proc/net/snmp"], capture_output=True, text=True).stdout  # fmt: skip
    out = {"tw": 0, "inuse": 0, "estab": 0, "opens": 0}
    tcp = [ln.split() for ln in got.splitlines() if ln.startswith("Tcp:")]
    for line in got.splitlines():
        if line.startswith("TCP:"):
            w = line.split()
            out["tw"], out["inuse"] = int(w[w.index("tw") + 1]), int(w[w.index("inuse") + 1])
    if len(tcp) == 2:
        snmp = dict(zip(tcp[0][1:], tcp[1][1:], strict=True))
        out["estab"], out["opens"] = int(snmp["CurrEstab"]), int(snmp["ActiveOpens"])
    out["t"] = int(time.monotonic() * 1000)
    out["load"] = int(os.getloadavg()[0] * 10)
    return out


def _generators(name: str) -> list[int]:
    """PIDs of the twgen processes in namespace ``name``."""
    try:
        ino = os.stat(f"/run/netns/{name}").st_ino
    except OSError:
        return []
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            if (
                open(f"/proc/{pid}/comm").read().strip() == "twgen"  # noqa: SIM115
                and os.stat(f"/proc/{pid}/ns/net").st_ino == ino
            ):
                pids.append(int(pid))
    return pids


def _ticks(pids: list[int]) -> float:
    """CPU seconds (user + system) of ``pids`` so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True).stdout  # fmt: skip


def _keys(session: str, *keys: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", session, *keys], check=True)


def _wait_screen(session: str, ok: Callable[[str], bool], limit: float) -> float | None:
    """Seconds until the pane satisfies ``ok`` (None: ``limit`` passed)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if ok(_capture(session)):
            return time.monotonic() - t0
        time.sleep(0.02)
    return None


def _twtop_pid(session: str) -> int:
    import psutil

    pane = int(subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                              capture_output=True, text=True).stdout)  # fmt: skip
    proc = psutil.Process(pane)
    kids = [p for p in proc.children(recursive=True) if "twtop" in " ".join(p.cmdline())]
    return (kids[0] if kids else proc).pid


def _in_drill(screen: str) -> bool:
    return bool(re.search(r"[\d,]+-[\d,]+ of [\d,]+", screen)) and bool(
        re.search(r"(TIME_WAIT|ESTABLISHED)", screen)
    )


def tui(twtop: str, name: str, args: argparse.Namespace, pops: list[dict[str, int]]) -> dict:
    """CPU, counts' age and detail age over ``args.seconds``; drill-down, Esc and q in tmux."""
    import psutil

    from bench.peer import quit_seconds

    session = f"twtop-scale-{os.getpid()}"
    out: dict[str, Any] = {}
    cmd = f"env TWTOP_CONFIG=/nonexistent TERM=xterm-256color {twtop} --netns {name}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", str(args.cols), "-y", "24",
                    cmd], check=True)  # fmt: skip
    try:
        time.sleep(args.warmup)
        proc = psutil.Process(_twtop_pid(session))
        pops.append(population(name))
        c0, t0 = proc.cpu_times(), time.monotonic()
        lags, details, line = [], [], ""
        while time.monotonic() - t0 < args.seconds:
            time.sleep(1.0)
            line = _capture(session).splitlines()[0]
            if m := re.search(r"\b(\d\d):(\d\d):(\d\d)\b", line):
                h, mi, se = (int(x) for x in m.groups())
                lt = time.localtime()
                lag = (lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec) - (h * 3600 + mi * 60 + se)
                lags.append(lag % 86400)
            d = re.search(r"detail (\d+)s old", line)
            details.append(int(d.group(1)) if d else 0)
        c1 = proc.cpu_times()
        wall = time.monotonic() - t0
        pops.append(population(name))
        out["cpu_pct"] = (c1.user + c1.system - c0.user - c0.system) / wall * 100
        out["load"] = os.getloadavg()[0]
        out["wall_s"] = wall
        out["lag_max_s"] = max(lags) if lags else None
        out["lag_median_s"] = statistics.median(lags) if lags else None
        out["detail_age_max_s"] = max(details)
        out["header"] = line.strip()
        out["rss_before_mb"] = proc.memory_info().rss / 2**20
        # g until the peers are grouped by process: the first row is then the biggest group
        t0 = time.monotonic()

        def grouping(screen: str) -> str:
            m = re.search(r"Peers by (.+?) —", screen)
            return m.group(1) if m else ""

        for _ in range(4):  # ip -> ip:port -> local port -> process; each press seen first
            now = grouping(_capture(session))
            if now == "process":
                break
            _keys(session, "g")
            _wait_screen(session, lambda s, now=now: grouping(s) != now, 30)

        def grouped(screen: str) -> bool:
            return "by process" in screen and "(no owner)" in screen

        seen = _wait_screen(session, grouped, 60)
        out["regroup_s"] = None if seen is None else time.monotonic() - t0
        lines = _capture(session).splitlines()
        heads = [i for i, ln in enumerate(lines) if "TOTAL" in ln]
        out["drill_row"] = lines[heads[0] + 1].strip("│ ") if heads else ""
        out["rss_grouped_mb"] = proc.memory_info().rss / 2**20  # the drill-down's own baseline
        t0 = time.monotonic()
        _keys(session, "Enter")
        peak = proc.memory_info().rss
        shown = None
        while time.monotonic() - t0 < 60:
            peak = max(peak, proc.memory_info().rss)
            if _in_drill(_capture(session)):
                shown = time.monotonic() - t0
                break
            time.sleep(0.02)
        out["drill_first_page_s"] = shown
        for _ in range(10):
            time.sleep(0.3)
            peak = max(peak, proc.memory_info().rss)
        out["drill_rss_mb"] = peak / 2**20
        out["drill_title"] = next(
            (ln.strip("│ ") for ln in _capture(session).splitlines() if " of " in ln), ""
        )
        _keys(session, "Escape")
        time.sleep(3)
        out["after_esc_rss_mb"] = proc.memory_info().rss / 2**20
        _keys(session, "Enter")  # drill down again and quit while its page is fetched
        time.sleep(0.5)
        out["quit_s"] = quit_seconds(session, proc)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return out


def measure(args: argparse.Namespace, name: str, ssp_timeout: float) -> dict[str, Any]:
    """Everything for one namespace; the population is sampled along the way."""
    twtop = args.twtop
    python = os.path.join(os.path.dirname(twtop), "python")
    python = python if os.path.exists(python) else sys.executable
    res: dict[str, Any] = {"pops": [population(name)], "uptime_start": _uptime()}
    gens = _generators(name)
    g0 = (_ticks(gens), time.monotonic(), res["pops"][0]["opens"])
    res["generators"], res["gen_nice"] = len(gens), args.gen_nice
    got = subprocess.run([python, os.path.abspath(__file__), "--inner", name, "--runs",
                          str(args.runs)], capture_output=True, text=True)  # fmt: skip
    try:
        res["engine"] = json.loads(got.stdout)
    except ValueError:
        res["engine"] = {"error": (got.stderr.strip().splitlines() or ["no output"])[-1]}
    print(f"engine: {res['engine']}", file=sys.stderr, flush=True)
    res["pops"].append(population(name))
    ns = ["ip", "netns", "exec", name]
    once = [twtop, "--netns", name, "--once", "--json"]
    env = {**os.environ, "TWTOP_CONFIG": "/nonexistent"}
    ssr, o1 = [], []
    for _ in range(args.runs):  # interleaved, so a change in the machine's load hits both alike
        ssr.append((*_cost([*ns, "ss", "-tan"]), os.getloadavg()[0]))
        o1.append((*_cost(once, env), os.getloadavg()[0]))
    res["ss"], res["once"] = (
        {k: statistics.median(x[i] for x in xs) for i, k in enumerate(("wall", "cpu", "load"))}
        for xs in (ssr, o1)
    )
    print(f"ss -tan {res['ss']}, --once --json {res['once']}", file=sys.stderr, flush=True)
    res["pops"].append(population(name))
    if ssp_timeout:
        w, c = _cost([*ns, "ss", "-tanp"], timeout=ssp_timeout)
        res["ssp"] = {"wall": w, "cpu": c, "load": os.getloadavg()[0], "timeout": ssp_timeout}
        print(f"ss -tanp {res['ssp']}", file=sys.stderr, flush=True)
    res["tui"] = tui(twtop, name, args, res["pops"]) if args.seconds > 0 else {}
    res["pops"].append(population(name))
    p1 = res["pops"][-1]
    dt = time.monotonic() - g0[1]
    res["gen_rate"] = (p1["opens"] - g0[2]) / dt
    res["gen_cpu_pct"] = (_ticks(gens) - g0[0]) / dt * 100
    res["uptime_end"] = _uptime()
    return res


def _uptime() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    """Hold the bench lock (flock) while the body runs; '' holds nothing."""
    if not path:
        yield
        return
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for the bench lock {path}", file=sys.stderr, flush=True)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_case(args: argparse.Namespace, case: str) -> dict[str, Any]:
    """Build the case's population (under the bench lock), measure, stop it."""
    from bench.loadgen import running

    spec = CASES[case]
    ssp = args.ssp_timeout if args.ssp_timeout is not None else spec["ssp"]
    with _locked(args.lock):
        t0 = time.monotonic()
        print(f"{case}: building {spec}; {_uptime()}", file=sys.stderr, flush=True)
        hold = 880  # loadgen's limit is 900 s; the measurements stop the population when done
        with running(spec["tw"], spec["estab"], 0, hold, True, "twtop-scale", spec["fast"],
                     args.ehash, args.gen_nice) as name:  # fmt: skip
            time.sleep(args.settle)
            res = measure(args, name, ssp)
        res["case"], res["spec"] = case, spec
        res["minutes"] = (time.monotonic() - t0) / 60
    print(f"{case}: done in {res['minutes']:.1f} min", file=sys.stderr, flush=True)
    return res


def _k(n: float) -> str:
    return f"{n / 1000:.0f}k"


def _pop(p: dict[str, int]) -> str:
    return f"{_k(p['tw'])} TW + {_k(p['estab'])} ESTAB ({_k(p['inuse'] + p['tw'])})"


def _wc(c: dict[str, float] | None) -> str:
    """'1.23 s / 0.45 s CPU (load 7.1)'."""
    if not c:
        return ""
    wall = "killed" if c["wall"] == float("inf") else f"{c['wall']:.2f} s"
    return f"{wall} / {c['cpu']:.2f} s CPU (load {c['load']:.1f})"


def _s(x: float | None, unit: str = "s", nd: int = 2) -> str:
    return "not seen" if x is None else f"{x:.{nd}f} {unit}"


def table(results: list[dict[str, Any]], twtop: str) -> str:
    """One Markdown table: a row per figure, a column per case."""
    rows: list[tuple[str, list[str], str]] = []

    def row(what: str, fn: Callable[[dict[str, Any]], str], target: str = "") -> None:
        vals = []
        for r in results:
            try:
                vals.append(fn(r))
            except (KeyError, TypeError, ZeroDivisionError):
                vals.append("n/a")
        rows.append((what, vals, target))

    def tw_range(r: dict[str, Any]) -> str:
        tws = [p["tw"] for p in r["pops"]]
        return f"{_k(min(tws))}-{_k(max(tws))} TW"

    row("population at start (sockstat tw + inuse)", lambda r: _pop(r["pops"][0]))
    row("TIME_WAIT during the run (min-max of samples)", tw_range)
    row("load average at start / end", lambda r: f"{r['uptime_start']} / {r['uptime_end']}")
    row(
        "generators: new connections/s, their CPU (per connection)",
        lambda r: (
            f"{r['gen_rate']:,.0f}/s, {r['gen_cpu_pct']:.0f}% of a core "
            f"({r['gen_cpu_pct'] / 100 / max(r['gen_rate'], 1) * 1e6:.0f} us) "
            f"by {r['generators']} (nice {r.get('gen_nice', 0)})"
        ),
    )
    e = "engine"
    row(
        "engine: kernel raw dump, one walk: wall / CPU",
        lambda r: f"{r[e]['raw_s']:.2f} / {r[e]['raw_cpu_s']:.2f} s (load {r[e]['load']:.1f})",
    )
    row(
        "engine: Collector.poll(), full: wall / CPU",
        lambda r: f"{r[e]['poll_s']:.2f} / {r[e]['poll_cpu_s']:.2f} s",
    )
    row(
        "engine: counts-only poll (budget, between details): CPU",
        lambda r: f"{r[e]['counts_cpu_s'] * 1000:.0f} ms",
    )
    row(
        "engine: first drill-down page of the biggest group: wall / CPU",
        lambda r: f"{r[e]['drill_s']:.2f} / {r[e]['drill_cpu_s']:.2f} s, {r[e]['drill_group']}",
        "< 1 s",
    )
    row("engine: that page's peak extra RSS / after release",
        lambda r: f"{r[e]['drill_peak_extra_mb']:.0f} / {r[e]['drill_after_mb']:.0f} MB",
        "< 100 MB")  # fmt: skip
    row("`ss -tan`: wall / CPU", lambda r: _wc(r["ss"]))
    row("`twtop --once --json`: wall / CPU", lambda r: _wc(r["once"]))
    row(
        "`--once --json` / `ss -tan`: CPU, wall",
        lambda r: (
            f"**{r['once']['cpu'] / r['ss']['cpu']:.2f}x**, "
            f"{r['once']['wall'] / r['ss']['wall']:.2f}x"
        ),
        "< 1x (1M TW); <= 1.5x (300k ESTAB)",
    )
    row("`ss -tanp`: wall / CPU", lambda r: _wc(r.get("ssp")) or "-")
    t = "tui"
    row(
        "TUI CPU, default budget (--seconds)",
        lambda r: (
            f"**{r[t]['cpu_pct']:.1f}%** of one core over {r[t]['wall_s']:.0f} s "
            f"(load {r[t]['load']:.1f})"
        ),
        "<= 15%",
    )
    row(
        "TUI counts' age: header clock behind wall clock, max / median",
        lambda r: f"{r[t]['lag_max_s']} / {r[t]['lag_median_s']} s",
        "<= 1 interval (1 s)",
    )
    row("TUI detail age shown, max", lambda r: f"{r[t]['detail_age_max_s']} s")
    row(
        "TUI `g` x3 -> process grouping on screen (its biggest group first)",
        lambda r: _s(r[t]["regroup_s"]),
    )
    row(
        "TUI Enter on the biggest group -> first page on screen",
        lambda r: _s(r[t]["drill_first_page_s"]),
        "< 1 s",
    )
    row(
        "TUI RSS at start / grouped by process, before Enter / peak in drill-down / 3 s after Esc",
        lambda r: (
            f"{r[t]['rss_before_mb']:.0f} / {r[t].get('rss_grouped_mb', 0):.0f} / "
            f"{r[t]['drill_rss_mb']:.0f} / {r[t]['after_esc_rss_mb']:.0f} MB"
        ),
        "extra < 100 MB, released",
    )
    row("TUI `q` in a drill-down -> process gone",
        lambda r: "not within 30 s" if r[t]["quit_s"] is None else f"{r[t]['quit_s']:.2f} s",
        "< 1 s")  # fmt: skip
    row("minutes for the case (bench lock held)", lambda r: f"{r.get('minutes', 0):.1f}")
    names = [r.get("case", "netns") for r in results]
    lines = [
        f"twtop: {twtop}; {os.cpu_count()} cores, Linux {os.uname().release}",
        "",
        "| what | " + " | ".join(names) + " | target |",
        "|---|" + "---:|" * len(names) + "---|",
    ]
    lines += [f"| {w} | " + " | ".join(v) + f" | {tg} |" for w, v, tg in rows]
    for r in results:
        tu = r.get("tui") or {}
        lines.append(
            f"\n{r.get('case', 'netns')}: header `{tu.get('header', '')}`; group row "
            f"`{tu.get('drill_row', '')}`; drill-down `{tu.get('drill_title', '')}`"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build (or use) the populations, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=[*CASES, "all"], default="all")
    ap.add_argument("--tw", type=int, help="a case of your own: TIME_WAIT level (sustained)")
    ap.add_argument("--estab", type=int, default=0, help="with --tw: ESTABLISHED pairs")
    ap.add_argument("--fast", type=int, default=1, help="with --tw: twgen processes")
    ap.add_argument("--netns", help="measure this existing namespace as it is (no lock taken)")
    ap.add_argument("--twtop", help="the twtop to measure (default: beside this Python)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=60.0, help="TUI CPU window (0: no TUI)")
    ap.add_argument("--warmup", type=float, default=10.0, help="TUI seconds before measuring")
    ap.add_argument("--cols", type=int, default=100, help="TUI width (the clock must show)")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds after the population is up")
    ap.add_argument("--ehash", type=int, default=EHASH,
                    help="namespace's own socket hash buckets (0: share the host's)")  # fmt: skip
    ap.add_argument("--gen-nice", type=int, default=-5,
                    help="the generators' niceness (ahead: the level holds)")  # fmt: skip
    ap.add_argument("--ssp-timeout", type=float, help="time ss -tanp, killed after this (s)")
    ap.add_argument("--lock", default=LOCK, help="bench lock file ('' for none)")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--inner", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.inner:  # the measured build's own twtop package: ROOT is not put first on the path
        print(json.dumps(inner(args.inner, args.runs)))
        return 0
    sys.path.insert(0, ROOT)
    twtop = args.twtop or os.path.join(os.path.dirname(sys.executable), "twtop")
    args.twtop = twtop if os.path.exists(twtop) else (shutil.which("twtop") or "twtop")
    if args.tw is not None:
        CASES["custom"] = {"tw": args.tw, "estab": args.estab, "fast": args.fast, "ssp": 0.0}
        args.case = "custom"
    if args.netns:
        results = [measure(args, args.netns, args.ssp_timeout or 0)]
    else:
        results = [run_case(args, c) for c in (CASES if args.case == "all" else [args.case])]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(table(results, args.twtop))
    return 0


if __name__ == "__main__":
    sys.exit(main())
