"""Attribution against the kernel (root, a namespace each test creates, loopback only): a TIME_WAIT
keeps its socket's cookie, so twtop names the process that made it when it saw the socket live;
TIME_WAITs it never saw live are counted unattributed, never guessed (issue 8)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import Population, TestNetns
from tests.tmuxpane import TWTOP, Pane
from twtop.advisor import advise
from twtop.collector import Collector
from twtop.model import Snapshot
from twtop.ports import PortTuple
from twtop.report import render_table

DPORT = 6000
#: A client that connects N times, holds the connections until told, then closes them first
#: (so the TIME_WAITs are its own), and waits to be told to exit.
CLIENT = """
import socket, sys
n = int(sys.argv[1])
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[2]))) for _ in range(n)]
print("up", flush=True)
sys.stdin.readline()
for c in conns:
    c.close()
print("closed", flush=True)
sys.stdin.readline()
"""


class Client:
    """The client process, run inside the namespace under a script name of its own."""

    def __init__(self, netns: TestNetns, script: Path, n: int) -> None:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", netns.name, sys.executable, str(script), str(n),
             str(DPORT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.out, self.into = self.proc.stdout, self.proc.stdin
        assert self.out.readline().strip() == "up"

    def close_connections(self) -> None:
        """Tell it to close its connections (client side first: its TIME_WAITs)."""
        self.into.write("\n")
        self.into.flush()
        assert self.out.readline().strip() == "closed"

    def stop(self) -> None:
        """Let it exit (bounded)."""
        try:
            self.into.write("\n")
            self.into.flush()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def client_script(tmp_path: Path) -> Path:
    """The client as a script named tw-client.py (twtop shows interpreters by script name)."""
    path = tmp_path / "tw-client.py"
    path.write_text(CLIENT)
    return path


def _tuple(snap: Snapshot) -> PortTuple:
    (t,) = [t for t in snap.ports.tuples if t.dport == DPORT]
    return t


def _accept(lst: object, n: int, pop: Population) -> list[object]:
    out = []
    for _ in range(n):
        s, _a = lst.accept()  # type: ignore[attr-defined]
        pop.keep.append(s)
        out.append(s)
    return out


def _poll_until_owned(col: Collector, pid: int) -> Snapshot:
    """Poll until the client's live sockets are mapped to it (the /proc scan is rate-limited)."""
    for _ in range(50):  # bounded: 50 polls, 0.1 s apart
        snap = col.poll()
        if any(p.pid == pid for p in snap.processes):
            return snap
        time.sleep(0.1)
    raise AssertionError(f"pid {pid} never owned its sockets")


def test_time_waits_attributed_by_cookie(
    netns: TestNetns, pop: Population, client_script: Path
) -> None:
    """N connections seen live, closed by the client: the tuple's N TIME_WAITs are attributed to
    tw-client.py[pid] (collector API, --once table, finding); M TIME_WAITs made before twtop
    started are counted, unattributed."""
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")  # every TIME_WAIT blocks: the finding fires
    netns.sysctl("net.ipv4.ip_local_port_range", "40000 40011")  # 12 ports
    n, m = 6, 4
    with netns.inside():
        lst = pop.listener("127.0.0.1", DPORT)
        pop.time_wait(lst, m)  # before the collector: never seen live
    client = Client(netns, client_script, n)
    try:
        with netns.inside():
            servers = _accept(lst, n, pop)
        with Collector(netns=netns.name, process_refresh_s=0.1) as col:
            live = _poll_until_owned(col, client.proc.pid)
            who = f"tw-client.py[{client.proc.pid}]"
            t = _tuple(live)
            assert t.owners == (who,) and t.time_wait == m and t.tw_attributed == 0
            client.close_connections()
            for s in servers:
                s.close()  # type: ignore[attr-defined]
            time.sleep(0.1)
            snap = col.poll()
        t = _tuple(snap)
        assert (t.time_wait, t.tw_attributed, t.tw_made_by) == (n + m, n, ((who, n),))
        assert (snap.tw_attributed, snap.tw_counted) == (n, n + m)
        doc = snap.to_dict()
        (jt,) = [x for x in doc["ports"]["tuples"] if x["dport"] == DPORT]
        assert jt["time_wait_attributed"] == n
        assert jt["time_wait_made_by"] == [{"process": who, "count": n}]
        assert doc["time_wait_attribution"] == {"attributed": n, "time_wait": n + m}
        table = " ".join(render_table(snap).split())  # lines wrap at 80 columns
        assert f"TIME_WAIT made by {who} ({n}): {n} of {n + m} attributed" in table
        assert f"{n} of {n + m} TIME_WAIT attributed (twtop saw their sockets live)" in table
        assert "unattributed: closed before twtop started" in table
        (f,) = [f for f in advise(snap) if f.id == "tw_port_pressure"]
        assert f"TIME_WAIT made by {who} ({n})" in f.evidence
    finally:
        client.stop()


