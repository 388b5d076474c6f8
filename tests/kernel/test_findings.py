"""Findings of ``twtop --once`` on real sockets in namespaces the tests create (root): the
situations are built for real, the installed command is run, its JSON is read."""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.helpers import Population, TestNetns

_NEXT_TO_PYTHON = os.path.join(os.path.dirname(sys.executable), "twtop")
TWTOP = _NEXT_TO_PYTHON if os.path.exists(_NEXT_TO_PYTHON) else (shutil.which("twtop") or "")
pytestmark = [
    pytest.mark.kernel,
    pytest.mark.root,
    pytest.mark.skipif(not TWTOP, reason="the twtop console script is not installed"),
]


def _cmd(netns: TestNetns, *args: str) -> list[str]:
    return [TWTOP, "--once", "--netns", netns.name, *args]


def _env() -> dict[str, str]:
    return {**os.environ, "TWTOP_CONFIG": "/nonexistent/twtop.toml"}


def _json(netns: TestNetns, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        _cmd(netns, "--json", *args), capture_output=True, text=True, timeout=60, env=_env()
    )
    assert out.returncode == 0, out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def _ids(doc: dict[str, Any]) -> list[str]:
    return [f["id"] for f in doc["findings"]]


def test_tw_buckets_overflow_in_once_json(netns: TestNetns, pop: Population) -> None:
    """tcp_max_tw_buckets=4 and TIME_WAITs made during the sample: the overflow rate shows."""
    netns.sysctl("net.ipv4.tcp_max_tw_buckets", "4")
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
    proc = subprocess.Popen(
        _cmd(netns, "--json", "--sample", "1.5"), stdout=subprocess.PIPE, text=True, env=_env()
    )
    # Bounded: until twtop has answered, at most 30 s and 2000 connections.
    deadline = time.monotonic() + 30
    made = 0
    while proc.poll() is None and time.monotonic() < deadline and made < 2000:
        with netns.inside():
            pop.time_wait(lst, 2)
        made += 2
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    doc = json.loads(out)
    assert doc["states"]["TIME_WAIT"] <= 4
    assert doc["rates"]["TCPTimeWaitOverflow"] > 0
    f = next(f for f in doc["findings"] if f["id"] == "tw_buckets_overflow")
    assert f["severity"] == "critical" and "of max 4" in f["evidence"]
    assert doc["findings"][0]["severity"] == "critical"


def test_accept_queue_never_accepted_is_not_a_leak(netns: TestNetns, pop: Population) -> None:
    """Clients connect, the server never accepts, the clients close: 60 CLOSE_WAITs wait in
    the listener's accept queue. That is "stopped calling accept()", not a CLOSE_WAIT leak."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 7070, backlog=64)
        clients = [pop.connect(lst) for _ in range(60)]
        for c in clients:
            c.close()
    time.sleep(0.2)
    doc = _json(netns, "--sample", "0.2")
    assert doc["states"]["CLOSE_WAIT"] == 60
    (x,) = [x for x in doc["listeners"] if x["local"] == "127.0.0.1:7070"]
    assert (x["queued"], x["unaccepted_close_wait"], x["syn_recv"]) == (60, 60, 0)
    ids = _ids(doc)
    assert "accept_stopped" in ids and "close_wait_leak" not in ids
    f = next(f for f in doc["findings"] if f["id"] == "accept_stopped")
    assert "60 CLOSE_WAIT and 0 ESTABLISHED" in f["evidence"]
    assert f"[{os.getpid()}]" in f["evidence"]  # the listener's owner: this test
    assert "orphan" not in f["title"].lower()


def test_quiet_namespace_is_all_clear(netns: TestNetns, pop: Population) -> None:
    """A few healthy connections: one info finding saying so, and global sysctls are read."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.established(lst, 3)
    doc = _json(netns, "--sample", "0.2")
    assert _ids(doc) == ["all_clear"] and doc["findings"][0]["severity"] == "info"
    assert doc["sample_s"] is not None and doc["rates"]["TW"] == 0
    # tcp_max_orphans is global: absent in the child namespace, read in the initial one.
    with open("/proc/sys/net/ipv4/tcp_max_orphans") as fh:
        assert doc["sysctl"]["tcp_max_orphans"] == fh.read().strip()
    assert "tcp_max_orphans" in doc["sysctl_global"]


