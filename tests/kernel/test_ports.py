"""The port model against the kernel (root, a namespace each test creates, loopback only): what
twtop says about a tuple is what connect() then does (kernel-facts 5 and 6)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.helpers import Population, TestNetns
from twtop.advisor import advise
from twtop.collector import Collector

_NEXT_TO_PYTHON = os.path.join(os.path.dirname(sys.executable), "twtop")
TWTOP = _NEXT_TO_PYTHON if os.path.exists(_NEXT_TO_PYTHON) else (shutil.which("twtop") or "")
pytestmark = [
    pytest.mark.kernel,
    pytest.mark.root,
    pytest.mark.skipif(not TWTOP, reason="the twtop console script is not installed"),
]

DPORT = 6000


def _once(netns: TestNetns, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWTOP_CONFIG": "/nonexistent/twtop.toml"}
    return subprocess.run(
        [TWTOP, "--once", "--netns", netns.name, "--sample", "0", *args],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def _json(netns: TestNetns) -> dict[str, Any]:
    out = _once(netns, "--json")
    assert out.returncode == 0, out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def _tuple(doc: dict[str, Any]) -> dict[str, Any]:
    (t,) = [t for t in doc["ports"]["tuples"] if t["dport"] == DPORT]
    return t


def _connect_errno(netns: TestNetns, pop: Population) -> int:
    """0 when a new connect() to 127.0.0.1:DPORT succeeds (the socket is kept), else its errno."""
    with netns.inside():
        c = socket.socket()
        try:
            c.connect(("127.0.0.1", DPORT))
        except OSError as exc:
            c.close()
            return exc.errno or -1
    pop.keep.append(c)
    return 0


def _ten_time_waits(netns: TestNetns, pop: Population) -> socket.socket:
    """A 10-port range and 10 client TIME_WAITs to 127.0.0.1:6000, older than 1 s."""
    netns.sysctl("net.ipv4.ip_local_port_range", "40000 40009")
    with netns.inside():
        lst = pop.listener("127.0.0.1", DPORT)
        pop.time_wait(lst, 10)
    time.sleep(1.3)  # older than tcp_tw_reuse_delay (1000 ms)
    return lst


def test_loopback_time_waits_with_reuse_2_are_not_critical(
    netns: TestNetns, pop: Population
) -> None:
    """The false alarm: with tcp_tw_reuse=2 the 10 TIME_WAITs do not block connect()."""
    netns.sysctl("net.ipv4.tcp_tw_reuse", "2")
    _ten_time_waits(netns, pop)
    doc = _json(netns)
    t = _tuple(doc)
    assert (t["used"], t["time_wait"], t["blocking"], t["available"]) == (10, 10, 0, 10)
    assert t["state"] == "steady" and t["seconds_to_full"] is None
    assert t["regime"] == {"reuse": True, "hold_s": 1.0, "why": "tcp_tw_reuse=2, loopback"}
    assert not [f for f in doc["findings"] if f["severity"] == "critical"]
    table = _once(netns).stdout
    assert "no port left" not in table and "reuse after 1s" in table
    # The second view: every port of the range is held from 127.0.0.1, so a client that binds
    # before connect() is out of ports (a warning, not critical: only bind() users hit it).
    (v,) = doc["ports"]["sources"]
    assert (v["src"], v["held"], v["available"], v["full"]) == ("127.0.0.1", 10, 10, True)
    (f,) = [f for f in doc["findings"] if f["id"] == "bind_port_pressure"]
    assert f["severity"] == "warning" and "10 of 10 ports held from 127.0.0.1" in f["evidence"]
    with netns.inside(), socket.socket() as b, pytest.raises(OSError) as exc:
        b.bind(("127.0.0.1", 0))
    assert exc.value.errno == errno.EADDRINUSE
    assert _connect_errno(netns, pop) == 0  # and the kernel agrees: a port is taken over


def test_loopback_time_waits_without_reuse_are_full(netns: TestNetns, pop: Population) -> None:
    """The same tuple with tcp_tw_reuse=0: FULL, critical, and connect() really fails."""
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    _ten_time_waits(netns, pop)
    doc = _json(netns)
    t = _tuple(doc)
    assert (t["used"], t["blocking"], t["available"]) == (10, 10, 10)
    assert t["state"] == "full" and t["seconds_to_full"] == 0
    assert t["regime"] == {"reuse": False, "hold_s": 60.0, "why": "tcp_tw_reuse=0"}
    (f,) = [f for f in doc["findings"] if f["id"] == "tw_port_pressure"]
    assert f["severity"] == "critical"
    assert "EADDRNOTAVAIL" in f["evidence"] and "not at risk" not in f["evidence"]
    assert _connect_errno(netns, pop) == errno.EADDRNOTAVAIL


def test_saturation_held_for_20_polls_is_a_steady_full(netns: TestNetns, pop: Population) -> None:
    """The missed alarm: a saturated tuple frees a port now and then (here: a TIME_WAIT killed
    with ss -K) and a client takes it at once. Every poll says FULL -- also the one that sees
    9 of 10 blocked -- never "not at risk", never a countdown."""
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    lst = _ten_time_waits(netns, pop)
    seen = []
    with Collector(netns=netns.name) as col:
        for i in range(20):  # bounded: 20 polls, one connect() attempt each
            freed = i % 4 == 1
            if freed:  # a port frees: the poll sees 9/10, then a client takes the port again
                port = 40000 + (i // 4)
                netns.ss("-K", "-tan", "state", "time-wait", "sport", "=", f":{port}")
            snap = col.poll()
            (t,) = [t for t in snap.ports.tuples if t.dport == DPORT]
            seen.append((str(t.state), t.seconds_to_full))
            assert t.blocking == (9 if freed else 10)
            (f,) = [f for f in advise(snap) if f.id == "tw_port_pressure"]
            assert f.severity == "critical" and "not at risk" not in f.evidence
            if freed:
                with netns.inside():
                    pop.time_wait(lst, 1)  # connect() takes the freed port, closes: TIME_WAIT
            else:
                assert _connect_errno(netns, pop) == errno.EADDRNOTAVAIL
    assert seen == [("full", 0.0)] * 20


def test_bound_sockets_in_range_shrink_available(netns: TestNetns, pop: Population) -> None:
    """5 bound-only sockets in a 10-port range: twtop says 5 available, and connect() has
    exactly 5 ports."""
    netns.sysctl("net.ipv4.ip_local_port_range", "40000 40009")
    with netns.inside():
        lst = pop.listener("127.0.0.1", DPORT)
        for _ in range(5):
            b = socket.socket()
            b.bind(("127.0.0.1", 0))
            pop.keep.append(b)
    doc = _json(netns)
    budget = doc["ports"]["budget"]
    assert (budget["size"], budget["bound_other"], budget["available"]) == (10, 5, 5)
    assert doc["ports"]["available"] == 5
    made = 0
    while _connect_errno(netns, pop) == 0:
        made += 1
        assert made <= 10
    assert made == 5
    with netns.inside():
        accepted = [lst.accept()[0] for _ in range(made)]
    pop.keep += accepted
    t = _tuple(_json(netns))
    assert (t["blocking"], t["available"], t["state"]) == (5, 5, "full")


def test_demand_at_saturation_is_unknown_not_a_live_rate(netns: TestNetns, pop: Population) -> None:
    """FULL with tcp_tw_reuse=0: the recent TIME_WAIT rate (10 in the last seconds) is not the
    demand -- every further connect() fails and makes none. twtop says how fast ports free up and
    that the demand is unknown, in --json, the --once table and the finding."""
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    _ten_time_waits(netns, pop)
    assert _connect_errno(netns, pop) == errno.EADDRNOTAVAIL  # saturated for real
    doc = _json(netns)
    t = _tuple(doc)
    assert t["state"] == "full" and t["tw_per_s"] > 0  # the timers do see a rate ...
    assert t["demand_per_s"] is None  # ... which is not the demand
    assert t["frees_per_s"] == pytest.approx(10 / 60, abs=0.001)  # 10 blocking, 60 s each
    (f,) = [f for f in doc["findings"] if f["id"] == "tw_port_pressure"]
    said = "ports free up at ~0.2/s; demand unknown while connect() fails"
    assert said in f["evidence"] and "new connections/s" not in f["evidence"]
    table = " ".join(_once(netns).stdout.split())
    assert said in table
    row = next(ln for ln in _once(netns).stdout.splitlines() if ln.startswith("127.0.0.1 -> "))
    assert row.split()[6] == "unknown", row  # NEW/s: not a number while connect() fails


def test_time_waits_bound_to_lo_are_noted(netns: TestNetns, pop: Population) -> None:
    """10 TIME_WAITs from sockets bound to "lo" towards a non-loopback address (10.9.0.1 on lo):
    with tcp_tw_reuse=2 the kernel takes them over like loopback ones (tw_bound_dev_if ==
    LOOPBACK_IFINDEX in tcp_twsk_unique) and an unbound connect() never collides with them. The
    port model keys tuples without the device (ports.py says why), so twtop says so in a note
    instead of leaving its FULL unexplained."""
    netns.ip("addr", "add", "10.9.0.1/32", "dev", "lo")
    netns.sysctl("net.ipv4.tcp_tw_reuse", "2")
    netns.sysctl("net.ipv4.ip_local_port_range", "40000 40009")
    with netns.inside():
        lst = pop.listener("10.9.0.1", DPORT)
        for _ in range(10):
            c = socket.socket()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
            c.connect(("10.9.0.1", DPORT))
            s, _a = lst.accept()
            c.close()
            s.settimeout(2)
            s.recv(1)
            s.close()
    time.sleep(1.3)  # older than tcp_tw_reuse_delay
    doc = _json(netns)
    (t,) = [t for t in doc["ports"]["tuples"] if t["dport"] == DPORT]
    assert t["time_wait"] == 10 and t["regime"]["why"] == "tcp_tw_reuse=2, not loopback"
    (note,) = [n for n in doc["notes"] if "bound to a device" in n]
    assert note.startswith("10 TIME_WAIT are bound to a device (SO_BINDTODEVICE)")
    with netns.inside():  # what the note says: both kinds of connect() still get a port
        bound = socket.socket()
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
        pop.keep.append(bound)
        bound.connect(("10.9.0.1", DPORT))
        pop.keep.append(socket.create_connection(("10.9.0.1", DPORT)))
    assert "bound to a device" in " ".join(_once(netns).stdout.split())
