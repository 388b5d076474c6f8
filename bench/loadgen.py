#!/usr/bin/env python3
"""Make a bounded TCP socket population on loopback for twtop's benchmark, then stop by itself.

    python bench/loadgen.py --tw 100000 --estab 5000 --close-wait 1000 --netns twtop-bench --hold 90

Only loopback addresses are used (127.0.0.0/8, ::1), in the current namespace or in a namespace
this script creates (``--netns NAME``: created, configured and deleted by this script). Every count
is capped and the script exits after ``--hold`` seconds (at most MAX_HOLD_S), closing everything it
made.

TIME_WAIT: the client closes first, the server then closes its side, so the client's socket ends in
TIME_WAIT for 60 s (TCP_TIMEWAIT_LEN). Connections are spread over several destination addresses
(127.0.1.1, 127.0.1.2, ...) because each (src, dst, dport) tuple has only ip_local_port_range
ports. Inside its own namespace the script sets tcp_tw_reuse=0 (so connect() cannot take over the
TIME_WAITs it is building up), a wide port range and a tcp_max_tw_buckets large enough for the
population. ESTABLISHED and CLOSE_WAIT sockets need file descriptors; they are held by worker
processes of at most FDS_PER_WORKER each (this machine's hard RLIMIT_NOFILE may be small)."""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MAX_SOCKETS = 1_200_000  # hard cap on everything one run may create
MAX_HOLD_S = 900  # the script never lives longer than this
PER_TUPLE = 20_000  # TIME_WAITs per (src, dst, dport) tuple: below the 28k default range
BATCH = 1000  # connections opened before a close round (bounded by the listen backlog)
SERVICE_PORT = 8080


def _raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _listener(addr: str, port: int, family: int = socket.AF_INET) -> socket.socket:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4096)
    return s


