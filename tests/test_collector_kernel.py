"""The collector against the real kernel: counts, peers, timers and ports must equal ss."""

from __future__ import annotations

import os
import socket
import time
from collections import Counter

import pytest

from tests.helpers import Population, TestNetns, have, host_of, ss_rows
from twtop.collector import Collector, take_snapshot
from twtop.states import TcpState

pytestmark = pytest.mark.skipif(not have("ss"), reason="needs iproute2's ss to cross-check")


def _mixed_population(ns: TestNetns, pop: Population) -> None:
    """Every common state, IPv4 and IPv6, several peers."""
    with ns.inside():
        web = pop.listener("127.0.0.1", 8080)
        api = pop.listener("127.0.0.2", 9090)
        v6 = pop.listener("::1", 8443)
        dual = pop.listener("::", 7070)
        ns.ip("addr", "add", "127.0.0.3/8", "dev", "lo")
        pop.established(web, 3)
        pop.established(v6, 2)
        pop.time_wait(web, 5)
        pop.time_wait(api, 4)
        pop.time_wait(v6, 2)
        pop.server_time_wait(api, 3)
        pop.close_wait(api, 2)
        pop.fin_wait2_open(web)
        # IPv4 client into a dual-stack listener: an AF_INET6 socket with a v4-mapped address.
        c = socket.create_connection(("127.0.0.1", 7070))
        s, _ = dual.accept()
        pop.keep += [c, s]
        # Unaccepted connections sit in the accept queue of the listener.
        q = pop.listener("127.0.0.1", 6060, backlog=8)
        for _ in range(3):
            pop.keep.append(pop.connect(q))


def _ss_states(ns: TestNetns) -> Counter[str]:
    return Counter(r["state"] for r in ss_rows(ns.ss("-tan")))


def test_state_counts_equal_ss(netns: TestNetns, pop: Population) -> None:
    _mixed_population(netns, pop)
    snap = take_snapshot(netns=netns.name)
    expected = _ss_states(netns)
    got = {s.name: n for s, n in snap.states.items() if n}
    assert got == dict(expected)
    assert snap.total == sum(expected.values())
    # the full JSON document carries all 11 states, zeros included
    assert set(snap.to_dict()["states"]) == {s.name for s in TcpState}
    assert snap.ipv6 > 0 and snap.ipv4 > 0


def test_peer_counts_equal_ss_pipeline(netns: TestNetns, pop: Population) -> None:
    _mixed_population(netns, pop)
    snap = take_snapshot(netns=netns.name)
    # ss -tan | awk '{print $5}' | cut -d: -f1 | sort | uniq -c, per state too
    rows = ss_rows(netns.ss("-tan"))
    expected: Counter[tuple[str, str]] = Counter((host_of(r["peer"]), r["state"]) for r in rows)
    got: Counter[tuple[str, str]] = Counter()
    for p in snap.peers:
        for s, n in p.states.items():
            got[(p.peer, s.name)] += n
    # ss prints the wildcard peer of a listener as 0.0.0.0 / *: compare the rest
    expected = Counter({k: v for k, v in expected.items() if k[1] != "LISTEN"})
    got = Counter({k: v for k, v in got.items() if k[1] != "LISTEN"})
    assert got == expected
    assert snap.peers_total == len(snap.peers)
    totals = [p.total for p in snap.peers]
    assert totals == sorted(totals, reverse=True)


