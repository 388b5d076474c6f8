"""twtop.identity on fixed contents of /proc/PID/cmdline, comm, cgroup and stat (no root)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.builders import snapshot
from twtop.advisor import Context, advise
from twtop.identity import (
    IdentityCache,
    display,
    fit,
    identify,
    service_name,
    start_time,
    unit_and_container,
)
from twtop.model import Owner, ProcessRow, Socket
from twtop.states import TcpState
from twtop.text import cols


def argv(*args: str) -> bytes:
    """The contents of /proc/PID/cmdline for ``args``."""
    return b"".join(a.encode() + b"\0" for a in args)


@pytest.mark.parametrize(
    ("args", "comm", "service"),
    [
        (("python3", "orders-api.py"), "python3", "orders-api.py"),
        (("/usr/bin/python3", "/srv/orders/orders-api.py", "--port", "80"), "python3",
         "orders-api.py"),
        (("/venv/bin/python3.11", "-u", "-X", "dev", "-W", "ignore", "app.py"), "python3.11",
         "app.py"),
        (("python3", "-m", "http.server", "8000"), "python3", "http.server"),
        (("python3", "-OO", "-mhttp.server"), "python3", "http.server"),
        (("python3", "-c", "import x"), "python3", "python3"),
        (("python3",), "python3", "python3"),
        (("pypy3", "worker.py"), "pypy3", "worker.py"),
        (("node", "server.js"), "node", "server.js"),
        (("/usr/bin/node", "--max-old-space-size=4096", "-r", "dotenv/config", "dist/main.js"),
         "node", "main.js"),
        (("node", "-e", "require('http')"), "node", "node"),
        (("ruby", "app.rb"), "ruby", "app.rb"),
        (("ruby", "-I", "lib", "-r", "bundler/setup", "bin/rails", "server"), "ruby", "rails"),
        (("perl", "-Ilib", "x.pl"), "perl", "x.pl"),
        (("perl", "-e", "print 1"), "perl", "perl"),
        (("java", "-Xmx1g", "-Dfoo=bar", "-jar", "/opt/app/app.jar", "--server.port=80"), "java",
         "app.jar"),
        (("java", "-cp", "lib/*:classes", "com.x.Main"), "java", "com.x.Main"),
        (("java", "--module-path", "mods", "-m", "com.x/com.x.Main"), "java", "com.x.Main"),
        (("bash", "script.sh"), "bash", "script.sh"),
        (("/bin/sh", "-e", "-o", "pipefail", "/opt/run.sh"), "sh", "run.sh"),
        (("sh", "-c", "exec foo"), "sh", "sh"),
        (("-bash",), "bash", "bash"),  # a login shell
        (("php", "-f", "/var/www/index.php"), "php", "index.php"),
        (("python3", "--", "tool.py"), "python3", "tool.py"),
        (("python3", "-"), "python3", "python3"),  # a script on stdin: no name in argv
        # not an interpreter: argv[0]'s basename when it extends comm (cut at 15 bytes) ...
        (("/usr/local/bin/orders-processor-worker", "-c", "x"), "orders-processo",
         "orders-processor-worker"),
        (("/usr/sbin/nginx", "-g", "daemon off;"), "nginx", "nginx"),
        # ... else comm: a title rewritten into argv, or a process that renamed itself
        (("nginx: worker process",), "nginx", "nginx"),
        (("postgres: checkpointer",), "postgres", "postgres"),
        (("[/x]", "-c", "code"), "[/x]", "[/x]"),
        (("pythonista", "x.py"), "pythonista", "pythonista"),  # not python: no script taken
    ],
)  # fmt: skip
def test_service_name(args: tuple[str, ...], comm: str, service: str) -> None:
    assert service_name(argv(*args), comm.encode() + b"\n") == service


def test_kernel_thread_and_zombie_have_no_cmdline() -> None:
    assert service_name(b"", b"kworker/0:1\n") == "kworker/0:1"
    assert identify(b"", b"kthreadd\n", b"0::/\n").service == "kthreadd"


def test_script_run_by_shebang() -> None:
    """``./orders-api.py``: the kernel runs the interpreter with the script as argv[1]; comm is
    the script's name."""
    assert service_name(argv("/usr/bin/python3", "./orders-api.py"), b"orders-api.py\n") == (
        "orders-api.py"
    )


