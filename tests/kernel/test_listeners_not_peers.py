"""Listeners are not peers (issue 9): a LISTEN socket on 0.0.0.0 / :: never makes a peer row called
"0.0.0.0" or "::" in any grouping; it stays counted in the states and in its process's row, and
the listeners view (key ``l``) shows it. Real listeners in a namespace the test makes."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

from tests.helpers import Population, TestNetns
from tests.tmuxpane import TWTOP, Pane
from twtop.collector import Collector
from twtop.model import GROUPS
from twtop.states import TcpState


def _listeners(netns: TestNetns, pop: Population) -> None:
    """0.0.0.0:8080 with 3 connections, and [::]:8081 (IPv6 only)."""
    with netns.inside():
        lst = pop.listener("0.0.0.0", 8080)
        six = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        six.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        six.bind(("::", 8081))
        six.listen(8)
        pop.keep.append(six)
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", 8080))
            s, _a = lst.accept()
            pop.keep += [c, s]


def test_no_listener_peer_in_any_grouping(netns: TestNetns, pop: Population) -> None:
    _listeners(netns, pop)
    with Collector(netns=netns.name) as col:
        for group in GROUPS:
            col.set_group(group)
            snap = col.poll()
            assert snap.count(TcpState.LISTEN) == 2 and snap.total == 8  # counts unchanged
            assert not [p.peer for p in snap.peers if p.peer in ("0.0.0.0", "::")], group
            assert not [p for p in snap.peers if p.count(TcpState.LISTEN)], group
            assert sum(p.total for p in snap.peers) == 6, group  # 3 + 3 ESTABLISHED, no LISTEN
            (me,) = [p for p in snap.processes if p.pid == os.getpid()]
            assert me.states[TcpState.LISTEN] == 2  # the process still holds its listeners
            if group == "process":
                (row,) = [p for p in snap.peers if p.key is not None and p.key.pid == os.getpid()]
                assert row.total == row.listed == 6
                assert len(col.peer_sockets(row)) == 6


@pytest.mark.skipif(not TWTOP or not shutil.which("tmux"), reason="needs twtop and tmux")
def test_no_listener_peer_on_the_80x24_screen(netns: TestNetns, pop: Population) -> None:
    _listeners(netns, pop)
    pane = Pane(80, 24)
    try:
        pane.type(
            f"env TWTOP_CONFIG=/nonexistent {TWTOP} --netns {netns.name} --no-mouse --cpu-budget 0"
        )
        screen = pane.wait_for("1 group", timeout=60)
        peers = screen.split("Peers by", 1)[1]
        cells = [ln.strip("│ ").split(" ", 1)[0] for ln in peers.splitlines()[2:]]
        assert "127.0.0.1" in cells
        assert "0.0.0.0" not in cells and "::" not in cells, screen
        assert "LISTEN            2" in screen  # the states pane still counts them
    finally:
        pane.close()
