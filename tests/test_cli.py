"""The installed ``twtop`` command: reports, JSON schema, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers import Population, TestNetns

_NEXT_TO_PYTHON = os.path.join(os.path.dirname(sys.executable), "twtop")
TWTOP = _NEXT_TO_PYTHON if os.path.exists(_NEXT_TO_PYTHON) else (shutil.which("twtop") or "")
pytestmark = pytest.mark.skipif(not TWTOP, reason="the twtop console script is not installed")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "TWTOP_CONFIG": "/nonexistent/twtop.toml", **(env or {})}
    return subprocess.run([TWTOP, *args], capture_output=True, text=True, timeout=60, env=e)


def test_version() -> None:
    out = run("-V")
    assert out.returncode == 0 and out.stdout.startswith("twtop ")


def test_json_document(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 3)
        pop.close_wait(lst, 2)
    out = run("--once", "--json", "--netns", netns.name, "--top", "5")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema"] == 1
    for key in ("taken_at", "host", "kernel", "netns", "collect_ms", "filter", "total", "states",
                "peers", "peers_total", "ports", "churn", "sysctl", "counters", "processes",
                "notes", "findings"):  # fmt: skip
        assert key in doc, key
    assert len(doc["states"]) == 11
    assert doc["states"]["TIME_WAIT"] == 3 and doc["states"]["CLOSE_WAIT"] == 2
    assert doc["total"] == sum(doc["states"].values())
    assert doc["netns"] == netns.name
    peer = doc["peers"][0]
    assert set(peer) >= {"peer", "total", "states", "inbound", "outbound"}
    assert set(doc["ports"]) >= {"range", "reserved", "available", "tuples", "worst_ratio"}
    t = doc["ports"]["tuples"][0]
    assert set(t) >= {"src", "dst", "dport", "used", "ratio", "tw_per_s"}
    assert any(p["pid"] == os.getpid() for p in doc["processes"])  # pytest made the sockets
    assert any(p["states"].get("CLOSE_WAIT") == 2 for p in doc["processes"])


def test_table_report_fits_80_columns(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 3)
    out = run("--once", "--netns", netns.name)
    assert out.returncode == 0, out.stderr
    assert "TIME_WAIT" in out.stdout and "127.0.0.1" in out.stdout
    wide = [line for line in out.stdout.splitlines() if len(line) > 80]
    assert not wide


def test_prometheus_format(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.time_wait(lst, 2)
    out = run("--once", "--format", "prom", "--netns", netns.name)
    assert out.returncode == 0, out.stderr
    assert 'twtop_tcp_sockets{state="time_wait"} 2.0' in out.stdout
    assert out.stdout.count("twtop_tcp_sockets{") == 11


def test_bad_filter_is_usage_error_pointing_at_token() -> None:
    out = run("--once", "--filter", "state time-wait and dprot = 80")
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert (
        lines[0] == "twtop: filter: expected state, src, dst, sport, dport, not or '(': "
        "'dprot' at column 21"
    )
    assert lines[2].index("^") == 2 + 20
    assert "Traceback" not in out.stderr


def test_missing_netns_exits_69() -> None:
    out = run("--once", "--netns", "twtop-no-such-ns")
    assert out.returncode == 69
    assert out.stderr.strip() == (
        "twtop: network namespace 'twtop-no-such-ns' (/run/netns/twtop-no-such-ns) not found"
    )


def test_bad_flag_exits_2() -> None:
    assert run("--interval", "fast").returncode == 2
    assert run("--once", "--interval", "0").returncode == 2


def test_config_file_and_env(tmp_path: object, netns: TestNetns) -> None:
    cfg = os.path.join(str(tmp_path), "config.toml")
    with open(cfg, "w") as f:
        f.write('filter = "state time-wait"\ntop = 3\n')
    out = run("--once", "--json", "--netns", netns.name, env={"TWTOP_CONFIG": cfg})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["filter"] == "state time-wait"
    out = run("--once", "--json", "--netns", netns.name, "--filter", "state listening",
              env={"TWTOP_CONFIG": cfg})  # fmt: skip
    assert json.loads(out.stdout)["filter"] == "state listening"  # flags beat the file
    with open(cfg, "w") as f:
        f.write("colour = 3\n")
    out = run("--once", env={"TWTOP_CONFIG": cfg})
    assert out.returncode == 2 and "unknown key 'colour'" in out.stderr


def test_unprivileged_user_gets_a_note_not_a_failure(netns: TestNetns, pop: Population) -> None:
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to drop to an unprivileged user")
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    env = {**os.environ, "TWTOP_CONFIG": "/nonexistent"}
    probe = subprocess.run([*drop, sys.executable, "-c", "import twtop.cli"], capture_output=True,
                           text=True, timeout=60, env=env, cwd="/")  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"the installed twtop is not readable by uid 65534: {probe.stderr[-200:]}")
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.close_wait(lst, 2)
    code = "import sys; from twtop.cli import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run(
        [*drop, sys.executable, "-c", code, "--once", "--json", "--netns", netns.path],
        capture_output=True, text=True, timeout=60, env=env, cwd="/",
    )  # fmt: skip
    # Entering another namespace needs CAP_SYS_ADMIN: an unprivileged user gets exit 69, one line.
    assert out.returncode == 69, out.stderr
    assert out.stderr.count("\n") == 1 and "permission denied" in out.stderr
    out = subprocess.run([*drop, sys.executable, "-c", code, "--once", "--json"],
                         capture_output=True, text=True, timeout=60, env=env, cwd="/")  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert any("need root" in n for n in doc["notes"])


def test_sock_diag_unavailable_exits_69(monkeypatch: pytest.MonkeyPatch, capsys: object) -> None:
    """Without NETLINK_SOCK_DIAG (simulated: the kernel refuses the socket) -> one line, 69."""
    import errno

    from twtop import cli, wire

    def refuse() -> None:
        raise wire.SockDiagError(errno.EPROTONOSUPPORT, "cannot open NETLINK_SOCK_DIAG: "
                                 "Protocol not supported")  # fmt: skip

    monkeypatch.setattr(wire, "open_socket", refuse)
    monkeypatch.setenv("TWTOP_CONFIG", "/nonexistent")
    code = cli.main(["--once"])
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert code == 69
    assert err.startswith("twtop: sock_diag unavailable:") and err.count("\n") == 1


def test_explain_command() -> None:
    out = run("explain", "time-wait")
    assert out.returncode == 0
    assert out.stdout.startswith("TIME_WAIT (time-wait)") and "60 s" in out.stdout
    zh = run("explain", "CLOSE_WAIT", "--lang", "zh")
    assert "被动关闭方" in zh.stdout
    bad = run("explain", "time-waiting")
    assert bad.returncode == 2 and "unknown state 'time-waiting'" in bad.stderr
