"""explain_peer joins a peer group to its port tuples by the engine's key, not by its label."""

from __future__ import annotations

import socket
from dataclasses import replace

from tests.unit.builders import port_tuple, snapshot
from twtop.explain import explain_peer
from twtop.model import PeerKey, PeerRow
from twtop.states import TcpState as S

DST = socket.inet_aton("10.0.0.2")


def _row(key: PeerKey, label: str) -> PeerRow:
    return PeerRow(label, 300, {S.TIME_WAIT: 300}, 0, 300, key=key)


def _snap() -> object:
    snap = snapshot()
    tuples = (port_tuple(used=300, tw=300, available=1000, rate=5.0),
              replace(port_tuple(used=10, tw=10, available=1000, rate=1.0), dport=443))  # fmt: skip
    return replace(snap, ports=replace(snap.ports, tuples=tuples))


def test_ipport_group_keeps_its_rate_and_tuple_share() -> None:
    """Under --group ipport the label is "10.0.0.2:80": a label join found no tuple and the
    TIME_WAIT rate and tuple share disappeared."""
    row = _row(PeerKey("ipport", socket.AF_INET, DST, 80), "10.0.0.2:80")
    (line,) = explain_peer(row, _snap())  # type: ignore[arg-type]
    assert "~5.0/s" in line and "30%" in line, line


def test_ip_group_sums_every_tuple_towards_the_address() -> None:
    row = _row(PeerKey("ip", socket.AF_INET, DST), "10.0.0.2")
    (line,) = explain_peer(row, _snap())  # type: ignore[arg-type]
    assert "~6.0/s" in line and "30%" in line, line


def test_local_port_group_has_no_tuple() -> None:
    row = _row(PeerKey("lport", port=8080), "8080")
    (line,) = explain_peer(row, _snap())  # type: ignore[arg-type]
    assert "/s" not in line, line


def test_strip_rate_is_the_gauges_in_every_language() -> None:
    """The strip said "约 0/秒" while the gauge said 222/s: it summed the timers' rate (which
    misses TIME_WAITs taken over by tcp_tw_reuse) instead of the demand the gauge shows."""
    row = _row(PeerKey("ip", socket.AF_INET, DST), "10.0.0.2")
    tup = replace(port_tuple(used=300, tw=300, available=1000, rate=0.0), demand_per_s=222.0,
                  judged=True)  # fmt: skip
    snap = _snap()
    snap = replace(snap, ports=replace(snap.ports, tuples=(tup,)))  # type: ignore[attr-defined]
    (en,) = explain_peer(row, snap)  # type: ignore[arg-type]
    (zh,) = explain_peer(row, snap, "zh")  # type: ignore[arg-type]
    assert "~222/s" in en, en
    assert "约 222/秒" in zh and "，约 222/秒，" in zh, zh


def test_strip_at_saturation_says_demand_unknown_like_the_gauge() -> None:
    """A FULL tuple's TIME_WAIT rate is how fast ports free up: the strip said "~9.6/s" beside
    the gauge's "frees 1.6/s" in the port-exhaustion incident."""
    from twtop.ports import TupleState

    row = _row(PeerKey("ip", socket.AF_INET, DST), "10.0.0.2")
    tup = replace(port_tuple(used=100, tw=96, available=100, rate=0.0), demand_per_s=9.6,
                  state=TupleState.FULL, judged=True)  # fmt: skip
    snap = _snap()
    snap = replace(snap, ports=replace(snap.ports, tuples=(tup,)))  # type: ignore[attr-defined]
    (en,) = explain_peer(row, snap)  # type: ignore[arg-type]
    (zh,) = explain_peer(row, snap, "zh")  # type: ignore[arg-type]
    assert "demand unknown while connect() fails" in en and "9.6/s" not in en, en
    assert "需求未知" in zh and "9.6" not in zh, zh
