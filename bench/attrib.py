#!/usr/bin/env python3
"""The cost of naming owners: the /proc floor against ``ss -tan``, and ``twtop --once`` CPU.

    python bench/attrib.py --netns NAME [--runs 5] [--twtop PATH ...]

For an existing namespace NAME (e.g. one bench/loadgen.py made), measured as CPU time (user +
system; wait4 for commands, getrusage for loops here), medians of --runs, interleaved:

- ``ip netns exec NAME ss -tan`` (the yardstick);
- each ``--twtop`` binary's ``--netns NAME --once --json`` (default sampling) and ``--sample 0``;
- the floor of attribution: ``stat`` of every /proc/PID/ns/net (which processes are in NAME),
  then, over the file descriptors of the processes in NAME only: listdir alone, one readlink
  per fd (``os.readlink(name, dir_fd=)``), one stat per fd (``os.stat(name, dir_fd=)``);
- the same readlink loop over every process on the machine (what twtop did before).
Prints a Markdown table with the load average next to each figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
from collections.abc import Callable
from functools import partial

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.scale import _cost  # noqa: E402


def _cpu(fn: Callable[[], object]) -> float:
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    fn()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def _pids() -> list[str]:
    return [p for p in os.listdir("/proc") if p.isdigit()]


def _in_ns(target: tuple[int, int]) -> list[str]:
    got = []
    for p in _pids():
        try:
            st = os.stat(f"/proc/{p}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == target:
            got.append(p)
    return got


def _each_fd(pids: list[str], op: str) -> int:
    n = 0
    for p in pids:
        try:
            dfd = os.open(f"/proc/{p}/fd", os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            names = os.listdir(dfd)
            n += len(names)
            if op == "readlink":
                fn: Callable[[str], object] = partial(os.readlink, dir_fd=dfd)
            elif op == "stat":
                fn = partial(os.stat, dir_fd=dfd)
            else:
                continue
            for name in names:
                try:  # noqa: SIM105 (the floor: no context manager per descriptor)
                    fn(name)
                except OSError:
                    pass
        finally:
            os.close(dfd)
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netns", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--twtop", action="append", default=[], help="binaries to time (repeatable)")
    ap.add_argument("--sample0-only", action="store_true", help="time only --sample 0")
    args = ap.parse_args(argv)
    st = os.stat(f"/run/netns/{args.netns}")
    target = (st.st_dev, st.st_ino)
    in_ns = _in_ns(target)
    nfd = _each_fd(in_ns, "list")
    env = {**os.environ, "TWTOP_CONFIG": "/nonexistent"}
    cmds: dict[str, list[str]] = {"ss -tan": ["ip", "netns", "exec", args.netns, "ss", "-tan"]}
    for t in args.twtop:
        base = [t, "--netns", args.netns, "--once", "--json"]
        if not args.sample0_only:
            cmds[f"{t} --once --json"] = base
        cmds[f"{t} --once --json --sample 0"] = [*base, "--sample", "0"]
    loops: dict[str, Callable[[], object]] = {
        "stat every /proc/PID/ns/net": partial(_in_ns, target),
        "listdir fd dirs (in netns)": partial(_each_fd, in_ns, "list"),
        "readlink every fd (in netns)": partial(_each_fd, in_ns, "readlink"),
        "stat every fd (in netns)": partial(_each_fd, in_ns, "stat"),
        "readlink every fd (all processes)": partial(_each_fd, _pids(), "readlink"),
    }
    got: dict[str, list[tuple[float, float]]] = {k: [] for k in (*cmds, *loops)}
    for _ in range(args.runs):  # interleaved: a change in load hits all alike
        for k, cmd in cmds.items():
            got[k].append((_cost(cmd, env)[1], os.getloadavg()[0]))
        for k, fn in loops.items():
            got[k].append((_cpu(fn), os.getloadavg()[0]))
    ss = statistics.median(c for c, _ in got["ss -tan"])
    print(f"netns {args.netns}: {len(in_ns)} processes in it, {nfd} fds; "
          f"{len(_pids())} processes on the machine; {os.cpu_count()} cores")  # fmt: skip
    print(f"\n| what | CPU ms (median of {args.runs}) | x ss -tan | load |\n|---|---:|---:|---:|")
    for k, xs in got.items():
        cpu = statistics.median(c for c, _ in xs)
        load = statistics.median(v for _, v in xs)
        print(f"| {k} | {cpu * 1000:.0f} | {cpu / ss:.2f} | {load:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
