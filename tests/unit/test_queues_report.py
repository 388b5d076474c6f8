"""Listener queues counted from sockets, and the JSON document / --once table built from a
Snapshot (no kernel): unknown values are null / "unknown", never 0."""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import replace

from tests.unit.builders import listener, snapshot
from twtop import wire
from twtop.advisor import Context, advise
from twtop.filter import compile_filter
from twtop.model import Listener, Socket
from twtop.queues import candidates, listener_queues, pick, queue_filters, queue_rows
from twtop.report import document, render_table
from twtop.states import TcpState as S


def _sock(state: S, local: str, lport: int, inode: int = 0) -> Socket:
    fam = socket.AF_INET6 if ":" in local else socket.AF_INET
    return Socket(fam, state, local, lport, "10.0.0.9", 40000, 0, 0, 0, 0, 0, 0, inode, 1)


def test_listener_queues_match_exact_address_first_then_wildcards() -> None:
    lst = (
        Listener("0.0.0.0", 80, 3, 128, None),
        Listener("10.0.0.1", 80, 2, 128, None),
        Listener("::", 443, 0, 16, None),
    )
    socks = [
        _sock(S.CLOSE_WAIT, "10.0.0.1", 80),  # the specific listener
        _sock(S.CLOSE_WAIT, "10.0.0.2", 80),  # the wildcard one
        _sock(S.CLOSE_WAIT, "10.0.0.2", 80, inode=77),  # accepted: the application holds it
        _sock(S.SYN_RECV, "10.0.0.2", 80),
        _sock(S.SYN_RECV, "10.0.0.2", 443),  # IPv4 on a dual-stack "::" listener
        _sock(S.SYN_RECV, "fd00::1", 443),
        _sock(S.CLOSE_WAIT, "10.0.0.2", 8080),  # no listener: a client socket
        _sock(S.ESTABLISHED, "10.0.0.2", 80),
    ]
    out = listener_queues(lst, socks)
    assert [(x.syn_recv, x.unaccepted_close_wait) for x in out] == [(1, 1), (0, 1), (2, 0)]


def test_queue_filters_run_in_the_kernel_and_skip_empty_queues() -> None:
    quiet = (listener(port=80), listener(port=443))
    assert queue_filters(quiet) == ["state syn-recv"]  # no queue: no CLOSE_WAIT decoded
    busy = (listener(port=80, queued=3), listener(port=443, queued=1), listener(port=8080))
    exprs = queue_filters(busy)
    assert exprs == ["state syn-recv", "state close-wait and (sport = :80 or sport = :443)"]
    for expr in exprs:  # state masks and bytecode only: nothing left for Python to evaluate
        assert compile_filter(expr).node is None
    many = tuple(listener(port=p, queued=1) for p in range(1000, 1100))
    assert queue_filters(many)[1] == "state close-wait"


def _row(state: S, sport: int, inode: int = 0) -> tuple[int, ...]:
    """A decoded row (twtop.wire's field order) with what queue_rows reads."""
    r = [0] * 16
    r[2], r[3], r[6], r[15] = (
        socket.AF_INET,
        int(state),
        ((sport & 0xFF) << 8) | (sport >> 8),
        inode,
    )
    return tuple(r)


def test_queue_rows_pick_what_the_queue_filters_would_from_a_counts_only_dump() -> None:
    """A counts-only poll counts the listen queues from its own dump of the small states instead
    of two more walks: the same selection as queue_filters, in Python."""
    busy = (listener(port=80, queued=3), listener(port=8080))
    rows = [
        _row(S.SYN_RECV, 8080),  # every request socket
        _row(S.CLOSE_WAIT, 80),  # unaccepted, on a port with a queue
        _row(S.CLOSE_WAIT, 8080),  # 8080's queue is empty: an accepted socket's port
        _row(S.CLOSE_WAIT, 80, inode=77),  # accepted (it has a file): the leak, not the queue
        _row(S.FIN_WAIT1, 80),
    ]
    assert queue_rows(busy, rows) == rows[:2]


