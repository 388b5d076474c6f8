"""The pure model: port-tuple arithmetic, JSON shape, reports from a fixed snapshot."""

from __future__ import annotations

import json

from tests.ui.fakes import make_snapshot
from twtop.prom import render_snapshot
from twtop.report import render_table
from twtop.states import TcpState


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
    assert "10.4.14.24" in table and "BLOCK" in table and "HOLD" in table
    prom = render_snapshot(snap, top=3).decode()
    tw = snap.count(TcpState.TIME_WAIT)
    assert f'twtop_tcp_sockets{{state="time_wait"}} {tw}.0' in prom
    assert 'twtop_close_wait_sockets{process="api-server"} 2900.0' in prom
    for line in prom.splitlines():  # every sample belongs to a declared metric
        if not line.startswith("#"):
            name = line.split("{")[0].split(" ")[0]
            assert f"# TYPE {name} gauge" in prom or f"# TYPE {name} counter" in prom