def test_direction_of_time_wait(netns: TestNetns, pop: Population) -> None:
    """Client-side TIME_WAITs are outbound; those on a listening port are inbound."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 4)
        pop.server_time_wait(lst, 3)
    snap = take_snapshot(netns=netns.name)
    (peer,) = [p for p in snap.peers if p.peer == "127.0.0.1" and p.count(TcpState.TIME_WAIT)]
    assert peer.count(TcpState.TIME_WAIT) == 7
    assert peer.inbound == 3  # server-side TIME_WAITs; the listener is peer 0.0.0.0
    assert peer.outbound == 4
    # the generic (row) path and the TIME_WAIT fast path agree
    with Collector(netns=netns.name, keep_sockets=True) as c:
        slow = c.poll()
    assert [p.to_dict() for p in slow.peers] == [p.to_dict() for p in snap.peers]
    assert [t.to_dict() for t in slow.ports.tuples] == [t.to_dict() for t in snap.ports.tuples]


def test_timers_match_ss_o(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 3)
    t0 = time.monotonic()
    with Collector(netns=netns.name) as c:
        socks = c.sockets("state time-wait")
    ss_out = netns.ss("-tano", "state", "time-wait")
    # ss reads after twtop: its timers are lower by the time between the reads (seconds on a
    # loaded machine), and it prints whole seconds. Allowed: that gap, plus one second either way.
    gap = time.monotonic() - t0
    timers = {}
    for line in ss_out.splitlines()[1:]:
        parts = line.split()
        local, peer = parts[2], parts[3]
        timer = parts[4]  # timer:(timewait,59sec,0)
        left = timer.split(",")[1]
        secs = float(left.replace("sec", "").replace("ms", "")) / (1000 if "ms" in left else 1)
        timers[(local, peer)] = secs
    assert len(socks) == len(timers) == 3
    for s in socks:
        assert s.timer_name == "timewait"
        assert 0 < s.expires_ms <= 60000
        ahead = s.expires_ms / 1000 - timers[(s.local_ep, s.remote_ep)]
        assert -1.0 <= ahead <= gap + 1.0, (s.expires_ms, timers, gap)


def test_ipv4_mapped_shown_as_ipv4(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        dual = pop.listener("::", 7070)
        c = socket.create_connection(("127.0.0.1", 7070))
        s, _ = dual.accept()
        pop.keep += [c, s]
    with Collector(netns=netns.name) as col:
        socks = col.sockets("sport = 7070 and state established")
    assert len(socks) == 1
    assert socks[0].family == socket.AF_INET6
    assert socks[0].local == "127.0.0.1" and socks[0].remote == "127.0.0.1"
    assert socks[0].inbound is True


def test_filters_run_in_kernel_and_match_ss(netns: TestNetns, pop: Population) -> None:
    _mixed_population(netns, pop)
    cases = {
        # (with one state filter ss drops its State column; these compare against ss's own filter)
        "state time-wait": ["exclude", "listening"],
        "state established,close-wait": [],
        "dport = :8080": ["dport", "=", ":8080"],
        "src 127.0.0.2": ["src", "127.0.0.2"],
        "dst [::1]": ["dst", "[::1]"],
        "sport >= 9000 and sport < 9091": ["sport", ">=", "9000", "and", "sport", "<", "9091"],
        "not dst 127.0.0.0/8": ["not", "dst", "127.0.0.0/8"],
    }
    with Collector(netns=netns.name) as c:
        for expr, ss_args in cases.items():
            socks = c.sockets(expr)
            want = ss_rows(netns.ss("-tan", *ss_args))
            if expr.startswith("state "):
                names = {"state time-wait": {"TIME_WAIT"}}.get(expr, {"ESTABLISHED", "CLOSE_WAIT"})
                want = [r for r in want if r["state"] in names]
            got = sorted((s.local_ep, s.remote_ep) for s in socks)
            exp = sorted((r["local"], r["peer"]) for r in want)
            norm = [(a.replace("[::ffff:", "").replace("]:", ":") if "::ffff:" in a else a, b)
                    for a, b in exp]  # fmt: skip
            norm = [(a, b.replace("[::ffff:", "").replace("]:", ":") if "::ffff:" in b else b)
                    for a, b in norm]  # fmt: skip
            # ss prints a listener's peer as 0.0.0.0:* / [::]:*, twtop as address:0
            got = [(a, b) for a, b in got if not b.endswith(":0")]
            norm = [(a, b) for a, b in norm if not b.endswith(":*")]
            assert got == sorted(norm), expr


def test_state_under_or_needs_python_and_still_matches(netns: TestNetns, pop: Population) -> None:
    _mixed_population(netns, pop)
    expr = "state time-wait or dport = 8443"
    snap = take_snapshot(netns=netns.name, filter=expr)
    rows = ss_rows(netns.ss("-tan"))
    expected = [r for r in rows if r["state"] == "TIME_WAIT" or r["peer"].endswith(":8443")]
    assert snap.total == len(expected)


def test_processes_own_close_wait(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.close_wait(lst, 4)
    snap = take_snapshot(netns=netns.name)
    me = [p for p in snap.processes if p.pid == os.getpid()]
    assert me and me[0].states.get(TcpState.CLOSE_WAIT) == 4
    assert me[0].states.get(TcpState.LISTEN) == 1
    (lst_row,) = [x for x in snap.listeners if x.lport == 8080]
    assert lst_row.owner is not None and lst_row.owner.pid == os.getpid()
    with Collector(netns=netns.name, group="process") as c:
        by_proc = c.poll()
    mine = [p for p in by_proc.peers if p.peer == str(os.getpid())]
    assert mine and mine[0].count(TcpState.CLOSE_WAIT) == 4
    # the clients' orphaned FIN_WAIT2 minisockets have no owner
    assert any(p.peer == "(no owner)" and p.count(TcpState.FIN_WAIT2) == 4 for p in by_proc.peers)


def test_listen_queue(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        q = pop.listener("127.0.0.1", 6060, backlog=8)
        for _ in range(3):
            pop.keep.append(pop.connect(q))
    time.sleep(0.05)
    snap = take_snapshot(netns=netns.name)
    (row,) = [x for x in snap.listeners if x.lport == 6060]
    assert (row.queued, row.backlog) == (3, 8)


def test_port_range_and_tuples_in_small_range(netns: TestNetns, pop: Population) -> None:
    netns.sysctl("net.ipv4.ip_local_port_range", "40000 40099")
    netns.sysctl("net.ipv4.ip_local_reserved_ports", "40010-40019,50000")
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        other = pop.listener("127.0.0.2", 8080)
        pop.time_wait(lst, 30)
        pop.established(lst, 5)
        pop.time_wait(other, 7)
    snap = take_snapshot(netns=netns.name)
    ports = snap.ports
    assert (ports.low, ports.high, ports.size) == (40000, 40099, 100)
    assert ports.reserved == 10 and ports.available == 90
    worst = ports.tuples[0]
    assert (worst.src, worst.dst, worst.dport) == ("127.0.0.1", "127.0.0.1", 8080)
    assert worst.used == 35 and worst.time_wait == 30
    assert worst.ratio == pytest.approx(35 / 90)
    second = ports.tuples[1]
    assert (second.dst, second.used) == ("127.0.0.2", 7)
    # every TIME_WAIT above is seconds old: all count as new in the 10 s window
    assert worst.tw_per_s == pytest.approx(30 / 10)
    assert snap.churn.tw_per_s_timers == pytest.approx(37 / 10)
    assert snap.sysctl["ip_local_port_range"] == "40000 40099"


def test_deltas_between_polls(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
    with Collector(netns=netns.name) as c:
        c.poll()
        with netns.inside():
            pop.time_wait(lst, 6)
        time.sleep(0.2)
        snap = c.poll()
    assert snap.interval_s is not None and snap.interval_s > 0
    assert snap.state_rates[TcpState.TIME_WAIT] == pytest.approx(6 / snap.interval_s, rel=0.05)
    assert snap.churn.tw_per_s_counter == pytest.approx(6 / snap.interval_s, rel=0.05)
    assert snap.counters["ActiveOpens"] >= 6


def test_counters_and_sysctls_are_the_namespaces(netns: TestNetns, pop: Population) -> None:
    netns.sysctl("net.ipv4.tcp_fin_timeout", "17")
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 2)
    snap = take_snapshot(netns=netns.name)
    assert snap.sysctl["tcp_fin_timeout"] == "17"
    assert snap.sysctl["tcp_tw_recycle"] is None  # removed in 4.12
    assert snap.counters["TW"] == 2
    assert snap.counters["sockstat_tw"] == 2
    assert snap.counters["ActiveOpens"] == 2


def test_missing_netns_is_unavailable() -> None:
    from twtop.errors import UnavailableError

    with pytest.raises(UnavailableError, match="not found"):
        take_snapshot(netns="twtop-no-such-namespace")


def test_netns_by_pid_and_path(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 2)
    by_path = take_snapshot(netns=netns.path)
    assert by_path.count(TcpState.TIME_WAIT) == 2
    import subprocess

    proc = subprocess.Popen(["ip", "netns", "exec", netns.name, "sleep", "30"])
    try:
        time.sleep(0.3)
        by_pid = take_snapshot(netns=str(proc.pid))
        assert by_pid.count(TcpState.TIME_WAIT) == 2
    finally:
        proc.kill()
        proc.wait()


def test_current_namespace_matches_ss(pop: Population) -> None:
    """No namespace: the host's own (busy or not) sockets; compare with ss on our own port only."""
    import subprocess

    lst = pop.listener("127.0.0.1", 0)
    port = lst.getsockname()[1]
    pop.time_wait(lst, 3)
    pop.established(lst, 2)
    with Collector() as c:
        socks = c.sockets(f"sport = {port} or dport = {port}")
    ss = subprocess.run(["ss", "-tan", f"( sport = :{port} or dport = :{port} )"],
                        capture_output=True, text=True, check=True).stdout  # fmt: skip
    # ss writes a listener's peer port as '*'; twtop as 0.
    want = sorted((r["state"], r["local"], r["peer"].replace(":*", ":0")) for r in ss_rows(ss))
    got = sorted((s.state.name, f"{s.local}:{s.lport}", f"{s.remote}:{s.rport}") for s in socks)
    assert got == want
    assert Counter(s for s, _l, _p in got) == {"LISTEN": 1, "ESTABLISHED": 4, "TIME_WAIT": 3}