@pytest.mark.skipif(not TWTOP or not shutil.which("tmux"), reason="needs twtop and tmux")
def test_the_gauge_names_who_made_the_time_waits(
    netns: TestNetns, pop: Population, client_script: Path
) -> None:
    """At 80x24, the port gauge names the live sockets' owner while the client holds its
    connections, then the process that made the TIME_WAITs and how many are attributed.
    --cpu-budget 0: every poll a detail poll (on a loaded host the default 10% refreshes the
    detail, where owners are remembered, only every tens of seconds)."""
    n, m = 5, 3
    with netns.inside():
        lst = pop.listener("127.0.0.1", DPORT)
        pop.time_wait(lst, m)  # before twtop starts: unattributed
    pane = Pane(80, 24)
    client = None
    try:
        pane.type(
            f"env TWTOP_CONFIG=/nonexistent {TWTOP} --netns {netns.name} --no-mouse --cpu-budget 0"
        )
        pane.wait_for("Peers by", timeout=60)
        client = Client(netns, client_script, n)
        who = f"tw-client.py[{client.proc.pid}]"
        with netns.inside():
            servers = _accept(lst, n, pop)
        pane.wait_for(f"live sockets held by {who}", timeout=60)
        client.close_connections()
        for s in servers:
            s.close()  # type: ignore[attr-defined]
        screen = pane.wait_for(f"TIME_WAIT made by {who} ({n}): {n} of {n + m} attributed", 60)
        assert "Ephemeral ports" in screen
    finally:
        pane.close()
        if client is not None:
            client.stop()


#: A process that holds N connections to itself (both ends: 2N sockets and a listener), says
#: "up" and waits to be told to exit; ``hog``: N plain sockets, no connection (descriptors only).
HOLDER = """
import resource, socket, sys
n, kind = int(sys.argv[1]), sys.argv[2]
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, n + 100))
if kind == "hog":
    keep = [socket.socket() for _ in range(n)]
else:
    lst = socket.create_server(("127.0.0.1", 6100))
    keep = [socket.create_connection(("127.0.0.1", 6100)) for _ in range(n)]
    keep += [lst.accept()[0] for _ in range(n)]
print("up", flush=True)
sys.stdin.readline()
"""


def test_processes_of_other_namespaces_are_not_read(
    netns: TestNetns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big process in another namespace (more descriptors than twtop reads outside) is not
    read at all, and every socket of the polled namespace is named: its holder is in it."""
    from tests.helpers import TestNetns as Ns
    from twtop import procs

    script = tmp_path / "tw-holder.py"
    script.write_text(HOLDER)
    other = Ns()
    started: list[subprocess.Popen[str]] = []
    try:
        for ns, n, kind in ((netns, 5, "serve"), (other, procs.OUTSIDE_FDS_MAX + 100, "hog")):
            p = subprocess.Popen(
                ["ip", "netns", "exec", ns.name, sys.executable, str(script), str(n), kind],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            started.append(p)
            assert p.stdout is not None and p.stdout.readline().strip() == "up"
        holder, hog = started
        read: list[str] = []
        real = procs.socket_inodes
        monkeypatch.setattr(procs, "socket_inodes", lambda d: read.append(d) or real(d))
        with Collector(netns=netns.path, group="process") as col:
            col.procs.refresh(force=True)
            snap = col.poll()
        assert f"/proc/{holder.pid}/fd" in read
        assert f"/proc/{hog.pid}/fd" not in read
        assert col.procs.other_ns >= 1
        (me,) = [p for p in snap.processes if p.pid == holder.pid]
        assert me.name == "tw-holder.py"
        assert me.total == 11 == snap.total  # the listener and both ends of 5 connections
        assert sum(p.total for p in snap.processes) == 11  # every socket named
    finally:
        for p in started:
            with contextlib.suppress(OSError):
                assert p.stdin is not None
                p.stdin.write("\n")
                p.stdin.flush()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        other.close()
