"""The listeners view (l), the counters view (c) and the incident note (n), driven with Pilot at
80x24 on the fixed fake source; assertions read the composed screen."""

from __future__ import annotations

import os
from dataclasses import replace

from tests.ui.fakes import OWNER, FakeSource, make_snapshot
from tests.ui.screen import screen_text, settle
from tui.app import TwtopApp
from tui.messages import SnapshotReady
from tui.screens.counters import CountersScreen
from tui.screens.listeners import ListenersScreen
from twtop.advisor import advise
from twtop.model import Listener, Owner, Snapshot


def _app(tmp_path: object = None, lang: str = "en") -> TwtopApp:
    settings = {"interval": 1.0, "lang": lang, "state_dir": str(tmp_path) if tmp_path else None}
    return TwtopApp(FakeSource(), settings, poll=False)


def _with_listeners(n: int = 1) -> Snapshot:
    snap = make_snapshot(n)
    listeners = (
        Listener("127.0.0.1", 7070, 3, 2, Owner(77, "orders-api.py", "www"), 0, 3),
        Listener("0.0.0.0", 8080, 0, 4096, OWNER, 0, 0),
        Listener("::", 9090, 0, 128, None),  # not measured: unknown, never 0
    )
    counters = {"ListenOverflows": 40 + 12 * n, "ListenDrops": 41 + 12 * n, "TW": 9,
                "TWRecycled": 500 + 30 * n, "EstabResets": 7, "CurrEstab": 12}  # fmt: skip
    rates = {"ListenOverflows": 12.0, "ListenDrops": 12.0, "TW": 0.0, "TWRecycled": 30.0,
             "EstabResets": 0.0}  # fmt: skip
    return replace(snap, listeners=listeners, counters=counters, rates=rates, interval_s=1.0)


def _feed(app: TwtopApp, snap: Snapshot) -> None:
    app.post_message(SnapshotReady(snap, tuple(advise(snap, app.lang))))


def _line(text: str, needle: str) -> str:
    return next(ln for ln in text.splitlines() if needle in ln)


async def test_listeners_view_says_full_unknown_and_owner() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        _feed(app, _with_listeners())
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, ListenersScreen)
        text = screen_text(app)
        assert "Listeners (3)" in text
        full = _line(text, "127.0.0.1:7070")
        assert "3/2 full" in full and "orders-api.py[77]" in full
        assert " 3 " in full.split("full", 1)[1]  # the unaccepted CLOSE_WAITs
        assert "full" not in _line(text, "0.0.0.0:8080")  # 0/4,096: not full
        assert "0/4,096" in _line(text, "0.0.0.0:8080")
        assert _line(text, "[::]:9090").count("unknown") == 3  # SYN_RECV, CW, owner
        assert "owner unknown: " in text  # and why, under the table
        assert "ListenOverflows 12/s, ListenDrops 12/s" in text
        # Live: the next snapshot is drawn while the view is open.
        snap = _with_listeners(2)
        snap = replace(snap, listeners=(replace(snap.listeners[0], queued=1),))
        _feed(app, snap)
        await settle(pilot)
        text = screen_text(app)
        table = [ln for ln in text.splitlines() if ln.startswith("│")]
        assert "Listeners (1)" in text and "1/2" in table[1] and "full" not in "".join(table)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ListenersScreen)


async def test_listeners_view_in_chinese() -> None:
    app = _app(lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        _feed(app, _with_listeners())
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        text = screen_text(app)
        assert "监听套接字（3）" in text and "3/2 已满" in text and "未知" in text
        assert "Listeners" not in text and "unknown" not in text


async def test_counters_view_moved_first_with_meaning() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        _feed(app, _with_listeners())
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CountersScreen)
        text = screen_text(app)
        rows = [ln for ln in text.splitlines() if ln.startswith("│") and "," in ln or "│ " in ln]
        names = [n for ln in rows for n in ("TWRecycled", "ListenOverflows", "ListenDrops",
                 "TW ", "EstabResets", "CurrEstab") if f"│{n}" in ln or f"│ {n}" in ln]  # fmt: skip
        assert names[:3] == ["TWRecycled", "ListenOverflows", "ListenDrops"]  # moved, fastest first
        assert "30" in _line(text, "TWRecycled") and "level" in _line(text, "CurrEstab")
        assert "rates over 1.0 s" in text
        # The highlighted counter's meaning, in full under the table.
        assert "TWRecycled: TIME_WAITs taken over by connect() (tcp_tw_reuse); nothing to do" in (
            text.replace("\n", " ")
        )
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert "TW: TIME_WAIT minisockets made with a timer over 4 s, orphaned FIN_WAIT2" in (
            screen_text(app).replace("\n", " ")
        )
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, CountersScreen)


async def test_counters_one_sample_says_unknown() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        _feed(app, replace(_with_listeners(), interval_s=None, rates={}))
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        text = screen_text(app)
        assert "one sample so far: rates unknown" in text
        assert "unknown" in _line(text, "ListenOverflows")


async def test_note_key_writes_a_private_markdown_note(tmp_path: object) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        _feed(app, _with_listeners())
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        (name,) = os.listdir(str(tmp_path))
        path = os.path.join(str(tmp_path), name)
        # The full path is said (Pilot's compositor does not draw toasts: the tmux test reads it).
        assert [n.message for n in app._notifications] == [f"incident note written to {path}"]
    assert name.endswith(".md") and os.stat(path).st_mode & 0o777 == 0o600
    with open(path) as f:
        note = f.read()
    assert note.startswith("# twtop incident note: web-7")
    assert "127.0.0.1:7070 | 3/2 full |" in note


async def test_palette_opens_listeners_counters_and_writes_the_note(tmp_path: object) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        _feed(app, _with_listeners())
        await settle(pilot)
        for words, screen in (("Listeners", ListenersScreen), ("Counters", CountersScreen)):
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*words)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, screen)
            await pilot.press("escape")
            await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Write incident note")
        await pilot.pause(0.3)
        assert "A Markdown note for a ticket" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
    assert [f for f in os.listdir(str(tmp_path)) if f.endswith(".md")]