def test_kernel_bytecode_agrees_with_python(netns: TestNetns, pop: Population) -> None:
    """Nested and/or/not programs pass the kernel's audit and select what Python selects."""
    from twtop import wire
    from twtop.filter import evaluate, parse

    _mixed_population(netns, pop)
    exprs = [
        "not (sport = 8080 or dport = 8080)",
        "(dport >= 8000 and dport <= 9000) or not (src 127.0.0.0/8)",
        "not not dst [::1] and sport > 1024",
        "(sport < 8081 or dport > 9089) and not (dst 127.0.0.2 or dport != 8443)",
        "src 127.0.0.1:8080 or dst 127.0.0.2:9090 or src [::1]:8443",
    ]
    with Collector(netns=netns.name) as c:
        every = list(c.session.rows(0xFFF))  # every state, no bytecode: the whole population
        rows = [r for chunk in every for r in chunk]
        assert len(rows) == sum(_ss_states(netns).values())
        selected = 0
        for expr in exprs:
            node = parse(expr)
            want = sorted(
                r[wire.R_COOKIE] for r in rows
                if evaluate(node, r[wire.R_FAMILY], r[wire.R_STATE], r[wire.R_SRC],
                            wire.port(r[wire.R_SPORT]), r[wire.R_DST], wire.port(r[wire.R_DPORT]))
            )  # fmt: skip
            got = sorted(s.cookie for s in c.sockets(expr))
            assert got == want, expr
            assert len(want) < len(rows), expr
            selected += bool(want)
        assert selected >= 4  # programs that select nothing would agree with a broken kernel


