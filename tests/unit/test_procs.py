"""The /proc rescan policy on a fixed /proc tree (no root)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from twtop import procs
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


def _ns(tmp: Path, pid: int, target: Path | None, tid: int | None = None) -> None:
    """Give process ``pid`` (or its thread ``tid``) a namespace: ``target``'s (a hard link: same
    inode) or one of its own."""
    d = tmp / str(pid) / ("ns" if tid is None else f"task/{tid}/ns")
    d.mkdir(parents=True, exist_ok=True)
    if target is None:
        (d / "net").write_text("")
    else:
        os.link(target, d / "net")


@pytest.fixture
def netns_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[int, int]]:
    """A /proc where ``self`` is in the polled namespace; the test sets descriptor counts."""
    (tmp_path / "self" / "ns").mkdir(parents=True)
    (tmp_path / "self" / "ns" / "net").write_text("")
    sizes: dict[int, int] = {}
    monkeypatch.setattr(ProcessMap, "_fd_count", lambda self, name: sizes[int(name)])
    return tmp_path, sizes


def test_scan_reads_only_the_polled_namespace(netns_proc: tuple[Path, dict[int, int]]) -> None:
    """A big process in another namespace is skipped (counted, with a note when sockets stay
    unowned); the processes in the polled one are all read."""
    tmp, sizes = netns_proc
    _proc(tmp, {100: [11, 12], 200: [21], 300: [31]})
    target = tmp / "self" / "ns" / "net"
    _ns(tmp, 100, target)
    _ns(tmp, 200, None)
    _ns(tmp, 300, None)
    _ns(tmp, 300, target, tid=301)  # one thread entered the polled namespace and stayed
    sizes.update({100: 2, 200: 5000, 300: 5000})
    pm = ProcessMap(proc=str(tmp))
    assert pm.refresh()
    assert pm.pid_of() == {11: 100, 12: 100, 31: 300}
    assert pm.other_ns == 1 and pm.narrow
    (note,) = pm.notes(1)
    assert "1 processes in other network namespaces" in note
    assert pm.notes(0) == ()


def test_small_processes_outside_are_read(
    netns_proc: tuple[Path, dict[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket belongs to the namespace it was made in: a small process elsewhere (a tool that
    entered the namespace for a moment) may hold one, so it is read; within a budget in all."""
    tmp, sizes = netns_proc
    _proc(tmp, {200: [21], 300: [31], 400: [41]})
    for pid in (200, 300, 400):
        _ns(tmp, pid, None)
    sizes.update({200: 10, 300: procs.OUTSIDE_FDS_MAX, 400: procs.OUTSIDE_FDS_MAX + 1})
    pm = ProcessMap(proc=str(tmp))
    pm.refresh()
    assert pm.pid_of() == {21: 200, 31: 300} and pm.other_ns == 1
    monkeypatch.setattr(procs, "OUTSIDE_FDS_BUDGET", 15)
    sizes.update({300: 10})
    pm.refresh(force=True)
    assert len(pm.pid_of()) == 1 and pm.other_ns == 2  # the second small one: over budget


def test_a_socket_held_outside_is_found_by_a_wide_scan(
    netns_proc: tuple[Path, dict[int, int]],
) -> None:
    """A live socket only a big outside process holds: unowned through a rescan made after it
    was seen, then one wide scan names it, and later narrow scans keep that owner."""
    tmp, sizes = netns_proc
    _proc(tmp, {100: [11], 200: [21, 22]})
    _ns(tmp, 100, tmp / "self" / "ns" / "net")
    _ns(tmp, 200, None)
    sizes.update({100: 1, 200: 5000})
    pm = ProcessMap(refresh_s=0.0, proc=str(tmp))
    pm.refresh()
    assert pm.after_poll({21}, set()) is False  # first sighting
    assert pm.after_poll({21}, set()) and pm.narrow  # persistent: a narrow rescan
    assert 21 not in pm.pid_of()
    assert pm.after_poll({21}, set()) and not pm.narrow  # still unowned: the wide scan
    assert pm.pid_of() == {11: 100, 21: 200}  # only the inode sought is kept from outside
    pm.refresh(force=True)
    assert pm.pid_of() == {11: 100, 21: 200} and pm.narrow
    for _ in range(3):  # another one: narrow rescans only, a second wide scan waits WIDE_MIN_S
        pm.after_poll({22}, set())
        assert pm.narrow and 22 not in pm.pid_of()


def test_an_unreadable_namespace_scans_everything_with_a_note(tmp_path: Path) -> None:
    pm = ProcessMap(proc=_proc(tmp_path, {100: [11]}), netns=str(tmp_path / "gone"))
    pm.refresh()
    assert pm.pid_of() == {11: 100} and not pm.narrow
    (note,) = pm.notes(0)
    assert "the processes of every namespace were scanned" in note


def test_socket_inodes_reads_every_descriptor_around_holes() -> None:
    """The dense read (descriptors 0..n-1, n from the directory's size) and, after a hole, the
    listing: every socket of this process found once, nothing else."""
    import socket

    from twtop.procs import socket_inodes

    socks = [socket.socket() for _ in range(8)]
    try:
        fd_dir = f"/proc/{os.getpid()}/fd"
        want = sorted(os.fstat(s.fileno()).st_ino for s in socks)
        assert sorted(i for i in socket_inodes(fd_dir) if i in set(want)) == want
        socks.pop(2).close()  # a hole below the last descriptors
        want = sorted(os.fstat(s.fileno()).st_ino for s in socks)
        got = [i for i in socket_inodes(fd_dir) if i in set(want)]
        assert sorted(got) == want
    finally:
        for s in socks:
            s.close()
