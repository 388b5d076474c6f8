"""The benchmark's load generators are bounded and stop by themselves (house rule): bench/twgen.c
(the C TIME_WAIT maker) and bench/loadgen.py, run for real in namespaces they or the test make;
bench/scale.py takes the bench lock. Needs root (namespaces) and cc."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from bench import loadgen, scale

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="namespaces need root"),
    pytest.mark.skipif(not shutil.which("cc"), reason="twgen is built with cc"),
]
LOADGEN = loadgen.__file__


@pytest.fixture(scope="module")
def twgen() -> str:
    return loadgen.build_twgen()


@pytest.fixture
def ns() -> object:
    name = f"twtop-scale-test-{os.getpid()}"
    loadgen._netns_setup(name, 262144)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)


def _tw(name: str) -> int:
    got = subprocess.run(["ip", "netns", "exec", name, "cat", "/proc/net/sockstat"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    words = next(ln for ln in got.splitlines() if ln.startswith("TCP:")).split()
    return int(words[words.index("tw") + 1])


def _done(out: str) -> tuple[int, int]:
    m = re.search(r"done: made (\d+) in [\d.]+s, dropped (\d+)", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def test_twgen_stops_by_itself_at_most_at_its_rate(twgen: str, ns: str) -> None:
    """LEVEL 600 for 4 s: 10 new TIME_WAITs a second, then it exits on its own."""
    got = subprocess.run(["ip", "netns", "exec", ns, twgen, "600", "4", "1", "1"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert got.returncode == 0, got.stderr
    made, dropped = _done(got.stdout)
    assert 0 < made <= 600 * 4 // 60 + 1
    assert dropped == 0
    assert _tw(ns) <= made


def test_twgen_refuses_what_it_cannot_bound(twgen: str) -> None:
    """No level, or destinations past 127.0.1.250: usage error, nothing made."""
    for args in (["0", "4", "1", "1"], ["600", "4", "10", "245"], ["600", "0", "1", "1"]):
        assert subprocess.run([twgen, *args], capture_output=True, timeout=10).returncode == 2


def test_twgen_drops_its_debt_instead_of_bursting(twgen: str, ns: str) -> None:
    """Stopped for 3 s (what a loaded machine does to it) at 1000/s, it forgets the 3000 it owes
    past one second's worth, so the TIME_WAITs of the last 60 s never exceed LEVEL."""
    proc = subprocess.Popen(["ip", "netns", "exec", ns, twgen, "60000", "8", "1", "1"],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    time.sleep(1.0)
    pid = proc.pid  # ip netns exec execs the program: this is twgen
    os.kill(pid, signal.SIGSTOP)
    time.sleep(3.0)
    os.kill(pid, signal.SIGCONT)
    out, _ = proc.communicate(timeout=60)
    made, dropped = _done(out)
    assert dropped >= 3000 - (1000 + 512) - 200  # over a second (+ a batch) behind: dropped
    assert made <= 8000 - dropped
    assert _tw(ns) <= 60000


def test_loadgen_refuses_more_than_its_cap(ns: str) -> None:
    """Refused before anything is made. (The namespace named exists, so a loadgen without the
    cap stops there too, with another message, instead of making 1.2M sockets.)"""
    got = subprocess.run(
        [sys.executable, LOADGEN, "--tw", str(loadgen.MAX_SOCKETS + 1), "--netns", ns],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert got.returncode == 2 and "at most" in got.stderr, got.stderr


def test_loadgen_stops_by_itself_and_deletes_its_namespace(tmp_path: object) -> None:
    """--hold 3: up, its own socket table (--ehash), then gone with its namespace."""
    name = f"twtop-scale-lg-{os.getpid()}"
    ready = os.path.join(str(tmp_path), "ready")
    proc = subprocess.Popen(
        [sys.executable, LOADGEN, "--tw", "300", "--estab", "5", "--netns", name, "--hold", "3",
         "--ehash", "65536", "--ready-file", ready],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(ready) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert os.path.exists(ready), "loadgen did not come up"
        key = "net.ipv4.tcp_ehash_entries"
        got = subprocess.run(["ip", "netns", "exec", name, "sysctl", "-n", key],
                             capture_output=True, text=True)  # fmt: skip
        assert int(got.stdout) == 65536  # negative: the host's shared table
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            subprocess.run(["ip", "netns", "del", name], check=False)
    assert not os.path.exists(f"/run/netns/{name}")
    assert not os.path.exists(f"/run/netns/{name}-mk")


def test_scale_waits_for_the_bench_lock(tmp_path: object) -> None:
    """While another process holds the lock, a case does not start."""
    lock = os.path.join(str(tmp_path), "lock")
    entered = threading.Event()
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)

        def case() -> None:
            with scale._locked(lock):
                entered.set()

        t = threading.Thread(target=case, daemon=True)
        t.start()
        assert not entered.wait(1.0)
        fcntl.flock(held, fcntl.LOCK_UN)
    assert entered.wait(30)
    t.join(30)


def test_test_namespaces_walk_only_their_own_sockets() -> None:
    """TestNetns gets a socket table of its own (a dump there does not walk a benchmark's 1M
    sockets in another namespace) and the host's tcp_max_tw_buckets."""
    from tests.helpers import TestNetns

    ns = TestNetns()
    try:
        got = subprocess.run(
            ["ip", "netns", "exec", ns.name, "sysctl", "-n", "net.ipv4.tcp_ehash_entries",
             "net.ipv4.tcp_max_tw_buckets"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        with open("/proc/sys/net/ipv4/tcp_max_tw_buckets") as f:
            assert got == [str(TestNetns.EHASH), f.read().strip()]  # negative: the shared one
    finally:
        ns.close()