def test_new_owner_is_named_after_a_rescan(netns: TestNetns, pop: Population) -> None:
    """A process that opens sockets after the first scan is attributed once the map refreshes."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)  # known from the first scan
    with Collector(netns=netns.name) as c:
        c.procs.refresh_s = 0.0
        c.poll()
        with netns.inside():
            pop.close_wait(lst, 2)
        first = c.poll()  # unknown inodes, first sighting: no rescan for what may be short-lived
        assert not [p for p in first.processes if p.states.get(TcpState.CLOSE_WAIT)]
        c.poll()  # the same inodes again: rescan
        snap = c.poll()
    mine = [p for p in snap.processes if p.pid == os.getpid()]
    assert mine and mine[0].states.get(TcpState.CLOSE_WAIT) == 2


@pytest.mark.parametrize("group", ["ip", "ipport", "lport", "process"])
def test_column_path_equals_row_path(netns: TestNetns, pop: Population, group: str) -> None:
    """Uniform IPv4 buffers are aggregated from bytes (columns); the row path must agree."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        other = pop.listener("127.0.0.2", 9090)
        pop.established(lst, 40)
        pop.established(other, 25)
        for _ in range(6):  # CLOSE_WAIT whose client keeps its fd: full FIN_WAIT2, one length
            pop.fin_wait2_open(other)
        pop.time_wait(other, 9)
    # Past tcp_tw_reuse_delay (1 s): the TIME_WAITs are no longer "young" in either poll, so the
    # two polls agree however far apart a loaded machine runs them.
    time.sleep(1.2)
    from twtop.aggregate import Aggregator

    used: list[int] = []
    original = Aggregator.add_full

    def spy(self: Aggregator, buf: bytes, length: int) -> None:
        used.append(len(buf) // length)
        original(self, buf, length)

    with (
        Collector(netns=netns.name, group=group) as fast,
        Collector(netns=netns.name, group=group, keep_sockets=True) as rows,
    ):
        Aggregator.add_full = spy  # type: ignore[method-assign]
        try:
            a = fast.poll()
        finally:
            Aggregator.add_full = original  # type: ignore[method-assign]
        b = rows.poll()
        assert set(fast.close_wait_ages.first_seen) == set(
            rows.close_wait_ages.first_seen
        )  # cookies read alike
    if group in ("ip", "process"):  # TIME_WAIT walked apart: the rest is uniform
        assert sum(used) == 2 * 40 + 2 * 25 + 2 * 6  # every full socket went through columns
    assert a.states == b.states and a.count(TcpState.CLOSE_WAIT) == 6
    assert [p.to_dict() for p in a.peers] == [p.to_dict() for p in b.peers]
    assert [t.to_dict() for t in a.ports.tuples] == [t.to_dict() for t in b.ports.tuples]
    assert [p.to_dict() for p in a.processes] == [p.to_dict() for p in b.processes]
    assert a.close_wait_unread == b.close_wait_unread


def test_namespace_deleted_then_recreated(netns: TestNetns, pop: Population) -> None:
    """A vanished namespace is an error that names it; a new one of the same name is followed."""
    import subprocess

    from twtop.errors import UnavailableError

    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 3)
    with Collector(netns=netns.name) as c:
        assert c.poll().count(TcpState.TIME_WAIT) == 3
        pop.close()
        subprocess.run(["ip", "netns", "del", netns.name], check=True)
        with pytest.raises(UnavailableError, match="is gone"):
            c.poll()
        subprocess.run(["ip", "netns", "add", netns.name], check=True)
        netns.ip("link", "set", "lo", "up")
        with netns.inside():
            lst = pop.listener("127.0.0.1", 8080)
            pop.time_wait(lst, 2)
        snap = c.poll()
        assert snap.count(TcpState.TIME_WAIT) == 2 and snap.interval_s is None


