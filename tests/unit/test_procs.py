"""The /proc rescan policy on a fixed /proc tree (no root)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from twtop.procs import ProcessMap


def _proc(tmp: Path, fds: dict[int, list[int]]) -> str:
    for pid, inodes in fds.items():
        fd = tmp / str(pid) / "fd"
        fd.mkdir(parents=True, exist_ok=True)
        for n, inode in enumerate(inodes):
            link = fd / str(n + 3)
            if not link.is_symlink():
                os.symlink(f"socket:[{inode}]", link)
    (tmp / "self").mkdir(exist_ok=True)  # not a pid: skipped
    return str(tmp)


def test_scan_maps_inodes_to_pids(tmp_path: Path) -> None:
    pm = ProcessMap(proc=_proc(tmp_path, {100: [11, 12], 200: [21]}))
    assert pm.refresh()
    assert pm.pid_of() == {11: 100, 12: 100, 21: 200}


def test_scan_survives_an_unreadable_descriptor(tmp_path: Path) -> None:
    """A descriptor that cannot be read (closed between listing and reading: here not a link)
    costs only itself; the process's other sockets are still mapped."""
    proc = _proc(tmp_path, {100: [11, 12]})
    (tmp_path / "100" / "fd" / "9").write_text("")  # readlink: EINVAL
    os.symlink("pipe:[5]", tmp_path / "100" / "fd" / "10")  # not a socket
    pm = ProcessMap(proc=proc)
    assert pm.refresh()
    assert pm.pid_of() == {11: 100, 12: 100}


def test_a_one_shot_report_never_rescans_after_its_poll(tmp_path: Path) -> None:
    pm = ProcessMap(refresh_s=0.0, proc=_proc(tmp_path, {100: [11]}))
    pm.refresh()
    pm.rescan_after_poll = False
    assert not pm.after_poll({12}, {12})  # an unowned CLOSE_WAIT: the TUI would rescan at once
    assert pm.scans == 1


def test_unowned_close_wait_rescans_at_once_but_bounded(tmp_path: Path) -> None:
    pm = ProcessMap(refresh_s=3600, proc=_proc(tmp_path, {100: [11]}))
    pm.refresh()
    _proc(tmp_path, {100: [11, 12]})  # a CLOSE_WAIT appears after the first scan
    assert pm.after_poll({12}, {12})  # first sighting: rescan now, despite refresh_s
    assert pm.pid_of()[12] == 100
    # an inode no scan can find (another user's process, when not root) is sought once
    pm._cw_scan_at = -1e9
    assert pm.after_poll({99}, {99})
    pm._cw_scan_at = -1e9
    assert not pm.after_poll({99}, {99})
    # a new one within CW_RESCAN_MIN_S of the last immediate scan waits for the next poll
    assert pm.after_poll({98}, {98})
    assert not pm.after_poll({97}, {97})
    pm._cw_scan_at = -1e9
    assert pm.after_poll({97}, {97})


def test_other_unowned_sockets_need_two_polls_and_the_refresh_age(tmp_path: Path) -> None:
    pm = ProcessMap(refresh_s=0.0, proc=_proc(tmp_path, {100: [11]}))
    pm.refresh()
    assert not pm.after_poll({50}, set())  # seen once: may be an accept-and-close socket
    assert not pm.after_poll({51}, set())  # another one, seen once
    assert pm.after_poll({51}, set())  # seen twice in a row: rescan
    pm.refresh_s = 3600
    assert not pm.after_poll({51}, set())  # still unknown, but the map is fresh


def test_cookie_owners_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from twtop import procs
    from twtop.model import Owner

    clock = [1000.0]
    monkeypatch.setattr(procs.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(procs, "REMEMBER_MAX", 3)
    owners = procs.CookieOwners()
    me = Owner(1, "a", "u")
    named = {1: me}.get
    owners.remember([1, 2, 4, 5], [1, 1, 1, 1], named)
    assert owners.get(1) is me and owners.get(3) is None and owners.get(5) is None
    assert owners.dropped == 1 and len(owners) == 3
    owners.remember([1, 2, 9], [1, 1, 2], named)  # known cookies still refresh; pid 2 unnamed
    assert owners.get(9) is None and owners.dropped == 2
    clock[0] += procs.REMEMBER_S / 2
    owners.remember([6], [1], named)  # a new generation
    clock[0] += procs.REMEMBER_S / 2
    owners.remember([], [], named)
    assert owners.get(1) is me  # the third generation back is still kept
    clock[0] += procs.REMEMBER_S / 2
    owners.remember([], [], named)
    assert owners.get(1) is None and owners.get(6) is me
