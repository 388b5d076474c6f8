"""Process identity on a real process: a CLOSE_WAIT pile held by ``python3 .../orders-api.py``.

The test starts the service inside a namespace it creates (``ip netns exec`` execs it, so the
PID it gets is the service's), with a bounded lifetime (SIGALRM) and stops it by PID at the end.
The service accepts LEAK connections and never closes them; its clients close: LEAK CLOSE_WAITs
that ``comm`` alone would call ``python3``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import TestNetns, is_root
from twtop.advisor import CLOSE_WAIT_WARN

#: CLOSE_WAITs the service leaks: enough for the close_wait_leak finding.
LEAK = CLOSE_WAIT_WARN + 10
#: Seconds the service lives at most, whatever happens to the test.
LIFETIME_S = 120

SERVICE = """\
import signal, socket, sys
signal.alarm(int(sys.argv[2]))  # a bounded lifetime: SIGALRM ends it
lst = socket.socket()
lst.bind(("127.0.0.1", 8000))
lst.listen(128)
held = []
for _ in range(int(sys.argv[1])):
    c = socket.create_connection(lst.getsockname())
    s, _addr = lst.accept()
    held.append(s)  # accepted, never closed: CLOSE_WAIT once the client closes
    c.close()
print("ready", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""

needs_root = pytest.mark.skipif(not is_root(), reason="needs root for namespaces")


@dataclass
class Service:
    """The running service: its PID and namespace."""

    pid: int
    netns: TestNetns


@pytest.fixture
def orders_api(netns: TestNetns) -> Iterator[Service]:
    with tempfile.TemporaryDirectory(prefix=f"twtop-identity-{os.getpid()}-") as tmp:
        script = os.path.join(tmp, "orders-api.py")
        with open(script, "w") as f:
            f.write(SERVICE)
        python3 = shutil.which("python3") or sys.executable
        proc = subprocess.Popen(
            ["ip", "netns", "exec", netns.name, python3, script, str(LEAK), str(LIFETIME_S)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            with open(f"/proc/{proc.pid}/cmdline", "rb") as f:  # ip netns exec exec'd python3
                assert f.read().split(b"\0")[1] == script.encode()
            yield Service(proc.pid, netns)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)


def run_twtop(*args: str, drop: bool = False, netns: str = "") -> subprocess.CompletedProcess[str]:
    """``twtop ARGS`` from this checkout; ``drop``: as uid 65534 inside ``netns``."""
    env = {**os.environ, "TWTOP_CONFIG": "/nonexistent", "LANG": "C.UTF-8"}
    code = "import sys; from twtop.cli import main; sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", code, *args]
    if drop:
        cmd = ["ip", "netns", "exec", netns, "setpriv", "--reuid=65534", "--regid=65534",
               "--clear-groups", "--", *cmd]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, cwd="/")


def _findings(doc: dict[str, Any], fid: str) -> dict[str, Any]:
    (found,) = [f for f in doc["findings"] if f["id"] == fid]
    return found


@needs_root
def test_json_names_the_service_with_its_pid(orders_api: Service) -> None:
    out = run_twtop("--once", "--netns", orders_api.netns.name, "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    shown = f"orders-api.py[{orders_api.pid}]"
    (proc,) = [p for p in doc["processes"] if p["pid"] == orders_api.pid]
    assert proc["name"] == "orders-api.py" and proc["states"]["CLOSE_WAIT"] == LEAK
    (lst,) = [x for x in doc["listeners"] if x["local"] == "127.0.0.1:8000"]
    assert (lst["pid"], lst["process"], lst["owner"]) == (orders_api.pid, "orders-api.py", shown)
    assert lst["comm"] == "python3" and lst["container"] is None
    leak = _findings(doc, "close_wait_leak")
    assert shown in leak["title"] and shown in " ".join(map(str, leak.values()))


@needs_root
def test_table_names_the_service_with_its_pid(orders_api: Service) -> None:
    out = run_twtop("--once", "--netns", orders_api.netns.name)
    assert out.returncode == 0, out.stderr
    shown = f"orders-api.py[{orders_api.pid}]"
    processes = out.stdout.split("PROCESSES", 1)[1]
    assert f"{shown} (root): CLOSE_WAIT {LEAK}" in processes
    assert f"Fix the code path in {shown}" in " ".join(out.stdout.split())
    assert "python3[" not in out.stdout


@needs_root
@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv")
def test_unprivileged_names_no_owner_and_says_why(orders_api: Service) -> None:
    netns = orders_api.netns.name
    out = run_twtop("--once", "--json", drop=True, netns=netns)
    if out.returncode != 0 and "No module named" in out.stderr:
        pytest.skip(f"this checkout is not readable by uid 65534: {out.stderr[-200:]}")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["processes"] == []
    (lst,) = [x for x in doc["listeners"] if x["local"] == "127.0.0.1:8000"]
    assert lst["pid"] is None and lst["owner"] is None
    leak = _findings(doc, "close_wait_leak")
    text = json.dumps(leak, ensure_ascii=False)
    assert "?" not in text and "needs root" in text, text
    # The reason reads as a sentence: not "0 owned by owner unknown: ..."
    assert "owned by" not in leak["evidence"] and "owner unknown: reading" in leak["evidence"]
    assert leak["action"].startswith("Fix the code path in the process that holds them (owner")
    table = run_twtop("--once", drop=True, netns=netns)
    assert table.returncode == 0, table.stderr
    findings = table.stdout.split("FINDINGS", 1)[1]
    assert "?" not in findings and "needs root" in " ".join(findings.split()), findings


def _hierarchy() -> str | None:
    """A writable cgroup hierarchy systemd would name units in: v2, or v1's name=systemd."""
    for root in ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        procs = os.path.join(root, "cgroup.procs")
        if os.path.exists(procs) and os.access(procs, os.W_OK):
            return root
    return None


@needs_root
@pytest.mark.skipif(_hierarchy() is None, reason="no writable cgroup hierarchy")
def test_systemd_unit_from_the_real_cgroup(orders_api: Service) -> None:
    """The service moved into a cgroup named like a systemd unit (made here, removed at the
    end): JSON and the table name the unit from /proc/PID/cgroup."""
    root = _hierarchy()
    assert root is not None
    unit = f"twtop-test-{os.getpid()}-orders.service"
    group = os.path.join(root, unit)
    os.mkdir(group)
    try:
        with open(os.path.join(group, "cgroup.procs"), "w") as f:
            f.write(str(orders_api.pid))
        doc = json.loads(run_twtop("--json", "--netns", orders_api.netns.name).stdout)
        (proc,) = [p for p in doc["processes"] if p["pid"] == orders_api.pid]
        assert (proc["name"], proc["comm"], proc["unit"]) == ("orders-api.py", "python3", unit)
        (lst,) = [x for x in doc["listeners"] if x["local"] == "127.0.0.1:8000"]
        assert lst["unit"] == unit and lst["container"] is None
        table = run_twtop("--once", "--netns", orders_api.netns.name).stdout
        assert f"orders-api.py[{orders_api.pid}] (root, {unit}): CLOSE_WAIT {LEAK}" in table
    finally:
        with contextlib.suppress(OSError), open(os.path.join(root, "cgroup.procs"), "w") as f:
            f.write(str(orders_api.pid))  # back to the root, so the group can go now
        os.rmdir(group)
