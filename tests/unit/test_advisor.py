"""Every advisor rule on Snapshots built by hand (no root): fires when it should, stays quiet when
it should, and its evidence never contradicts the numbers it quotes."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from tests.unit.builders import listener, port_tuple, snapshot
from twtop.advisor import (
    RULES,
    Context,
    Finding,
    Severity,
    advise,
    by_severity,
)
from twtop.knowledge import FINDINGS
from twtop.model import PeerRow, PortUsage, ProcessRow
from twtop.ports import PortBudget, SourceView
from twtop.states import TcpState as S

ROOT = Context(root=True, owners="fresh")


def _by_id(snap: object, ctx: Context = ROOT) -> dict[str, Finding]:
    return {f.id: f for f in advise(snap, ctx=ctx)}  # type: ignore[arg-type]


def test_quiet_host_is_all_clear_and_says_how_it_sampled() -> None:
    (f,) = advise(snapshot(), ctx=ROOT)
    assert (f.id, f.severity) == ("all_clear", Severity.INFO)
    assert "rates over 1.0 s" in f.evidence
    (g,) = advise(snapshot(sample=False), ctx=ROOT)
    assert g.id == "all_clear" and "one sample" in g.evidence


def test_close_wait_leak_names_the_owner() -> None:
    snap = snapshot(
        {S.CLOSE_WAIT: 60},
        processes=(ProcessRow(7, "leaky", "www", {S.CLOSE_WAIT: 60}),),
    )
    f = _by_id(snap)["close_wait_leak"]
    assert f.severity is Severity.WARNING
    assert "leaky[7]" in f.title and "60 CLOSE_WAIT" in f.evidence
    # aged unknown (one short sample): said as such, never 0, never "unknown open 30 s or longer"
    assert "how long they have been open: unknown until twtop has watched them 30 s" in f.evidence
    assert "unknown open" not in f.evidence
    zh = _by_id(snap, replace(ROOT, lang="zh"))["close_wait_leak"].evidence
    assert "已存在多久：twtop 观察满 30 秒之前未知" in zh and "未知 个" not in zh
    crit = _by_id(replace(snap, close_wait_aged=55))["close_wait_leak"]
    assert crit.severity is Severity.CRITICAL and "55 open" in crit.evidence
    assert "close_wait_leak" not in _by_id(snapshot({S.CLOSE_WAIT: 49}))


@pytest.mark.parametrize(
    ("ctx", "words"),
    [
        (Context(root=False), "needs root"),
        (Context(root=True, owners="fresh"), "another PID namespace"),
        (Context(root=True, owners="pending"), "not looked up yet"),
        (Context(root=True, owners="stale"), "not in /proc at the last scan"),
    ],
)
def test_unknown_owner_states_the_reason(ctx: Context, words: str) -> None:
    f = _by_id(snapshot({S.CLOSE_WAIT: 80}), ctx)["close_wait_leak"]
    assert words in f.evidence and words in f.action
    assert "?" not in f.evidence + f.action


def test_close_waits_in_an_accept_queue_are_not_a_leak() -> None:
    snap = snapshot(
        {S.CLOSE_WAIT: 60, S.LISTEN: 1},
        listeners=(listener(queued=60, backlog=59, cw=60),),
    )
    found = _by_id(snap)
    assert "close_wait_leak" not in found and "listen_overflow" not in found
    f = found["accept_stopped"]
    assert f.severity is Severity.CRITICAL  # queue full: 60 > backlog 59
    assert "60 CLOSE_WAIT and 0 ESTABLISHED" in f.evidence and "api-server[4242]" in f.evidence
    few = snapshot({S.CLOSE_WAIT: 4}, listeners=(listener(queued=4, cw=4),))
    assert "accept_stopped" not in _by_id(few)
    part = _by_id(snapshot({S.CLOSE_WAIT: 5}, listeners=(listener(queued=9, cw=5),)))
    assert part["accept_stopped"].severity is Severity.WARNING
    assert "5 CLOSE_WAIT and 4 ESTABLISHED" in part["accept_stopped"].evidence


def test_accept_queue_full_and_overflow_rate() -> None:
    full = _by_id(snapshot(listeners=(listener(queued=129, backlog=128),)))["listen_overflow"]
    assert "129/128 queued" in full.evidence and "0.0.0.0:8080" in full.title
    # A queue at its limit is not full yet: it holds limit + 1 (sk_acceptq_is_full).
    assert "listen_overflow" not in _by_id(snapshot(listeners=(listener(128, 128),)))
    rated = _by_id(snapshot(rates={"ListenOverflows": 12.0, "ListenDrops": 12.0}))
    assert "ListenOverflows +12/s" in rated["listen_overflow"].evidence
    one = _by_id(snapshot(sample=False, listeners=(listener(queued=200, backlog=128),)))
    assert "ListenOverflows +unknown/s" in one["listen_overflow"].evidence


def test_syn_queue_is_relative_to_the_listeners_own_backlog() -> None:
    small = _by_id(snapshot(listeners=(listener(backlog=20, syn=16),)))["syn_queue"]
    assert small.severity is Severity.WARNING and "16 SYN_RECV" in small.evidence
    assert "backlog 20 (80%)" in small.evidence
    assert "tcp_max_syn_backlog=" not in small.evidence  # syncookies=1: not read by the kernel
    assert "syn_queue" not in _by_id(snapshot(listeners=(listener(backlog=4096, syn=900),)))
    full = _by_id(snapshot(listeners=(listener(backlog=20, syn=21),)))["syn_queue"]
    assert full.severity is Severity.CRITICAL
    off = replace(snapshot(listeners=(listener(backlog=20, syn=16),)))
    off = replace(off, sysctl={**off.sysctl, "tcp_syncookies": "0"})
    assert "tcp_max_syn_backlog=2048" in _by_id(off)["syn_queue"].evidence


def test_syn_cookies_being_sent_fire_without_a_visible_pile() -> None:
    f = _by_id(snapshot(rates={"SyncookiesSent": 300.0, "TCPReqQFullDoCookies": 300.0}))
    assert f["syn_queue"].severity is Severity.CRITICAL
    assert "SyncookiesSent +300/s" in f["syn_queue"].evidence


def test_port_pressure_evidence_agrees_with_its_severity() -> None:
    def ports(*tuples: object) -> PortUsage:
        return PortUsage(32768, 60999, 0, tuple(tuples), len(tuples), 0)  # type: ignore[arg-type]

    full = _by_id(snapshot(ports=ports(port_tuple(28232, 28000))))["tw_port_pressure"]
    assert full.severity is Severity.CRITICAL and "fails now: EADDRNOTAVAIL" in full.evidence
    # 99% blocked: FULL (the port model's 98%), critical, and never "not at risk".
    nearly = _by_id(snapshot(ports=ports(port_tuple(27990, 27900))))["tw_port_pressure"]
    assert nearly.severity is Severity.CRITICAL and "not at risk" not in nearly.evidence
    assert "fails now" in nearly.evidence
    half = _by_id(snapshot(ports=ports(port_tuple(15000, 14900))))["tw_port_pressure"]
    assert half.severity is Severity.WARNING and "steady at this demand" in half.evidence
    assert "tw_port_pressure" not in _by_id(snapshot(ports=ports(port_tuple(100, 90))))


def test_server_side_time_wait_counted_even_when_tuples_are_cut() -> None:
    tuples = (port_tuple(600, 500),)
    ports = PortUsage(32768, 60999, 0, tuples, 900, 4_000)  # 900 tuples, 1 kept
    f = _by_id(snapshot({S.TIME_WAIT: 16_000}, ports=ports))["tw_server_side"]
    assert "12000 TIME_WAIT" in f.evidence and "(75%" in f.evidence
    below = snapshot({S.TIME_WAIT: 13_000}, ports=ports)
    assert "tw_server_side" not in _by_id(below)


def test_server_side_time_wait_names_the_listener_on_their_port() -> None:
    """A TIME_WAIT keeps its local port; inbound means that port is a listener's. With one
    listening port the service behind the pile is its listener's owner: named in the title (the
    first screen) and the evidence; with several ports and owners it is unknown, and said so."""
    from twtop.model import Listener, Owner

    legacy = Owner(113, "legacy-http.py", "www")
    tw = {S.TIME_WAIT: 12_000}
    one = (Listener("0.0.0.0", 8080, 0, 4096, legacy), Listener("::", 8080, 0, 4096, legacy))
    f = _by_id(snapshot(tw, listeners=one))["tw_server_side"]
    assert f.title.startswith("legacy-http.py[113] on :8080 closes inbound connections first")
    assert "the local port :8080, where legacy-http.py[113] listens" in f.evidence
    zh = _by_id(snapshot(tw, listeners=one), replace(ROOT, lang="zh"))["tw_server_side"]
    assert zh.title.startswith(":8080 上的 legacy-http.py[113] 先关闭"), zh.title
    assert "在该端口监听的是 legacy-http.py[113]" in zh.evidence
    # one process on two ports: still that process (the port split is not counted)
    two = (one[0], Listener("0.0.0.0", 8443, 0, 4096, legacy))
    f = _by_id(snapshot(tw, listeners=two))["tw_server_side"]
    assert f.title.startswith("legacy-http.py[113] on :8080, :8443 closes")
    # two services: which one is unknown, never guessed
    other = Listener("0.0.0.0", 22, 0, 128, Owner(7, "sshd", "root"))
    f = _by_id(snapshot(tw, listeners=(one[0], other)))["tw_server_side"]
    assert f.title.startswith("This host closes") and "[113]" not in f.title + f.evidence
    assert "2 listening ports (:22, :8080), not counted per port" in f.evidence
    # the owner not readable (unprivileged): the port, and why the owner is unknown
    hidden = (Listener("0.0.0.0", 8080, 0, 4096, None),)
    ctx = Context(root=False)
    f = _by_id(snapshot(tw, listeners=hidden), ctx)["tw_server_side"]
    assert f.title.startswith("This host closes")
    assert "the local port :8080, where a process listens (owner unknown: reading other " in (
        f.evidence
    )


def test_tw_buckets_overflow_needs_a_rate() -> None:
    snap = snapshot({S.TIME_WAIT: 4}, rates={"TCPTimeWaitOverflow": 20.0})
    snap = replace(snap, counters={**snap.counters, "TCPTimeWaitOverflow": 20, "sockstat_tw": 4})
    snap = replace(snap, sysctl={**snap.sysctl, "tcp_max_tw_buckets": "4"})
    f = _by_id(snap)["tw_buckets_overflow"]
    assert f.severity is Severity.CRITICAL
    assert "+20/s (total 20); 4 TIME_WAIT of max 4" in f.evidence
    one = replace(snap, interval_s=None, rates={})
    assert "tw_buckets_overflow" not in _by_id(one)


def test_orphans_are_global_and_killed_before_the_limit() -> None:
    snap = snapshot()
    near = replace(snap, counters={**snap.counters, "sockstat_orphan": 40_000})
    f = _by_id(near)["orphans_pressure"]
    assert f.severity is Severity.WARNING and "(global)" in f.evidence and "= 31%" in f.evidence
    kills = _by_id(snapshot(rates={"TCPAbortOnMemory": 3.0}))["orphans_pressure"]
    assert kills.severity is Severity.CRITICAL and "TCPAbortOnMemory +3.0/s" in kills.evidence
    few = replace(snap, counters={**snap.counters, "sockstat_orphan": 30_000})
    assert "orphans_pressure" not in _by_id(few)


def test_sysctl_rules() -> None:
    snap = snapshot()
    recycle = replace(snap, sysctl={**snap.sysctl, "tcp_tw_recycle": "1"})
    assert _by_id(recycle)["tw_recycle_on"].severity is Severity.CRITICAL
    narrow = replace(snap, ports=PortUsage(40000, 41999, 0, (), 0, 0))
    assert _by_id(narrow)["narrow_port_range"].severity is Severity.INFO
    reserved = replace(snap, ports=PortUsage(32768, 60999, 10, (), 0, 0))
    assert "reserved_in_range" in _by_id(reserved)
    tw = PortUsage(32768, 60999, 0, (port_tuple(6000, 5500),), 1, 5500)
    ts_off = replace(snap, ports=tw, sysctl={**snap.sysctl, "tcp_timestamps": "0"})
    found = _by_id(ts_off)
    assert "timestamps_off" in found and "tw_reuse_off" in found


def test_fin_wait2_pile_names_the_peer() -> None:
    peers = (PeerRow("10.9.9.9", 1500, {S.FIN_WAIT2: 1500}, 0, 1500),)
    f = _by_id(snapshot({S.FIN_WAIT2: 1500}, peers=peers))["fin_wait2_pile"]
    assert "10.9.9.9 (1500)" in f.evidence


def test_findings_sorted_by_severity_then_id() -> None:
    snap = snapshot(
        {S.CLOSE_WAIT: 60, S.TIME_WAIT: 20_000},
        rates={"TCPTimeWaitOverflow": 1.0},
        ports=PortUsage(40000, 41999, 5, (), 0, 0),
        processes=(ProcessRow(7, "leaky", "www", {S.CLOSE_WAIT: 60}),),
    )
    found = advise(snap, ctx=ROOT)
    ranks = [f.severity.rank for f in found]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] == 2 and ranks[-1] == 0
    assert [f.id for f in found] == [
        "tw_buckets_overflow", "close_wait_leak", "narrow_port_range",
        "reserved_in_range", "tw_server_side",
    ]  # fmt: skip
    shuffled = list(found)
    random.Random(7).shuffle(shuffled)
    assert by_severity(shuffled) == found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_rule_renders_in_every_language(lang: str) -> None:
    snap = snapshot(
        {S.CLOSE_WAIT: 2000, S.FIN_WAIT2: 1500, S.TIME_WAIT: 20_000},
        rates={"TCPTimeWaitOverflow": 1.0, "SyncookiesSent": 5.0, "TCPAbortOnMemory": 1.0,
               "ListenOverflows": 2.0},
        listeners=(listener(queued=200, backlog=128, syn=200, cw=150),
                   listener(queued=300, backlog=128, port=81)),
        ports=PortUsage(40000, 41999, 5, (port_tuple(1999, 1900, 1995), port_tuple(6000, 5500)),
                        2, 7400, PortBudget(2000, 5, 3, 2),
                        (SourceView("10.0.0.1", 1990, 1995, 0.5),)),
        peers=(PeerRow("10.9.9.9", 1500, {S.FIN_WAIT2: 1500}, 0, 1500),),
    )  # fmt: skip
    snap = replace(snap, sysctl={**snap.sysctl, "tcp_tw_recycle": "1", "tcp_timestamps": "0"})
    ids = {f.id for f in advise(snap, ctx=Context(lang=lang))}
    fired = {rule.__name__ for rule in RULES}
    assert ids == (fired - {"port_pressure"}) | {"tw_port_pressure"}
    for fid in ids | {"all_clear"}:
        assert fid in FINDINGS[lang]


def test_server_side_time_wait_counted_per_port_names_each_service() -> None:
    """Counted per local port (Listener.tw_on_port, from the poll), the pile is put on the
    services that hold it, however many listen: sshd beside a service does not hide the
    service, and two services each get their count and owner."""
    from twtop.model import Listener, Owner

    legacy, nginx = Owner(113, "legacy-http.py", "www"), Owner(12, "nginx", "www")
    sshd = Listener("0.0.0.0", 22, 0, 128, Owner(7, "sshd", "root"), tw_on_port=0)
    http = Listener("0.0.0.0", 8080, 0, 4096, legacy, tw_on_port=12_000)
    f = _by_id(snapshot({S.TIME_WAIT: 12_000}, listeners=(sshd, http)))["tw_server_side"]
    assert f.title.startswith("legacy-http.py[113] on :8080 closes inbound connections first")
    assert "the local port :8080, where legacy-http.py[113] listens" in f.evidence
    assert "sshd" not in f.title + f.evidence
    web = Listener("0.0.0.0", 80, 0, 4096, nginx, tw_on_port=9_000)
    http = replace(http, tw_on_port=3_000)
    f = _by_id(snapshot({S.TIME_WAIT: 12_000}, listeners=(sshd, http, web)))["tw_server_side"]
    assert f.title.startswith("nginx[12] on :80 closes inbound connections first"), f.title
    want = "by listening port: :80 9000 (nginx[12]); :8080 3000 (legacy-http.py[113])"
    assert want in f.evidence, f.evidence
    zh = _by_id(snapshot({S.TIME_WAIT: 12_000}, listeners=(sshd, http, web)),
                replace(ROOT, lang="zh"))["tw_server_side"]  # fmt: skip
    assert zh.title.startswith(":80 上的 nginx[12] 先关闭"), zh.title
    assert (
        "按监听端口：:80 9000 个（nginx[12]）；:8080 3000 个（legacy-http.py[113]）" in zh.evidence
    )
    # a port whose listener's owner is unknown: said, with why; the title names nobody
    hidden = replace(web, owner=None)
    f = _by_id(snapshot({S.TIME_WAIT: 12_000}, listeners=(http, hidden)))["tw_server_side"]
    assert f.title.startswith("This host closes"), f.title
    assert ":80 9000 (owner unknown: " in f.evidence, f.evidence