class TimeWaitMaker:
    """Makes client-side TIME_WAIT sockets towards a set of loopback listeners."""

    def __init__(self, count: int, dst_base: str = "127.0.1.", port: int = SERVICE_PORT) -> None:
        ndst = max(1, -(-count // PER_TUPLE))
        self.listeners = [_listener(f"{dst_base}{i + 1}", port) for i in range(min(ndst, 250))]
        self._next = 0

    def make(self, count: int) -> int:
        """Create up to ``count`` TIME_WAITs (round-robin over the listeners); return how many."""
        made = 0
        while made < count:
            lst = self.listeners[self._next % len(self.listeners)]
            self._next += 1
            n = min(BATCH, count - made)
            addr = lst.getsockname()
            clients = []
            for _ in range(n):
                c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    c.connect(addr)
                except OSError:
                    c.close()
                    break
                clients.append(c)
            for c in clients:
                c.close()  # active close: FIN from the client
            for _ in clients:
                s, _peer = lst.accept()
                s.close()  # the server answers with its FIN; the client enters TIME_WAIT
            made += len(clients)
            if not clients:
                break
        return made

    def close(self) -> None:
        """Close the listeners."""
        for lst in self.listeners:
            lst.close()


def make_time_wait(count: int, dst_base: str = "127.0.1.", port: int = SERVICE_PORT) -> int:
    """Create ``count`` client-side TIME_WAIT sockets; return how many were made."""
    maker = TimeWaitMaker(count, dst_base, port)
    try:
        return maker.make(count)
    finally:
        maker.close()


def build_twgen() -> str:
    """Compile bench/twgen.c (the C TIME_WAIT maker) with cc into a temporary directory."""
    import tempfile

    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "twgen.c")
    exe = os.path.join(tempfile.mkdtemp(prefix="twgen-"), "twgen")
    subprocess.run(["cc", "-O2", "-o", exe, src], check=True)
    return exe


def sockstat_tw() -> int:
    """TIME_WAIT sockets of the current namespace (/proc/net/sockstat ``tw``)."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                words = line.split()
                return int(words[words.index("tw") + 1])
    return 0


def _fast_tw(
    level: int, seconds: float, workers: int, nice: int = 0
) -> list[subprocess.Popen[bytes]]:
    """Start ``workers`` twgen processes sustaining ``level`` TIME_WAITs between them (level/60
    new a second; disjoint destination addresses) for ``seconds``; return once each has run
    60 s (the level is up if they kept the pace) or died. Their logs: /tmp/twgen-PID-N.log.
    ``nice``: their niceness increment (negative: ahead of the measured tools' share of a busy
    machine, so the level holds; a tool's CPU time does not depend on it)."""
    exe = build_twgen()
    per = -(-level // workers)
    ndst = min(250 // workers, max(1, -(-per // PER_TUPLE)))
    procs, ready = [], []
    for i in range(workers):
        ready.append(f"/tmp/twgen-{os.getpid()}-{i}")
        with open(ready[-1] + ".log", "w") as log:
            cmd = [exe, str(per), str(seconds), str(ndst), str(1 + i * ndst), ready[-1]]
            renice = (lambda: os.nice(nice)) if nice else None
            procs.append(subprocess.Popen(cmd, stdout=log, preexec_fn=renice))
    for p, r in zip(procs, ready, strict=True):
        while not os.path.exists(r) and p.poll() is None:
            time.sleep(0.5)
    return procs


def _sustain(maker: TimeWaitMaker, tw: int, end: float) -> None:
    """Each TIME_WAIT lasts 60 s: making tw/60 per second until ``end`` keeps the level."""
    rate = tw / 60.0
    start = time.monotonic()
    made = 0
    while (now := time.monotonic()) < end:
        due = int((now - start) * rate) - made
        if due > 0:
            made += maker.make(min(due, BATCH))
        else:
            time.sleep(0.05)


def _hold_worker(kind: str, count: int, port: int, ready: mp.Queue, stop_at: float) -> None:
    _raise_nofile()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    lst = _listener("127.0.0.1", port)
    keep: list[socket.socket] = [lst]
    made = 0
    while made < count:
        n = min(BATCH, count - made)
        clients = []
        for _ in range(n):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.connect(("127.0.0.1", port))
            clients.append(c)
        for c in clients:
            s, _ = lst.accept()
            keep.append(s)
            if kind == "close_wait":
                c.close()  # the client closes; the server side is never closed: CLOSE_WAIT
            else:
                keep.append(c)
        made += n
    ready.put(made)
    while time.monotonic() < stop_at:
        time.sleep(0.5)
    for s in keep:
        s.close()


def netns_add(name: str, ehash: int) -> None:
    """Create namespace ``name``; with ``ehash`` > 0 it gets a socket hash table of its own of that
    many buckets (so its sockets are not in the table every other namespace's dumps walk, and
    its own dumps walk only its sockets). The size a namespace gets is the creating namespace's
    ``tcp_child_ehash_entries``, so a helper namespace with that set creates it, and goes."""
    if ehash <= 0:
        subprocess.run(["ip", "netns", "add", name], check=True)
        return
    helper = f"{name}-mk"
    subprocess.run(["ip", "netns", "add", helper], check=True)
    try:
        subprocess.run(
            ["ip", "netns", "exec", helper, "sysctl", "-q", "-w",
             f"net.ipv4.tcp_child_ehash_entries={ehash}"],
            check=True,
        )  # fmt: skip
        path = f"/run/netns/{name}"
        open(path, "x").close()  # the mount point
        made = subprocess.run(["nsenter", f"--net=/run/netns/{helper}", "unshare", f"--net={path}",
                               "true"], check=False)  # fmt: skip
        if made.returncode:  # no nsenter/unshare (util-linux): the host's table, as before
            os.unlink(path)
            subprocess.run(["ip", "netns", "add", name], check=True)
    finally:
        subprocess.run(["ip", "netns", "del", helper], check=False)


def _netns_setup(name: str, tw_buckets: int, ehash: int = 0) -> None:
    netns_add(name, ehash)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    for key, value in (
        ("net.ipv4.tcp_tw_reuse", "0"),
        ("net.ipv4.ip_local_port_range", "10000 65000"),
        ("net.ipv4.tcp_max_tw_buckets", str(tw_buckets)),
    ):
        subprocess.run(
            ["ip", "netns", "exec", name, "sysctl", "-q", "-w", f"{key}={value}"], check=True
        )


@contextlib.contextmanager
def running(
    tw: int,
    estab: int = 0,
    close_wait: int = 0,
    hold: float = 120.0,
    sustain: bool = True,
    prefix: str = "twtop-pop",
    fast_workers: int = 0,
    ehash: int = 0,
    nice: int = 0,
) -> Iterator[str]:
    """Run this script in the background in a fresh namespace; yield the namespace's name once
    the population is up; stop the script (which deletes the namespace) on exit.
    ``fast_workers``: make the TIME_WAITs with that many twgen processes (--fast); ``ehash``: a
    socket hash table of that many buckets for the namespace (--ehash); ``nice``: the twgen
    processes' niceness (--nice)."""
    name = f"{prefix}-{os.getpid()}"
    ready = f"/tmp/{name}.ready"
    cmd = [
        sys.executable, os.path.abspath(__file__), "--tw", str(tw), "--estab", str(estab),
        "--close-wait", str(close_wait), "--netns", name, "--hold", str(hold),
        "--ready-file", ready,
    ] + (["--sustain"] if sustain else [])  # fmt: skip
    if fast_workers:
        cmd += ["--fast", "--workers", str(fast_workers)]
    if ehash:
        cmd += ["--ehash", str(ehash)]
    if nice:
        cmd += ["--nice", str(nice)]
    proc = subprocess.Popen(cmd)
    try:
        deadline = time.monotonic() + 600
        while not os.path.exists(ready):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("loadgen did not start")
            time.sleep(0.3)
        os.unlink(ready)
        yield name
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def main(argv: list[str] | None = None) -> int:
    """Create the population, print a one-line summary, hold it, clean up."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tw", type=int, default=10000, help="client-side TIME_WAIT sockets")
    ap.add_argument("--estab", type=int, default=0, help="ESTABLISHED connections (2 sockets each)")
    ap.add_argument("--close-wait", type=int, default=0, help="CLOSE_WAIT sockets (server side)")
    ap.add_argument("--netns", help="create this namespace, work inside it, delete it at the end")
    ap.add_argument("--hold", type=float, default=60.0, help="seconds to keep the population")
    ap.add_argument(
        "--sustain", action="store_true", help="keep the TIME_WAIT count level (tw/60 new per s)"
    )
    ap.add_argument("--ready-file", help="write the summary line here when the population is up")
    ap.add_argument(
        "--fast", action="store_true",
        help="TIME_WAIT by a small C program (bench/twgen.c, built with cc): ~1M sustained",
    )  # fmt: skip
    ap.add_argument("--workers", type=int, default=1, help="--fast: twgen processes (max 8)")
    ap.add_argument("--nice", type=int, default=0, help="--fast: twgen's niceness increment")
    ap.add_argument(
        "--ehash", type=int, default=0, metavar="N",
        help="with --netns: give the namespace its own socket hash table of N buckets (a power of "
        "2; 0: share the host's, which every namespace's dumps walk)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    total = args.tw + 2 * args.estab + 2 * args.close_wait
    if total > MAX_SOCKETS:
        ap.error(f"at most {MAX_SOCKETS} sockets per run")
    hold = min(max(args.hold, 0.0), MAX_HOLD_S)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below
    workers: list[mp.Process] = []
    twgen: list[subprocess.Popen[bytes]] = []
    created = False
    try:
        if args.netns:
            if os.path.exists(f"/run/netns/{args.netns}"):
                ap.error(f"namespace {args.netns} exists already; pick a new name")
            created = True
            _netns_setup(args.netns, max(262144, 2 * args.tw), args.ehash)
            from twtop.netns import _setns

            fd = os.open(f"/run/netns/{args.netns}", os.O_RDONLY)
            _setns(fd)  # the whole (single-threaded) process: workers forked below inherit it
            os.close(fd)
        _raise_nofile()
        t0 = time.monotonic()
        stop_at = t0 + hold + 600  # workers also stop by themselves
        ctx = mp.get_context("fork")
        ready: mp.Queue = ctx.Queue()
        per = max(1, (_raise_nofile() - 200) // 2)
        port = 9000
        for kind, count in (("estab", args.estab), ("close_wait", args.close_wait)):
            while count > 0:
                n = min(per, count)
                p = ctx.Process(target=_hold_worker, args=(kind, n, port, ready, stop_at))
                p.start()
                workers.append(p)
                count -= n
                port += 1
        held = sum(ready.get(timeout=300) for _ in workers)
        if args.fast and args.tw:
            twgen = _fast_tw(args.tw, hold + 60, min(max(args.workers, 1), 8), args.nice)
        maker = TimeWaitMaker(args.tw) if args.tw and not args.fast else None
        tw = maker.make(args.tw) if maker else sockstat_tw()
        line = (
            f"loadgen: {tw} TIME_WAIT, {held} held connections in {time.monotonic() - t0:.1f}s"
            f" (netns {args.netns or 'current'}); holding {hold:.0f}s"
            + (" sustaining the TIME_WAIT count" if args.sustain else "")
        )
        print(line, flush=True)
        if args.ready_file:
            with open(args.ready_file, "w") as f:
                f.write(line + "\n")
        end = time.monotonic() + hold
        if maker and args.sustain:
            _sustain(maker, tw, end)
        else:
            time.sleep(hold)
        if maker:
            maker.close()
    finally:
        for p in twgen:
            p.terminate()
        for p in twgen:
            p.wait(10)
        for p in workers:
            p.terminate()
        for p in workers:
            p.join(5)
        if created:
            subprocess.run(["ip", "netns", "del", args.netns], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