def test_names_are_sanitised_and_bounded() -> None:
    hostile = argv("python3", "/tmp/\x1b]0;PWN\x07" + "a" * 500 + ".py")
    name = service_name(hostile, b"python3\n")
    assert "\x1b" not in name and "\x07" not in name and name.startswith(r"\x1b]0;PWN\x07")
    assert len(name) <= 128
    assert service_name(b"python3\0\xff\xfe.py\0", b"python3") == r"\xff\xfe.py"
    assert identify(b"", b"\x1b[2J\n").comm == r"\x1b[2J"


@given(st.binary(max_size=300), st.binary(max_size=20), st.binary(max_size=300))
def test_any_contents_give_a_printable_identity(cmdline: bytes, comm: bytes, cgroup: bytes) -> None:
    ident = identify(cmdline, comm, cgroup)
    for text in (ident.service, ident.comm, ident.unit or "", ident.container or ""):
        assert text.isprintable() or text == ""


HEX = "3f2a1b4c5d6e" + "0" * 52


@pytest.mark.parametrize(
    ("cgroup", "unit", "container"),
    [
        ("0::/system.slice/nginx.service\n", "nginx.service", None),
        ("0::/system.slice/orders.service/payload\n", "orders.service", None),
        ("0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n",
         "foo.service", None),
        ("0::/user.slice/user-1000.slice/session-3.scope\n", None, None),
        ("0::/\n", None, None),
        (f"0::/system.slice/docker-{HEX}.scope\n", None, "3f2a1b4c5d6e"),
        (f"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/"
         f"cri-containerd-{HEX}.scope\n", None, "3f2a1b4c5d6e"),
        (f"0::/kubepods.slice/kubepods-pod1.slice/crio-{HEX}.scope\n", None, "3f2a1b4c5d6e"),
        (f"0::/machine.slice/libpod-{HEX}.scope/container\n", None, "3f2a1b4c5d6e"),
        (f"0::/machine.slice/libpod-conmon-{HEX}.scope\n", None, None),  # podman's monitor
        # cgroup v1: the systemd hierarchy names the unit; docker's cgroupfs driver the id
        (f"12:memory:/docker/{HEX}\n1:name=systemd:/system.slice/docker.service\n",
         "docker.service", "3f2a1b4c5d6e"),
        (f"11:cpu,cpuacct:/kubepods/burstable/pod1/{HEX}\n", None, "3f2a1b4c5d6e"),
        ("garbage without colons\n", None, None),
    ],
)  # fmt: skip
def test_unit_and_container(cgroup: str, unit: str | None, container: str | None) -> None:
    assert unit_and_container(cgroup.encode()) == (unit, container)


def test_display_keeps_the_pid() -> None:
    assert display("orders-api.py", 4242) == "orders-api.py[4242]"
    assert display("orders-api.py", 4242, 19) == "orders-api.py[4242]"
    assert display("orders-api.py", 4242, 16) == "order…i.py[4242]"
    assert display("orders-api.py", 4242, 8) == "o…[4242]"
    assert display("orders-api.py", 4194304, 5) == "[4194304]"  # never the PID cut
    assert display("订单服务-api.py", 7, 12) == "订单…i.py[7]"


@given(st.text(min_size=1, max_size=40), st.integers(1, 4194304), st.integers(0, 60))
def test_display_fits_and_ends_with_the_pid(name: str, pid: int, width: int) -> None:
    shown = display(name, pid, width)
    assert shown.endswith(f"[{pid}]")
    assert cols(shown) <= max(width, len(f"[{pid}]"))


def test_owner_carries_the_identity_into_json() -> None:
    owner = Owner(4242, "orders-api.py", "www", "python3", "orders.service", None)
    assert owner.display == "orders-api.py[4242]" and owner.fit(10) == "or…y[4242]"
    sock = Socket(2, TcpState.CLOSE_WAIT, "127.0.0.1", 8000, "127.0.0.1", 40000,
                  0, 0, 0, 0, 0, 0, 1, 1, owner=owner)  # fmt: skip
    d = sock.to_dict()
    assert (d["pid"], d["process"], d["owner"]) == (4242, "orders-api.py", "orders-api.py[4242]")
    assert (d["comm"], d["unit"], d["container"]) == ("python3", "orders.service", None)
    bare = Socket(2, TcpState.TIME_WAIT, "127.0.0.1", 8000, "127.0.0.1", 40000,
                  0, 0, 0, 0, 0, 0, 0, 2).to_dict()  # fmt: skip
    assert bare["pid"] is None and bare["owner"] is None and "comm" in bare


