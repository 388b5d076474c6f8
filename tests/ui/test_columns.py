"""Who and where at 80x24 (issue 9): PROCESS with its PID and distinct addresses on the first
screen and in the drill-down, headers that follow the grouping; read from the composed screen."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.ui.fakes import SOCKETS, FakeSource, _ip, make_snapshot
from tests.ui.screen import screen_text, settle
from tui.app import TwtopApp
from tui.messages import SnapshotReady
from tui.screens.peer import PeerScreen
from twtop.advisor import advise
from twtop.model import Owner, PeerKey, PeerRow, Snapshot
from twtop.states import TcpState as S
from widgets.sockets import SocketTable

LONG = "a-very-long-service-name-worker.py[4194304]"


def snapshot(group: str = "ip") -> Snapshot:
    snap = make_snapshot(1, group=group)
    peers = (
        PeerRow("2001:db8:abcd::1", 900, {S.CLOSE_WAIT: 900}, 900, 0, ("orders-api.py[4242]",),
                _ip("2001:db8:abcd::1")),
        PeerRow("2001:db8:abcd::2", 800, {S.TIME_WAIT: 800}, 0, 800, (LONG, "x[1]"),
                _ip("2001:db8:abcd::2")),
        PeerRow("2001:db8:abcd:ef01:2345:6789:abcd:1", 700, {S.ESTABLISHED: 700}, 0, 700, (),
                _ip("2001:db8:abcd:ef01:2345:6789:abcd:1")),
        PeerRow("2001:db8:abcd:ef01:2345:6789:abcd:2", 600, {S.ESTABLISHED: 600}, 0, 600, (),
                _ip("2001:db8:abcd:ef01:2345:6789:abcd:2")),
    )  # fmt: skip
    return replace(snap, peers=peers, peers_total=len(peers))


async def show(app: TwtopApp, snap: Snapshot) -> None:
    app.post_message(SnapshotReady(snap, tuple(advise(snap, "en"))))


def app_en(lang: str = "en") -> TwtopApp:
    return TwtopApp(FakeSource(), {"interval": 1.0, "lang": lang, "state_dir": None}, poll=False)


async def test_process_with_pid_and_distinct_peers_at_80x24() -> None:
    app = app_en()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(app, snapshot())
        await settle(pilot)
        text = screen_text(app)
        assert "PROCESS" in text
        assert "orders-api.py[4242]" in text  # whole, PID included
        assert "[4194304] +1" in text  # a long name loses its middle, never the PID
        assert "2001:db8:abcd::1" in text and "2001:db8:abcd::2" in text
        # a peer too long for the column keeps its end: the two stay distinguishable
        ends = [ln.strip("│ ").split()[0] for ln in text.splitlines() if "2001:db8…" in ln]
        assert ends == ["2001:db8…:abcd:1", "2001:db8…:abcd:2"]
        assert all(len(line) <= 80 for line in text.splitlines())


async def test_in_out_come_back_when_there_is_room() -> None:
    app = app_en()
    async with app.run_test(size=(220, 30)) as pilot:
        await show(app, snapshot())
        await settle(pilot)
        text = screen_text(app)
        assert " IN " in text and "OUT" in text and "orders-api.py[4242]" in text
    app = app_en()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(app, snapshot())
        await settle(pilot)
        assert " OUT " not in screen_text(app)


async def test_drill_down_shows_process_without_scrolling_at_80() -> None:
    app = app_en()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(app, snapshot())
        await settle(pilot)
        row = snapshot().peers[0]
        app.push_screen(PeerScreen(row))
        await settle(pilot)
        owner = Owner(4242, "orders-api.py", "www")
        socks = [replace(s, owner=owner) for s in SOCKETS[:2]]
        socks.append(replace(SOCKETS[2], owner=Owner(4194304, LONG.split("[")[0], "www")))
        app.screen.query_one(SocketTable).update_sockets(socks, 3)
        await pilot.pause()
        text = screen_text(app)
        assert "PROCESS" in text and "orders-api.py[4242]" in text and "[4194304]" in text


@pytest.mark.parametrize(
    ("group", "lang", "header", "title"),
    [
        ("ip", "en", "PEER", "Peers by remote IP"),
        ("ipport", "en", "PEER:PORT", "Peers by remote IP:port"),
        ("lport", "en", "LOCAL PORT", "Peers by local port"),
        ("process", "en", "PROCESS", "Peers by process"),
        ("lport", "zh", "本地端口", "按 本地端口 分组"),
    ],
)
async def test_first_header_follows_the_grouping(
    group: str, lang: str, header: str, title: str
) -> None:
    app = app_en(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        snap = snapshot(group)
        await show(app, replace(snap, peers=snap.peers[:1], peers_total=1))
        await settle(pilot)
        text = screen_text(app)
        head = next(ln for ln in text.splitlines() if "FIN_W2" in ln)
        assert head.strip("│ ").startswith(header)
        assert title in text
        if lang == "en":
            assert "1 group" in text and "1 groups" not in text


@pytest.mark.parametrize(
    ("lang", "said", "never"),
    [
        ("en", "900 CLOSE_WAIT on local port 8000", "from 8000"),
        ("zh", "位于本地端口 8000", "来自 8000"),
    ],
)
async def test_strip_under_local_port_grouping_says_on_the_port(
    lang: str, said: str, never: str
) -> None:
    """Grouped by local port, the strip said "CLOSE_WAIT from 8000": as if 8000 were a peer."""
    snap = make_snapshot(1, group="lport")
    row = PeerRow("8000", 900, {S.CLOSE_WAIT: 900}, 900, 0, ("orders-api.py[4242]",),
                  PeerKey("lport", port=8000))  # fmt: skip
    app = app_en(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(app, replace(snap, peers=(row,), peers_total=1))
        await settle(pilot)
        text = screen_text(app)
        assert said in text and never not in text


def test_endpoints_keep_port_and_address_end() -> None:
    """The drill-down cut ``[2001:db8:abcd::1]:38569`` to ``[2001:db…]:38569``: ::1 and ::2 looked
    alike. The port stays whole and the address loses its middle."""
    from widgets.sockets import endpoint_fit

    one, two = (
        endpoint_fit("[2001:db8:abcd::1]:38569", 16),
        endpoint_fit("[2001:db8:abcd::2]:38569", 16),
    )
    assert one.endswith("::1]:38569") and two.endswith("::2]:38569") and len(one) <= 16
    assert endpoint_fit("127.0.0.41:33123", 16) == "127.0.0.41:33123"


async def test_drill_down_ipv6_endpoints_distinguishable_at_80() -> None:
    app = app_en()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(app, snapshot())
        await settle(pilot)
        app.push_screen(PeerScreen(snapshot().peers[0]))
        await settle(pilot)
        socks = [replace(SOCKETS[0], family=10, remote=f"2001:db8:abcd::{i}", rport=38569,
                         cookie=1000 + i) for i in (1, 2)]  # fmt: skip
        app.screen.query_one(SocketTable).update_sockets(socks, 2)
        await pilot.pause()
        text = screen_text(app)
        assert "::1]:38569" in text and "::2]:38569" in text


def test_processes_fill_the_column_then_count_the_rest() -> None:
    from widgets.peers import processes_text

    names = ("orders-api.py[4242]", "billing.py[77]", "x[1]")
    assert processes_text(names, 41) == "orders-api.py[4242], billing.py[77], x[1]"
    assert processes_text(names, 38) == "orders-api.py[4242], billing.py[77] +1"
    short = processes_text(names, 19)
    assert short.endswith("[4242] +2") and len(short) <= 19


def test_in_out_never_squeeze_process_below_its_wide_width() -> None:
    """At 101 columns (160x48 beside the explanation) IN/OUT left PROCESS 22 columns and cut
    every name longer than 15; PROCESS now keeps 32 or IN/OUT give way."""
    from widgets.peers import layout

    for width in (80, 101, 123, 160):
        widths = dict(layout(width))
        assert sum(widths.values()) <= width - 3
        assert widths["process"] >= (32 if "inbound" in widths else 20)
    assert "inbound" not in dict(layout(80)) and "inbound" in dict(layout(123))
