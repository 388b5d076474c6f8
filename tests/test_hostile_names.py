"""Names are data: processes of an unprivileged user, named to attack root's terminal, show escaped.

Each hostile process runs as uid 65534 in a namespace this test creates, sets its name with
prctl(PR_SET_NAME) and its argv[0], listens on 127.0.0.1 and holds one accepted connection from
its own peer address (so it owns a peer row of its own in the TUI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.helpers import TestNetns, is_root
from tests.tmuxpane import TWTOP, Pane
from twtop.safe import sanitize

needs_root = pytest.mark.skipif(not is_root() or not TWTOP, reason="needs root and installed twtop")

#: (name, peer address); PR_SET_NAME keeps 15 bytes, each name fits.
HOSTILE = (
    ("[/x]", "127.0.0.2"),
    ("[red]EVIL[/red]", "127.0.0.3"),
    ("\x1b]0;PWN\x07\x1b[2J", "127.0.0.4"),
)

# Enter the namespace as root, then drop to nobody, then name ourselves and open the sockets.
CHILD = r"""
import ctypes, os, socket, sys
libc = ctypes.CDLL("libc.so.6", use_errno=True)
fd = os.open(sys.argv[1], os.O_RDONLY)
assert libc.setns(fd, 0x40000000) == 0, "setns"
os.setgroups([]); os.setgid(65534); os.setuid(65534)
name = sys.argv[3].encode()
assert libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0) == 0, "prctl"  # PR_SET_NAME
lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(8)
c = socket.socket(); c.bind((sys.argv[2], 0)); c.connect(lst.getsockname())
s, _ = lst.accept()
print("ready", flush=True)
sys.stdin.read()  # until the test closes our stdin (bounded by the test's timeout)
"""


@pytest.fixture
def hostile(netns: TestNetns) -> Iterator[TestNetns]:
    procs = []
    try:
        for name, peer in HOSTILE:
            p = subprocess.Popen(
                [name, "-c", CHILD, netns.path, peer, name],
                executable=sys.executable,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            procs.append(p)
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
            with open(f"/proc/{p.pid}/comm", "rb") as f:
                assert f.read().rstrip(b"\n") == name.encode()
            assert os.stat(f"/proc/{p.pid}").st_uid == 65534
        yield netns
    finally:
        for p in procs:
            assert p.stdin is not None
            p.stdin.close()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def run_once(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "TWTOP_CONFIG": "/nonexistent", "LANG": "C.UTF-8"}
    return subprocess.run([TWTOP, *args], capture_output=True, env=env, timeout=60)


@needs_root
def test_once_table_has_no_control_bytes(hostile: TestNetns) -> None:
    out = run_once("--once", "--netns", hostile.name, "--group", "process")
    assert out.returncode == 0, out.stderr
    assert b"\x1b" not in out.stdout and b"\x07" not in out.stdout
    text = out.stdout.decode()
    for name, _peer in HOSTILE:
        assert sanitize(name) in text, text
    assert r"\x1b]0;PWN\x07\x1b[2J" in text


@needs_root
def test_json_keeps_names_escaped(hostile: TestNetns) -> None:
    out = run_once("--json", "--netns", hostile.name, "--group", "process")
    assert out.returncode == 0, out.stderr
    assert b"\x1b" not in out.stdout
    assert rb"\\x1b]0;PWN\\x07\\x1b[2J" in out.stdout  # the visible escape, JSON-quoted


@needs_root
@pytest.mark.skipif(not shutil.which("tmux"), reason="needs tmux")
def test_tui_starts_and_shows_names_as_text(hostile: TestNetns) -> None:
    pane = Pane(160, 48)
    try:
        cmd = f"env TWTOP_CONFIG=/nonexistent {TWTOP} --netns {hostile.name} --no-mouse"
        pane.type(f"{cmd}; echo rc=$?")
        for name, _peer in HOSTILE:  # in the PROCESS column, as text: [red] is not a colour
            pane.wait_for(sanitize(name), timeout=20)
        assert "PWN" not in pane.show("#{pane_title}")  # the OSC 0 never reached the terminal
        pane.tmux("send-keys", "-t", pane.session, "q")
        assert pane.run_status() == 0
    finally:
        pane.close()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;PWN\x07\x1b[2J", r"\x1b]0;PWN\x07\x1b[2J"),
        ("[red]EVIL[/red]", "[red]EVIL[/red]"),  # markup is the UI's business: kept as text
        ("a\tb\nc\rd\x00e\x7f\x9b", r"a\x09b\x0ac\x0dd\x00e\x7f\x9b"),
        ("evil\u202etxt.exe\u200b", r"evil\u202etxt.exe\u200b"),  # bidi override, zero width
        (b"caf\xc3\xa9 \xff\xfe", r"café \xff\xfe"),  # bytes that are not UTF-8
        ("订单服务", "订单服务"),
    ],
)
def test_sanitize_escapes_control_and_invisible_characters(raw: str | bytes, shown: str) -> None:
    assert sanitize(raw) == shown
    assert sanitize(sanitize(raw)) == sanitize(raw)  # idempotent: every layer may apply it


def test_sanitize_bounds_length_without_cutting_an_escape() -> None:
    assert sanitize("x" * 1000) == "x" * 255 + "…"
    assert sanitize("\x1b" * 100, limit=10) == r"\x1b\x1b…"
    assert sanitize("ok\nnext", keep="\n") == "ok\nnext"


async def test_tui_filter_error_echoes_markup_as_text() -> None:
    from tests.ui.fakes import FakeSource, make_snapshot
    from tui.app import TwtopApp

    app = TwtopApp(FakeSource(), {"interval": 1.0, "lang": "en"}, poll=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.main.show(make_snapshot(1), ())
        await pilot.press("slash")
        app.main.query_one("#filter").value = "sport = [/x]"  # type: ignore[attr-defined]
        await pilot.press("enter")  # MarkupError before
        await pilot.pause()
        shown = str(app.main.query_one("#filter-error").render())
        assert "[/x]" in shown
