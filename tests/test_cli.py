"""The installed ``twtop`` command: reports, JSON schema, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from tests.helpers import Population, TestNetns

_NEXT_TO_PYTHON = os.path.join(os.path.dirname(sys.executable), "twtop")
TWTOP = _NEXT_TO_PYTHON if os.path.exists(_NEXT_TO_PYTHON) else (shutil.which("twtop") or "")
pytestmark = pytest.mark.skipif(not TWTOP, reason="the twtop console script is not installed")


def _env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without any TWTOP_* setting from outside, and no config file."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWTOP_")}
    return {**clean, "TWTOP_CONFIG": "/nonexistent/twtop.toml", **(env or {})}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TWTOP, *args], capture_output=True, text=True, timeout=60, env=_env(env))


def _own_peers(pop: Population, n: int = 6) -> tuple[int, str]:
    """In the current namespace (no root needed): a listener on 127.0.0.1 and ``n`` clients from
    127.0.0.2.. -- 1 + n remote IPs. Returns the port and a filter that selects only these."""
    lst = pop.listener("127.0.0.1", 0)
    for i in range(n):
        c = pop.connect(lst, src=f"127.0.0.{i + 2}")
        s, _ = lst.accept()
        pop.keep += [c, s]
    port = lst.getsockname()[1]
    return port, f"sport = {port} or dport = {port}"


def test_version() -> None:
    out = run("-V")
    assert out.returncode == 0 and out.stdout.startswith("twtop ")


def test_json_listeners_carry_their_inbound_time_waits(netns: TestNetns, pop: Population) -> None:
    """`--once --json`: each listener says how many TIME_WAITs sit on its port (connections its
    service closed first), 0 for a quiet one; the text report and the JSON agree."""
    with netns.inside():
        web = pop.listener("127.0.0.1", 8080)
        pop.listener("127.0.0.1", 2222)
        pop.server_time_wait(web, 4)
    out = run("--once", "--json", "--netns", netns.name)
    assert out.returncode == 0, out.stderr
    got = {x["local"]: x["time_wait_on_port"] for x in json.loads(out.stdout)["listeners"]}
    assert got == {"127.0.0.1:8080": 4, "127.0.0.1:2222": 0}, got
    text = run("--once", "--netns", netns.name).stdout.splitlines()
    header = next(line for line in text if line.startswith("LISTENER"))
    assert header.split()[-2:] == ["TW_IN", "PROCESS"], header
    rows = {line.split()[0]: line.split()[-2] for line in text if line.startswith("127.0.0.1:")}
    assert rows == {"127.0.0.1:8080": "4", "127.0.0.1:2222": "0"}, text


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


def test_table_report_fits_80_columns(pop: Population) -> None:
    lst = pop.listener("127.0.0.1", 0)
    port = lst.getsockname()[1]
    pop.time_wait(lst, 3)
    out = run("--once", "--filter", f"sport = {port} or dport = {port}")
    assert out.returncode == 0, out.stderr
    assert "\nTIME_WAIT          3" in out.stdout and "\n127.0.0.1 " in out.stdout
    wide = [line for line in out.stdout.splitlines() if len(line) > 80]
    assert not wide


def test_prometheus_format(pop: Population) -> None:
    lst = pop.listener("127.0.0.1", 0)
    port = lst.getsockname()[1]
    pop.time_wait(lst, 2)
    out = run("--once", "--format", "prom", "--filter", f"sport = {port} or dport = {port}")
    assert out.returncode == 0, out.stderr
    assert 'twtop_tcp_sockets{state="time_wait"} 2.0' in out.stdout
    assert 'twtop_tcp_sockets{state="listen"} 1.0' in out.stdout
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


def test_config_file_and_env(tmp_path: object, pop: Population) -> None:
    """Each setting from the file takes effect; TWTOP_* beats the file; flags beat both."""
    port, _ = _own_peers(pop)  # 7 remote IPs, 7 ip:port pairs, 7 local ports
    a = f"sport = {port} or dport = {port}"
    b = f"dport = {port} or sport = {port}"
    c = f"(sport = {port}) or (dport = {port})"
    cfg = os.path.join(str(tmp_path), "config.toml")
    with open(cfg, "w") as f:
        f.write(f'filter = "{a}"\ntop = 2\ngroup = "lport"\n')

    def doc(*args: str, **env: str) -> dict[str, object]:
        out = run("--once", "--json", *args, env={"TWTOP_CONFIG": cfg, **env})
        assert out.returncode == 0, out.stderr
        d: dict[str, object] = json.loads(out.stdout)
        return d

    def seen(d: dict[str, object]) -> tuple[object, ...]:
        peers = d["peers"]
        assert isinstance(peers, list) and isinstance(d["peers_total"], int)
        assert d["peers_total"] > len(peers)  # the cut is --top's, not the population's
        return d["filter"], len(peers), d["group"]

    assert seen(doc()) == (a, 2, "lport")
    env = {"TWTOP_FILTER": b, "TWTOP_TOP": "3", "TWTOP_GROUP": "ipport"}
    assert seen(doc(**env)) == (b, 3, "ipport")
    assert seen(doc("--filter", c, "--top", "4", "--group", "ip", **env)) == (c, 4, "ip")
    # netns: the file names one namespace, the environment another; the environment's is used.
    with open(cfg, "a") as f:
        f.write('netns = "twtop-no-such-ns-file"\n')
    out = run("--once", env={"TWTOP_CONFIG": cfg, "TWTOP_NETNS": "twtop-no-such-ns-env"})
    assert out.returncode == 69 and "'twtop-no-such-ns-env'" in out.stderr, out.stderr
    out = run("--once", env={"TWTOP_CONFIG": cfg})
    assert out.returncode == 69 and "'twtop-no-such-ns-file'" in out.stderr, out.stderr
    # interval: a bad value in the environment is refused; the flag's good one wins over it.
    assert run("--once", env={"TWTOP_INTERVAL": "7200"}).returncode == 2
    assert run("--once", "--filter", a, "-i", "2", env={"TWTOP_INTERVAL": "7200"}).returncode == 0
    with open(cfg, "w") as f:
        f.write("colour = 3\n")
    out = run("--once", env={"TWTOP_CONFIG": cfg})
    assert out.returncode == 2 and "unknown key 'colour'" in out.stderr


def test_top_cuts_every_list(pop: Population) -> None:
    _, flt = _own_peers(pop)
    out = run("--once", "--json", "--filter", flt, "--top", "1")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    total = d["peers_total"]
    assert len(d["peers"]) == 1 and 7 <= total <= 10  # 7 remote IPs (+ the listener's row)
    out = run("--once", "--json", "--filter", flt)
    assert len(json.loads(out.stdout)["peers"]) == total  # default 10: all of them
    table = run("--once", "--filter", flt, "--top", "2").stdout
    assert f"TOP PEERS by remote IP (2 of {total})" in table


@pytest.mark.kernel  # a real poll of the current namespace
def test_interval_bounds() -> None:
    for ok in ("0.1", "3600"):
        out = run("--once", "--filter", "sport = 1", "--interval", ok)
        assert out.returncode == 0, (ok, out.stderr)
    for bad in ("0.09", "3600.5", "1e9", "nan", "-1"):
        out = run("--once", "--interval", bad)
        assert out.returncode == 2, (bad, out.stdout)
        assert out.stderr.count("\n") <= 2 and "Traceback" not in out.stderr


def test_report_when_stdout_is_not_a_terminal(pop: Population) -> None:
    """Plain ``twtop`` into a pipe prints the table report and exits 0 (no TUI, no escapes)."""
    _, flt = _own_peers(pop, 2)
    env = _env({"TERM": "xterm-256color"})
    out = subprocess.run([TWTOP, "--filter", flt], capture_output=True, text=True, timeout=30,
                         env=env, stdin=subprocess.DEVNULL)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("twtop ") and f"filter: {flt}" in out.stdout
    assert "\nESTABLISHED        4" in out.stdout and "\n127.0.0.2 " in out.stdout
    assert "\x1b" not in out.stdout


@pytest.mark.kernel  # a real poll of the current namespace
def test_closed_pipe_exits_quietly() -> None:
    """``twtop --once | head -1``: the reader is gone before twtop writes -> exit 0, no message."""
    r, w = os.pipe()
    os.close(r)
    try:
        out = subprocess.run([TWTOP, "--once", "--top", "50"], stdout=w, stderr=subprocess.PIPE,
                             text=True, timeout=60, env=_env())  # fmt: skip
    finally:
        os.close(w)
    assert (out.returncode, out.stderr) == (0, "")


def test_internal_error_is_one_line_unless_twtop_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from twtop import cli

    def boom(argv: object = None) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "run", boom)
    monkeypatch.delenv("TWTOP_DEBUG", raising=False)
    assert cli.main(["--once"]) == 1
    assert capsys.readouterr().err == "twtop: internal error: RuntimeError: boom\n"
    monkeypatch.setenv("TWTOP_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["--once"])


def test_lang_defaults_from_the_locale() -> None:
    """``twtop explain`` speaks the language LANG names (LC_ALL, LC_MESSAGES first); --lang wins."""
    none = {"LC_ALL": "", "LC_MESSAGES": ""}
    zh = run("explain", "close-wait", env={**none, "LANG": "zh_CN.UTF-8"})
    assert zh.returncode == 0 and "被动关闭方" in zh.stdout
    en = run("explain", "close-wait", env={**none, "LANG": "C.UTF-8"})
    assert en.returncode == 0 and "被动关闭方" not in en.stdout and "CLOSE_WAIT" in en.stdout
    assert "被动关闭方" in run("explain", "close-wait", env={**none, "LC_ALL": "zh_TW"}).stdout
    forced = run("explain", "close-wait", "--lang", "en", env={**none, "LANG": "zh_CN.UTF-8"})
    assert "被动关闭方" not in forced.stdout


def test_findings_language_and_severity_order(netns: TestNetns, pop: Population) -> None:
    """--once --json: findings most severe first (the advisor appends a warning before a
    critical one here), in the language LANG names unless --lang says otherwise."""
    netns.sysctl("net.ipv4.ip_local_port_range", "40000 40099")
    netns.sysctl("net.ipv4.tcp_tw_reuse", "0")  # with the default 2, loopback TIME_WAITs are reused
    with netns.inside():
        web = pop.listener("127.0.0.1", 8080)
        pop.time_wait(web, 85)  # 85 of 100 ports of one outbound tuple, filling: critical
        api = pop.listener("127.0.0.1", 9090)
        pop.close_wait(api, 55)  # >= 50 CLOSE_WAIT: warning

    def findings(*args: str, **env: str) -> list[dict[str, str]]:
        out = run("--once", "--json", "--netns", netns.name, *args,
                  env={"LC_ALL": "", "LC_MESSAGES": "", **env})  # fmt: skip
        assert out.returncode == 0, out.stderr
        f: list[dict[str, str]] = json.loads(out.stdout)["findings"]
        return f

    en = findings(LANG="C.UTF-8")
    sev = [f["severity"] for f in en]
    rank = {"critical": 0, "warning": 1, "info": 2}
    assert sev == sorted(sev, key=rank.__getitem__), sev
    assert en[0]["id"] == "tw_port_pressure" and "close_wait_leak" in {f["id"] for f in en}
    assert not any(_cjk(f["title"]) for f in en)
    zh = findings(LANG="zh_CN.UTF-8")
    assert [f["id"] for f in zh] == [f["id"] for f in en]
    assert all(_cjk(f["title"]) for f in zh)
    assert not any(_cjk(f["title"]) for f in findings("--lang", "en", LANG="zh_CN.UTF-8"))
    assert all(_cjk(f["title"]) for f in findings(LANG="C", TWTOP_LANG="zh"))


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


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


def _tmux_mouse_flags(sockdir: str, *args: str) -> str:
    """Start the installed twtop in a private tmux server at 80x24; once it has drawn, return
    which mouse reporting modes the application turned on (tmux's pane flags), then quit it."""
    if not shutil.which("tmux"):
        pytest.skip("needs tmux")
    # A private server whose socket lives in the test's temporary directory (nothing left behind).
    server = ["tmux", "-S", os.path.join(sockdir, f"tmux-{len(args)}")]
    env = " ".join(f"{k}={v}" for k, v in {"TWTOP_CONFIG": "/nonexistent", "TERM": "xterm-256color",
                                          "LANG": "C.UTF-8"}.items())  # fmt: skip
    cmd = f"env {env} {TWTOP} --filter 'sport = 1' {' '.join(args)}; sleep 30"
    subprocess.run([*server, "new-session", "-d", "-x", "80", "-y", "24", cmd], check=True)
    try:
        flags = ""
        for _ in range(100):
            screen = subprocess.run([*server, "capture-pane", "-p"], capture_output=True,
                                    text=True).stdout  # fmt: skip
            if "TCP states" in screen:
                time.sleep(0.3)
                fmt = "#{mouse_standard_flag}#{mouse_button_flag}#{mouse_any_flag}#{mouse_sgr_flag}"
                flags = subprocess.run([*server, "display", "-p", fmt], capture_output=True,
                                       text=True).stdout.strip()  # fmt: skip
                break
            time.sleep(0.2)
        assert flags, f"the TUI did not draw: {screen!r}"
        subprocess.run([*server, "send-keys", "q"], check=False)
        return flags
    finally:
        subprocess.run([*server, "kill-server"], check=False, capture_output=True)


@pytest.mark.kernel  # a real poll of the current namespace
def test_no_mouse_leaves_mouse_reporting_off() -> None:
    """In a terminal (tmux), the TUI turns mouse reporting on; with --no-mouse it never does."""
    sockdir = tempfile.mkdtemp(prefix="twtop-mouse-")
    try:
        assert "1" in _tmux_mouse_flags(sockdir)
        assert _tmux_mouse_flags(sockdir, "--no-mouse") == "0000"
    finally:
        shutil.rmtree(sockdir, ignore_errors=True)


BAD_SETTINGS = [
    (["--top", "0"], {}, None, "--top"),
    (["--top", "x"], {}, None, "--top"),
    (["--group", "bogus"], {}, None, "--group"),
    (["--format", "xml"], {}, None, "--format"),
    (["--lang", "fr"], {}, None, "--lang"),
    (["--filter", "state bogus"], {}, None, "bogus"),
    ([], {"TWTOP_TOP": "abc"}, None, "TWTOP_TOP"),
    ([], {"TWTOP_INTERVAL": "fast"}, None, "TWTOP_INTERVAL"),
    ([], {"TWTOP_GROUP": "bogus"}, None, "group"),
    ([], {"TWTOP_LANG": "fr"}, None, "lang"),
    ([], {"TWTOP_FILTER": "dport = x"}, None, "'x'"),
    ([], {}, 'top = "ten"\n', "top"),
    ([], {}, "interval = [1]\n", "interval"),
    ([], {}, "filter = \n", "config"),
]


@pytest.mark.parametrize(("args", "env", "config", "word"), BAD_SETTINGS)
def test_bad_settings_are_one_line_usage_errors(
    tmp_path: object, args: list[str], env: dict[str, str], config: str | None, word: str
) -> None:
    """Every bad flag, TWTOP_* value or config entry: exit 2, what is wrong, no traceback."""
    if config is not None:
        cfg = os.path.join(str(tmp_path), "config.toml")
        with open(cfg, "w") as f:
            f.write(config)
        env = {**env, "TWTOP_CONFIG": cfg}
    out = run("--once", *args, env=env)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout == "" and "Traceback" not in out.stderr
    message = [line for line in out.stderr.splitlines() if line.startswith("twtop")]
    assert len(message) == 1 and word in message[0], out.stderr