STAT = b"4242 (a) b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 50"


def test_start_time_counts_after_the_last_parenthesis() -> None:
    assert start_time(STAT) == 98765
    assert start_time(b"4242 (x) S") is None


def _fake_proc(root: Path, pid: int, started: int, cmd: bytes, comm: bytes) -> None:
    d = root / str(pid)
    d.mkdir(exist_ok=True)
    (d / "stat").write_bytes(STAT.replace(b"98765", str(started).encode()))
    (d / "cmdline").write_bytes(cmd)
    (d / "comm").write_bytes(comm)
    (d / "cgroup").write_bytes(b"0::/system.slice/orders.service\n")


def test_cache_reads_once_per_process_and_not_across_pid_reuse(tmp_path: Path) -> None:
    _fake_proc(tmp_path, 4242, 100, argv("python3", "orders-api.py"), b"python3\n")
    cache = IdentityCache(str(tmp_path), size=2)
    first = cache.get(4242)
    assert first is not None and first.service == "orders-api.py" and first.unit == "orders.service"
    (tmp_path / "4242" / "cmdline").write_bytes(argv("python3", "changed.py"))
    assert cache.get(4242) == first and cache.reads == 1  # same process: cached
    # The PID is reused by a new process (another start time): read again.
    _fake_proc(tmp_path, 4242, 200, argv("node", "server.js"), b"node\n")
    again = cache.get(4242)
    assert again is not None and again.service == "server.js" and cache.reads == 2
    assert cache.get(999) is None  # gone


def test_cache_is_bounded(tmp_path: Path) -> None:
    for pid in range(1, 6):
        _fake_proc(tmp_path, pid, pid, argv("python3", f"s{pid}.py"), b"python3\n")
    cache = IdentityCache(str(tmp_path), size=3)
    for pid in range(1, 6):
        cache.get(pid)
    assert len(cache) == 3
    cache.get(1)  # evicted: read again
    assert cache.reads == 6


def test_real_self() -> None:
    """The running test process, read from the real /proc (no root needed for oneself)."""
    ident = IdentityCache().get(os.getpid())
    assert ident is not None and ident.comm and ident.service


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_close_wait_finding_names_the_service_or_says_why_not(lang: str) -> None:
    row = ProcessRow(4242, "orders-api.py", "www", {TcpState.CLOSE_WAIT: 60})
    owned = snapshot({TcpState.CLOSE_WAIT: 60}, processes=(row,))
    (f,) = [f for f in advise(owned, ctx=Context(lang=lang)) if f.id == "close_wait_leak"]
    assert "orders-api.py[4242]" in f.title + f.evidence + f.action
    assert "60" in f.evidence
    unowned = snapshot({TcpState.CLOSE_WAIT: 60})
    ctx = Context(lang=lang, root=False)
    (g,) = [g for g in advise(unowned, ctx=ctx) if g.id == "close_wait_leak"]
    text = g.title + g.evidence + g.action
    assert "?" not in text and "[" not in text  # no owner invented, no "?"
    assert {"en": "needs root", "zh": "需要 root"}[lang] in g.evidence
    assert {"en": "0 owned by", "zh": "0 个属于"}[lang] not in g.evidence


def test_fit_a_shown_name_keeps_its_pid() -> None:
    """PeerRow.processes holds ``name[pid]`` strings: a column elides them the same way."""
    assert fit("orders-api.py[4242]", 80) == "orders-api.py[4242]"
    assert fit("orders-api.py[4242]", 12) == "ord…py[4242]"
    assert fit("[x][7]", 5) == "[…[7]"  # a name with brackets: the last [pid] is the PID
    assert fit("(no owner)", 6) == "(no…r)"  # not a name[pid]: elided in the middle
    assert fit("abcdef", 1) == "a"


@given(st.text(max_size=30), st.integers(1, 4194304), st.integers(0, 40))
def test_fit_agrees_with_display(name: str, pid: int, width: int) -> None:
    assert fit(display(name, pid), width) == display(name, pid, width)