def _msg(state: S, sport: int, inode: int) -> bytes:
    """One inet_diag_msg as the kernel sends it (header, body, a 4-byte attribute)."""
    body = struct.pack(
        "=BBBBHH16s16sIQIIIII", socket.AF_INET, int(state), 0, 0, socket.htons(sport),
        socket.htons(40000), bytes(16), bytes(16), 0, 7, 0, 0, 0, 0, inode,
    )  # fmt: skip
    payload = body + struct.pack("=HH", 8, wire.INET_DIAG_MARK) + bytes(4)
    return struct.pack("=IHHII", 16 + len(payload), 20, 2, 1, 0) + payload


def test_queue_candidates_come_from_a_uniform_buffer_by_strided_slices() -> None:
    """The walk of a full poll hands uniform buffers over undecoded: the candidates are found in
    the bytes (state and inode), an inode whose low byte is 0 is not mistaken for none."""
    msgs = [_msg(S.ESTABLISHED, 80, 5), _msg(S.CLOSE_WAIT, 80, 0), _msg(S.CLOSE_WAIT, 80, 256),
            _msg(S.SYN_RECV, 443, 0), _msg(S.CLOSE_WAIT, 443, 9)]  # fmt: skip
    length = len(msgs[0])
    got = candidates(b"".join(msgs), length)
    assert [(r[wire.R_STATE], wire.port(r[wire.R_SPORT])) for r in got] == [
        (S.CLOSE_WAIT, 80), (S.SYN_RECV, 443)
    ]  # fmt: skip
    (cw,) = candidates(b"".join(msgs[:3]), length)  # CLOSE_WAITs, no SYN_RECV
    assert (cw[wire.R_STATE], cw[wire.R_INODE]) == (S.CLOSE_WAIT, 0)
    assert candidates(b"".join(msgs[:1] * 50), length) == []  # an ESTABLISHED crowd
    assert pick(b"", 0, [_row(S.SYN_RECV, 1), _row(S.LISTEN, 2)]) == [_row(S.SYN_RECV, 1)]


def test_document_with_one_sample_says_null_not_zero() -> None:
    snap = snapshot({S.CLOSE_WAIT: 3}, sample=False, close_wait_oldest_s=0.0, close_wait_aged=0)
    doc = document(snap, advise(snap, ctx=Context()), top=5)
    assert doc["rates"] is None and doc["state_rates"] is None and doc["sample_s"] is None
    assert doc["close_wait"] == {"oldest_s": None, "aged": None, "unread": 0}
    assert doc["churn"]["tw_per_s_counter"] is None
    assert doc["findings"][0]["id"] == "all_clear" and doc["findings"][0]["severity"] == "info"
    assert doc["sysctl_global"] == ["tcp_max_orphans"]
    assert doc["listeners"][0]["syn_recv"] == 0
    json.dumps(doc)


def test_document_with_two_samples_has_numbers() -> None:
    snap = snapshot({S.CLOSE_WAIT: 3}, close_wait_oldest_s=40.0, close_wait_aged=3)
    doc = document(snap, [], top=None)
    assert doc["sample_s"] == 1.0 and doc["rates"]["TW"] == 0.0
    assert doc["state_rates"]["CLOSE_WAIT"] == 0.0
    assert doc["close_wait"] == {"oldest_s": 40.0, "aged": 3, "unread": 0}
    assert doc["findings"] == []


def test_table_writes_unknown_and_marks_global_sysctls() -> None:
    snap = snapshot({S.CLOSE_WAIT: 3}, sample=False, close_wait_oldest_s=0.0)
    snap = replace(snap, listeners=(listener(queued=2, syn=None, cw=None),))
    lines = [line for f in advise(snap, ctx=Context()) for line in f.render_lines()]
    table = render_table(snap, findings=lines)
    assert "one sample: rates unknown" in table
    assert "CLOSE_WAIT   " in table and "   unknown" in table
    assert "oldest seen for unknown; unknown seen >= 30 s" in table
    assert "tcp_max_orphans          131072 (global)" in table
    assert "0.0.0.0:8080" in table and "[info] All clear" in table
    assert all(len(line) <= 80 for line in table.splitlines())