def test_sample_zero_gives_null_rates_and_ages(netns: TestNetns, pop: Population) -> None:
    """One poll: rates, state rates and CLOSE_WAIT ages cannot be known: null, never 0."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.close_wait(lst, 2)
    doc = _json(netns, "--sample", "0")
    assert doc["states"]["CLOSE_WAIT"] == 2
    assert doc["rates"] is None and doc["state_rates"] is None and doc["sample_s"] is None
    assert doc["close_wait"]["oldest_s"] is None and doc["close_wait"]["aged"] is None
    assert doc["churn"]["tw_per_s_counter"] is None
    table = subprocess.run(
        _cmd(netns, "--sample", "0"), capture_output=True, text=True, timeout=60, env=_env()
    ).stdout
    assert "one sample: rates unknown" in table
    assert "oldest seen for unknown; unknown seen >= 30 s" in table


def test_sample_is_validated() -> None:
    for bad in ("-1", "nan", "61"):
        out = subprocess.run(
            [TWTOP, "--once", "--sample", bad], capture_output=True, text=True, timeout=30,
            env=_env(),
        )  # fmt: skip
        assert out.returncode == 2 and "--sample" in out.stderr and "Traceback" not in out.stderr


# -- half-open connections: SYNs from an address whose SYN-ACKs go nowhere ---------------------
#: The listener's address, and the peer that never answers (routed to lo, not local, not
#: forwarded: the SYN-ACK is dropped, the request socket stays in SYN_RECV).
SERVER, GHOST = "10.9.0.1", "10.9.0.2"


def _checksum(data: bytes) -> int:
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _syn(sport: int, dport: int) -> bytes:
    """An IPv4 + TCP SYN from GHOST:sport to SERVER:dport."""
    src, dst = socket.inet_aton(GHOST), socket.inet_aton(SERVER)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1000 + sport, 0, 5 << 4, 0x02, 65535, 0, 0)
    csum = _checksum(src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), sport, 0, 64, 6, 0, src, dst)
    return ip + tcp


def _half_open(netns: TestNetns, dport: int, sports: range) -> None:
    with netns.inside():
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        try:
            raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
            for sport in sports:
                raw.sendto(_syn(sport, dport), (SERVER, 0))
        finally:
            raw.close()


def _ghost_route(netns: TestNetns) -> None:
    netns.ip("addr", "add", f"{SERVER}/32", "dev", "lo")
    netns.ip("route", "add", "10.9.0.0/24", "dev", "lo")


def test_syn_recv_pile_is_judged_against_its_own_backlog(netns: TestNetns, pop: Population) -> None:
    """24 half-open connections fill 75% of a backlog of 32 (a finding) and 0.6% of a backlog
    of 4096 (no finding): the pile is per listener, relative to its backlog."""
    _ghost_route(netns)
    with netns.inside():
        pop.listener(SERVER, 9090, backlog=32)
        pop.listener(SERVER, 9091, backlog=4096)
    for _ in range(10):  # bounded: a SYN lost on a loaded box is sent again (harmless)
        _half_open(netns, 9090, range(20000, 20024))
        _half_open(netns, 9091, range(21000, 21024))
        time.sleep(0.2)
        if len(netns.ss("-tanH", "state", "syn-recv").splitlines()) >= 48:
            break
    doc = _json(netns, "--sample", "0.2")
    assert doc["states"]["SYN_RECV"] == 48
    syn = {x["local"]: x["syn_recv"] for x in doc["listeners"]}
    assert syn == {f"{SERVER}:9090": 24, f"{SERVER}:9091": 24}
    (f,) = [f for f in doc["findings"] if f["id"] == "syn_queue"]
    assert f["severity"] == "warning" and f"{SERVER}:9090" in f["title"]
    assert "24 SYN_RECV" in f["evidence"] and "backlog 32 (75%)" in f["evidence"]
    assert "tcp_max_syn_backlog" not in f["evidence"]  # syncookies=1: the kernel does not read it


def test_syn_flood_sends_cookies_and_is_critical(netns: TestNetns, pop: Population) -> None:
    """A SYN flood on a backlog of 8 during the sample: at most ~backlog request sockets, the
    rest answered with cookies; SyncookiesSent's rate makes it critical."""
    _ghost_route(netns)
    with netns.inside():
        pop.listener(SERVER, 9092, backlog=8)
    proc = subprocess.Popen(
        _cmd(netns, "--json", "--sample", "1"), stdout=subprocess.PIPE, text=True, env=_env()
    )
    deadline = time.monotonic() + 30  # bounded: until twtop answers, at most 30 s
    port = 30000
    while proc.poll() is None and time.monotonic() < deadline and port < 60000:
        _half_open(netns, 9092, range(port, port + 20))
        port += 20
        time.sleep(0.05)
    out, _ = proc.communicate(timeout=30)
    doc = json.loads(out)
    assert doc["states"]["SYN_RECV"] <= 9
    assert doc["rates"]["SyncookiesSent"] > 0
    f = next(f for f in doc["findings"] if f["id"] == "syn_queue")
    assert f["severity"] == "critical" and f"{SERVER}:9092" in f["title"]
