"""Who, where and what at 60x20 (the port-exhaustion incident's narrow screen): the tuple keeps
its state word, the peers table keeps a PROCESS column with the PID whole. Read from the composed
screen; the installed binary's check is tests/test_e2e_incidents.py (60x20)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.ui.fakes import REMOTE, make_snapshot
from tests.ui.screen import screen_text, settle
from tests.ui.test_columns import app_en, show
from twtop.model import PortTuple, Snapshot

#: The port-exhaustion incident's tuple: 100-port range, 4 live + 96 TIME_WAIT, FULL.
FULL = PortTuple("127.0.0.1", "127.0.0.20", 5432, 100, 96, 100, 1.6, regime=REMOTE,
                 owners=("report-worker.py[25658]",))  # fmt: skip
#: An IPv6 tuple (the dual-stack incident): both addresses must lose their middle.
V6 = PortTuple("fd6a:6b1c:2d4e:5f00::11", "fd6a:6b1c:2d4e:5f00::1", 8443, 60, 0, 28_232, 0.0,
               regime=REMOTE)  # fmt: skip


def snapshot(tup: PortTuple) -> Snapshot:
    snap = make_snapshot(1)
    first = replace(snap.peers[0], processes=("report-worker.py[25658]",))
    return replace(snap, ports=replace(snap.ports, tuples=(tup,)),
                   peers=(first, *snap.peers[1:]))  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_port_line_keeps_its_state_word_at_60(lang: str) -> None:
    app = app_en(lang)
    async with app.run_test(size=(60, 20)) as pilot:
        await show(app, snapshot(FULL))
        await settle(pilot)
        text = screen_text(app)
        line = next(ln for ln in text.splitlines() if "→" in ln)
        assert "127.0.0.1→127.0.0.20:5432" in line, text
        assert {"en": "FULL", "zh": "已满"}[lang] in line, text
        assert "100.0%" in line, text


async def test_ipv6_port_line_keeps_its_state_word_at_60() -> None:
    app = app_en()
    async with app.run_test(size=(60, 20)) as pilot:
        await show(app, snapshot(V6))
        await settle(pilot)
        text = screen_text(app)
        line = next(ln for ln in text.splitlines() if "→" in ln)
        assert re.search(r"::11→\S*:8443.*steady", line), text


async def test_port_line_unchanged_at_80() -> None:
    """At 80 columns the line keeps its demand and hold (only narrower panes drop them)."""
    app = app_en()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(app, snapshot(FULL))
        await settle(pilot)
        text = screen_text(app)
        line = r"127\.0\.0\.1→127\.0\.0\.20:5432 \[█+\] 100\.0% frees 1\.6/s hold 60s FULL"
        assert re.search(line, text), text


async def test_peers_keep_a_process_column_at_60() -> None:
    app = app_en()
    async with app.run_test(size=(60, 20)) as pilot:
        await show(app, snapshot(FULL))
        await settle(pilot)
        text = screen_text(app)
        assert "PROCESS" in text, text
        row = next(ln for ln in text.splitlines() if "10.4.14.24" in ln)
        assert re.search(r"rep…\S*py\[25658\]", row), text  # start, end and the whole PID
        assert re.search(r"10\.4\.14\.24\s+21,?[0-9.]+k?\s", row), text
        assert all(len(ln) <= 60 for ln in text.splitlines())


@pytest.mark.parametrize(("lang", "pid"), [("en", 113), ("en", 4_194_304), ("zh", 4_194_304)])
async def test_listener_owner_keeps_its_pid_at_80(lang: str, pid: int) -> None:
    """The listeners view ran the owner off the right edge at 80 columns
    (``legacy-http.py[113``): the name is elided, the PID stays whole."""
    from twtop.model import Listener, Owner

    owner = Owner(pid, "legacy-http-server-with-a-long-name.py", "www")
    app = app_en(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        snap = make_snapshot(1)
        await show(app, replace(snap, listeners=(Listener("127.0.0.1", 8080, 0, 4096, owner),)))
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        text = screen_text(app)
        row = next(ln for ln in text.splitlines() if "127.0.0.1:8080" in ln)
        m = re.search(rf"\s(\S+)\[{pid}\]\s*│$", row)  # the PID whole, before the border
        assert m and m[1].startswith("le") and "…" in m[1] and m[1].endswith("py"), text


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_narrow_listeners_give_up_empty_columns_not_the_owner(lang: str) -> None:
    """At 60 columns the listeners view ran OWNER off the right edge. Now the columns with
    nothing to say (SYN_RECV and unaccepted CLOSE_WAIT all 0) go first: the inbound TIME_WAITs
    (not 0) and the owner with its whole PID stay on screen."""
    from twtop.knowledge_views import VIEW_WORDS
    from twtop.model import Listener, Owner

    owner = Owner(4_194_304, "legacy-http.py", "www")
    app = app_en(lang)
    async with app.run_test(size=(60, 20)) as pilot:
        snap = make_snapshot(1)
        lst = Listener("127.0.0.1", 8080, 0, 4096, owner, syn_recv=0, unaccepted_close_wait=0,
                       tw_on_port=12_345)  # fmt: skip
        await show(app, replace(snap, listeners=(lst,)))
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        text = screen_text(app)
    words = VIEW_WORDS[lang]
    header = next(ln for ln in text.splitlines() if words["col_listen"] in ln)
    assert words["col_tw_in"] in header and words["col_owner"] in header, text
    assert words["col_syn"] not in header and words["col_unaccepted"] not in header, text
    row = next(ln for ln in text.splitlines() if "127.0.0.1:8080" in ln)
    assert re.search(r"\s12,345\s+le\S*py\[4194304\]\s*│$", row), text  # name elided, PID whole


async def test_narrow_listeners_keep_the_column_that_has_something_to_say() -> None:
    """At 70 columns two of the three optional columns fit: the one all 0 (SYN_RECV here) goes,
    the unaccepted CLOSE_WAITs (3) stay, whatever the fixed order would drop first."""
    from twtop.model import Listener, Owner

    app = app_en("en")
    async with app.run_test(size=(70, 20)) as pilot:
        lst = Listener("127.0.0.1", 8080, 0, 4096, Owner(77, "orders-api.py", "www"),
                       syn_recv=0, unaccepted_close_wait=3, tw_on_port=0)  # fmt: skip
        await show(app, replace(make_snapshot(1), listeners=(lst,)))
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        text = screen_text(app)
    header = next(ln for ln in text.splitlines() if "LISTENING ON" in ln)
    assert "UNACC CW" in header and "SYN_RECV" not in header and "OWNER" in header, text
    row = next(ln for ln in text.splitlines() if "127.0.0.1:8080" in ln)
    assert re.search(r"\s3\s+0\s+\S+py\[77\]\s*│$", row), text