def test_new_close_wait_pile_is_named_within_two_polls(netns: TestNetns, pop: Population) -> None:
    """With the default /proc refresh (5 s), a CLOSE_WAIT pile made after start gets its owner
    on the second poll that sees it; a second pile within a second waits (the bound)."""
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
    with Collector(netns=netns.name) as c:
        c.poll()
        with netns.inside():
            pop.close_wait(lst, 3)
        c.poll()  # first sighting: the owner is looked up right after this poll
        snap = c.poll()
        mine = [p for p in snap.processes if p.pid == os.getpid()]
        assert mine and mine[0].states.get(TcpState.CLOSE_WAIT) == 3
        from twtop.procs import CW_RESCAN_COST, CW_RESCAN_MIN_S

        scans, scanned_at = c.procs.scans, c.procs.scanned_at
        with netns.inside():
            pop.close_wait(lst, 2)
        c.poll()
        # Within CW_RESCAN_MIN_S of the last scan: not yet. (On a loaded machine the poll may
        # end later than that; then a rescan is allowed and this check has nothing to say.)
        if time.monotonic() - scanned_at < CW_RESCAN_MIN_S:
            assert c.procs.scans == scans

        time.sleep(max(CW_RESCAN_MIN_S, CW_RESCAN_COST * c.procs.scan_ms / 1000))
        c.poll()
        snap = c.poll()
    mine = [p for p in snap.processes if p.pid == os.getpid()]
    assert mine and mine[0].states.get(TcpState.CLOSE_WAIT) == 5


@pytest.mark.parametrize("keep", [False, True], ids=["bytes", "rows"])
def test_inbound_time_waits_are_counted_per_listening_port(
    netns: TestNetns, pop: Population, keep: bool
) -> None:
    """A TIME_WAIT keeps its local port: those this host's services closed first are counted on
    their listener's port (IPv4 and IPv6); a client's TIME_WAIT towards a listener is not."""
    with netns.inside():
        web = pop.listener("127.0.0.1", 8080)
        api = pop.listener("::1", 9090)
        quiet = pop.listener("127.0.0.1", 22)
        pop.server_time_wait(web, 7)
        pop.server_time_wait(api, 3)
        pop.time_wait(web, 2)  # the client closes first: the TIME_WAIT is the client's (outbound)
    with Collector(netns=netns.name, keep_sockets=keep) as c:
        snap = c.poll()
    assert snap.count(TcpState.TIME_WAIT) == 12
    on_port = {x.lport: x.tw_on_port for x in snap.listeners}
    assert on_port == {8080: 7, 9090: 3, 22: 0}, on_port
    assert quiet.getsockname()[1] == 22
