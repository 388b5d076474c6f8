"""Safe files: nothing twtop writes follows a symlink, overwrites a file, or is world-readable."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from tests.ui.fakes import FakeSource, make_snapshot
from twtop import files
from twtop.files import UnsafeFileError


def mode(path: str | Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file a planted symlink points at; it must never change."""
    path = tmp_path / "victim"
    path.write_text("precious\n")
    return path


def private(tmp_path: Path, name: str = "state") -> Path:
    path = tmp_path / name
    path.mkdir(mode=0o700)
    return path


def test_default_state_dir_is_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    path = files.state_dir()
    assert path == str(tmp_path / "xdg" / "twtop")
    assert mode(path) == 0o700


def test_relative_xdg_state_home_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", "relative/dir")
    monkeypatch.setenv("HOME", "/home/someone")
    assert files.default_state_dir() == "/home/someone/.local/state/twtop"


def test_new_file_is_0600_and_never_over_an_existing_name(tmp_path: Path) -> None:
    folder = private(tmp_path)
    first = files.write_new("twtop-web", ".json", "{}", str(folder))
    second = files.write_new("twtop-web", ".json", "[]", str(folder))
    assert first == str(folder / "twtop-web.json") and second == str(folder / "twtop-web-1.json")
    assert Path(first).read_text() == "{}" and Path(second).read_text() == "[]"
    assert mode(first) == 0o600 and mode(second) == 0o600


def test_planted_symlink_is_skipped_not_followed(tmp_path: Path, victim: Path) -> None:
    folder = private(tmp_path)
    (folder / "twtop-web.json").symlink_to(victim)
    (folder / "twtop-web-1.json").symlink_to(tmp_path / "dangling")
    path = files.write_new("twtop-web", ".json", "new", str(folder))
    assert path == str(folder / "twtop-web-2.json")
    assert victim.read_text() == "precious\n" and not (tmp_path / "dangling").exists()
    assert mode(path) == 0o600


def test_names_from_the_system_cannot_leave_the_directory(tmp_path: Path) -> None:
    folder = private(tmp_path)
    path = files.write_new("../../etc/x\x1b[2J", ".json", "{}", str(folder))
    assert os.path.dirname(path) == str(folder) and "/" not in os.path.basename(path)


def test_state_dir_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    real = private(tmp_path, "real")
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(UnsafeFileError, match="symlink"):
        files.write_new("x", ".json", "{}", str(link))
    assert os.listdir(real) == []


def test_state_dir_others_can_write_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(UnsafeFileError, match="writable by other users"):
        files.write_new("x", ".json", "{}", str(shared))
    assert os.listdir(shared) == []


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown a directory to another user")
def test_state_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    theirs = private(tmp_path, "theirs")
    os.chown(theirs, 65534, 65534)
    with pytest.raises(UnsafeFileError, match="belongs to uid 65534"):
        files.state_dir(str(theirs))


def test_atomic_replace_is_private_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "twtop.prom"
    files.write_atomic(str(target), "a 1\n")
    files.write_atomic(str(target), "a 2\n")
    assert target.read_text() == "a 2\n" and mode(target) == 0o600
    files.write_atomic(str(target), b"a 3\n", mode=0o644)
    assert mode(target) == 0o644
    assert os.listdir(tmp_path) == ["twtop.prom"]


def test_atomic_replace_refuses_a_symlink_target(tmp_path: Path, victim: Path) -> None:
    target = tmp_path / "twtop.prom"
    target.symlink_to(victim)
    with pytest.raises(UnsafeFileError, match="is a symlink; refusing"):
        files.write_atomic(str(target), "a 1\n")
    assert victim.read_text() == "precious\n" and target.is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["twtop.prom", "victim"]


def test_atomic_replace_refuses_a_directory_or_fifo(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "f")
    for name in ("d", "f"):
        with pytest.raises(UnsafeFileError, match="not a regular file"):
            files.write_atomic(str(tmp_path / name), "x")


def test_atomic_replace_refuses_a_symlinked_directory(tmp_path: Path) -> None:
    real = private(tmp_path, "real")
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(UnsafeFileError, match="symlink or not a directory"):
        files.write_atomic(str(tmp_path / "link" / "t.prom"), "x")
    assert os.listdir(real) == []


async def test_tui_export_and_screenshot_skip_planted_symlinks(
    tmp_path: Path, victim: Path
) -> None:
    from tui.app import TwtopApp

    folder = private(tmp_path)
    snap = make_snapshot(1)
    now = time.time()
    for delta in range(0, 5):  # the names the next seconds would get
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now + delta))
        (folder / f"twtop-{snap.host}-{stamp}.json").symlink_to(victim)
        (folder / f"twtop-{stamp}.svg").symlink_to(victim)
    app = TwtopApp(
        FakeSource(), {"interval": 1.0, "lang": "en", "state_dir": str(folder)}, poll=False
    )
    messages: list[str] = []
    app.notify = lambda message, **kw: messages.append(str(message))  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        app.main.show(snap, ())
        await pilot.press("e")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert victim.read_text() == "precious\n"
    written = [p for p in folder.iterdir() if not p.is_symlink()]
    assert sorted(p.suffix for p in written) == [".json", ".svg"]
    assert all(mode(p) == 0o600 for p in written)
    for p in written:  # the full path is shown
        assert any(str(p) in m for m in messages), messages
