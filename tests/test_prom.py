"""Metric families of a Snapshot (twtop.prom): bounded, unique, honest about unknowns."""

from __future__ import annotations

import dataclasses
import math

from prometheus_client.parser import text_string_to_metric_families

from tests.promtools import promtool
from tests.ui.fakes import make_snapshot
from twtop.advisor import advise
from twtop.model import Listener, PortTuple, PortUsage, ProcessRow, Snapshot
from twtop.prom import MAX_TOP, counter_name, render_snapshot
from twtop.states import TcpState as S


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by (name, sorted labels); fails on a duplicate series."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for fam in text_string_to_metric_families(text.decode()):
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in out, f"duplicate series {key}"
            out[key] = s.value
    return out


def series(text: bytes, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric by their labels."""
    return {labels: v for (n, labels), v in samples(text).items() if n == name}


def with_(snap: Snapshot, **changes: object) -> Snapshot:
    return dataclasses.replace(snap, **changes)  # type: ignore[arg-type]


def test_all_states_with_zeros_and_lowercase_labels() -> None:
    snap = make_snapshot(1)
    got = series(render_snapshot(snap), "twtop_tcp_sockets")
    assert len(got) == 11
    assert got[(("state", "time_wait"),)] == snap.count(S.TIME_WAIT)
    assert got[(("state", "syn_sent"),)] == 0
    assert all(v == v.lower() for labels in got for _k, v in labels)


def tuples(n: int) -> tuple[PortTuple, ...]:
    return tuple(
        PortTuple("10.0.0.1", f"10.9.0.{i}", 443, 100 + i, 50, 1000, float(i)) for i in range(n)
    )


def test_port_tuples_top_n_then_one_other_series() -> None:
    snap = with_(make_snapshot(1), ports=PortUsage(32768, 60999, 0, tuples(30), 30))
    text = render_snapshot(snap, top=5)
    ratio = series(text, "twtop_port_tuple_blocking_ratio")
    assert len(ratio) == 6  # 5 worst + other
    other = (("dport", "other"), ("dst", "other"), ("src", "other"))
    # the other bucket carries the worst of the rest, so max() over the family is always right
    assert ratio[other] == (100 + 24) / 1000
    worst = (("dport", "443"), ("dst", "10.9.0.29"), ("src", "10.0.0.1"))
    assert ratio[worst] == (100 + 29) / 1000
    assert series(text, "twtop_port_tuples")[()] == 30


def test_series_are_capped_whatever_top_says() -> None:
    snap = with_(make_snapshot(1), ports=PortUsage(32768, 60999, 0, tuples(200), 200))
    ratio = series(render_snapshot(snap, top=10_000), "twtop_port_tuple_blocking_ratio")
    assert len(ratio) == MAX_TOP + 1


def test_seconds_to_full_is_inf_when_sustainable() -> None:
    snap = make_snapshot(1)
    full = series(render_snapshot(snap), "twtop_port_tuple_seconds_to_full")
    by_dst = {dict(k)["dst"]: v for k, v in full.items()}
    assert by_dst["192.168.7.9"] == math.inf  # 812 live, no TIME_WAIT churn: never fills
    assert by_dst["10.4.14.24"] == snap.ports.tuples[0].seconds_to_full


def test_close_wait_by_process_name_bounded_with_other_and_unknown() -> None:
    procs = (
        ProcessRow(1, "api", "www", {S.CLOSE_WAIT: 40}),
        ProcessRow(2, "api", "www", {S.CLOSE_WAIT: 2}),  # same name, other pid: one series
        ProcessRow(3, "worker", "www", {S.CLOSE_WAIT: 7}),
        ProcessRow(4, "cron", "root", {S.CLOSE_WAIT: 3}),
        ProcessRow(5, "other", "root", {S.CLOSE_WAIT: 1}),  # named like the bucket
        ProcessRow(6, "idle", "root", {S.ESTABLISHED: 9}),
    )
    snap = make_snapshot(1)
    snap = with_(snap, processes=procs, states={**snap.states, S.CLOSE_WAIT: 60})
    got = series(render_snapshot(snap, top=2), "twtop_close_wait_sockets")
    assert got == {
        (("process", "api"),): 42,
        (("process", "worker"),): 7,
        (("process", "other"),): 4,  # cron 3 + the process called "other" 1: no duplicate
        (("process", "unknown"),): 7,  # 60 CLOSE_WAIT, 53 with an owner
    }


def test_reuseport_listeners_are_summed_into_one_series() -> None:
    lst = (Listener("0.0.0.0", 8080, 3, 128, None), Listener("0.0.0.0", 8080, 2, 128, None),
           Listener("::", 8080, 0, 128, None))  # fmt: skip
    text = render_snapshot(with_(make_snapshot(1), listeners=lst))
    q = series(text, "twtop_listen_queue")
    assert q == {
        (("local", "0.0.0.0"), ("port", "8080")): 5,
        (("local", "::"), ("port", "8080")): 0,
    }
    b = series(text, "twtop_listen_backlog")
    assert b[(("local", "0.0.0.0"), ("port", "8080"))] == 256


def test_unknown_values_are_absent_not_zero() -> None:
    snap = with_(make_snapshot(0), close_wait_oldest_s=None, counters={})
    text = render_snapshot(snap)
    assert not series(text, "twtop_close_wait_oldest_seconds")
    assert not any(name.startswith("twtop_tcpext_") for name, _l in samples(text))
    seen_before = with_(make_snapshot(1), interval_s=1.0)
    assert series(render_snapshot(seen_before), "twtop_close_wait_oldest_seconds") == {(): 310.0}
    # the first collection (twtop --once) cannot know how old a CLOSE_WAIT is: absent, not 0
    first = with_(make_snapshot(1), interval_s=None, close_wait_oldest_s=0.0)
    assert not series(render_snapshot(first), "twtop_close_wait_oldest_seconds")


def test_counters_are_total_and_findings_labelled() -> None:
    snap = make_snapshot(1)
    text = render_snapshot(snap, advise(snap))
    assert series(text, "twtop_tcpext_tw_total") == {(): 100_690}
    assert counter_name("TCPTimeWaitOverflow") == "twtop_tcpext_tcp_time_wait_overflow"
    assert counter_name("ListenOverflows") == "twtop_tcpext_listen_overflows"
    assert counter_name("TWKilled") == "twtop_tcpext_tw_killed"
    findings = series(text, "twtop_findings")
    assert findings[(("id", "close_wait_leak"), ("severity", "critical"))] == 1
    assert b"# TYPE twtop_tcpext_tw_total counter" in text


def test_names_from_the_system_are_label_data() -> None:
    procs = (ProcessRow(1, 'we"ird\\na\nme', "u", {S.CLOSE_WAIT: 1}),)
    snap = with_(make_snapshot(1), processes=procs)
    got = series(render_snapshot(snap), "twtop_close_wait_sockets")
    assert got[(("process", 'we"ird\\na\nme'),)] == 1


def test_promtool_check_metrics_on_the_textfile() -> None:
    snap = make_snapshot(1)
    out = promtool("check", "metrics", stdin=render_snapshot(snap, advise(snap)))
    assert out.returncode == 0, out.stdout + out.stderr


def test_attributed_time_waits_are_counts_without_process_labels() -> None:
    """Attribution in Prometheus: a count per shown tuple (+ other) and overall; no process label,
    so the makers' names cannot grow the series count."""
    made = tuple(
        dataclasses.replace(t, tw_attributed=10 + i, tw_made_by=((f"p{i}.py[{i}]", 10 + i),))
        for i, t in enumerate(tuples(8))
    )
    snap = with_(make_snapshot(1), ports=PortUsage(32768, 60999, 0, made, 8), tw_attributed=123)
    text = render_snapshot(snap, top=5)
    per = series(text, "twtop_port_tuple_time_wait_attributed")
    assert len(per) == 6 and {k for labels in per for k, _v in labels} == {"src", "dst", "dport"}
    worst = (("dport", "443"), ("dst", "10.9.0.7"), ("src", "10.0.0.1"))
    assert per[worst] == 17
    assert per[(("dport", "other"), ("dst", "other"), ("src", "other"))] == 10 + 11 + 12
    assert series(text, "twtop_port_tuple_time_wait")[worst] == 50
    assert series(text, "twtop_time_wait_attributed")[()] == 123
    assert b"p7.py" not in text
