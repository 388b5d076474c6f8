"""The pure model: port-tuple arithmetic, JSON shape, reports from a fixed snapshot."""

from __future__ import annotations

import json

import pytest

from tests.ui.fakes import make_snapshot
from twtop.model import PortTuple
from twtop.prom import render_snapshot
from twtop.report import render_table
from twtop.states import TcpState


def test_exhaustion_arithmetic() -> None:
    # 300 new TIME_WAIT/s hold 18000 ports in steady state: 18000 + 100 live < 28232 -> safe
    assert PortTuple("a", "b", 80, 5100, 5000, 28232, 300.0).seconds_to_exhaustion is None
    # 690/s needs 41400 ports: at risk; grows by 690 - 24600/60 = 280/s with 3512 left
    t = PortTuple("a", "b", 80, 24720, 24600, 28232, 690.0)
    assert t.seconds_to_exhaustion == pytest.approx(3512 / 280)
    assert PortTuple("a", "b", 80, 28232, 28000, 28232, 10.0).seconds_to_exhaustion == 0.0
    assert PortTuple("a", "b", 80, 10, 0, 28232, 0.0).ratio == pytest.approx(10 / 28232)


def test_json_document_is_complete_and_serialisable() -> None:
    doc = make_snapshot(1).to_dict(top=2)
    json.dumps(doc)
    assert doc["schema"] == 1 and len(doc["states"]) == 11 and len(doc["peers"]) == 2
    assert doc["peers_total"] == 5 and doc["ports"]["tuples"][0]["dport"] == 80
    assert doc["close_wait"] == {"oldest_s": 310.0, "aged": 2700, "unread": 40}


def test_table_and_prometheus_from_a_snapshot() -> None:
    snap = make_snapshot(1)
    table = render_table(snap, top=3)
    assert all(len(line) <= 80 for line in table.splitlines())
    assert "10.4.14.24" in table and "full in" not in table  # the table says "FULL IN" column
    prom = render_snapshot(snap, top=3).decode()
    tw = snap.count(TcpState.TIME_WAIT)
    assert f'twtop_tcp_sockets{{state="time_wait"}} {tw}.0' in prom
    assert 'twtop_close_wait_sockets{process="api-server"} 2900.0' in prom
    for line in prom.splitlines():  # every sample belongs to a declared metric
        if not line.startswith("#"):
            name = line.split("{")[0].split(" ")[0]
            assert f"# TYPE {name} gauge" in prom or f"# TYPE {name} counter" in prom
