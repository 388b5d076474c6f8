"""Inputs that are not what they claim: each is a one-line error with its exit code, never a hang
or an "internal error" (reserved for bugs)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from tests.tmuxpane import TWTOP
from twtop import cli, wire
from twtop.config import MAX_CONFIG_BYTES, Settings, resolve
from twtop.errors import UsageError
from twtop.tcpinfo import TCPI_MIN_LEN, TcpInfo, decode_reply


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = cli.main(args)
    err = capsys.readouterr().err.splitlines()
    assert not any("internal error" in line for line in err), err
    return code, err


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("TWTOP_CONFIG", str(path))
    for key in ("INTERVAL", "NETNS", "FILTER", "GROUP", "LANG", "TOP", "STATE_DIR"):
        monkeypatch.delenv(f"TWTOP_{key}", raising=False)
    return path


# --- --netns ----------------------------------------------------------------------------------


def test_empty_netns_is_a_usage_error(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["--once", "--netns", ""], capsys)
    assert code == 2 and len(err) == 1 and "empty namespace name" in err[0]
    code, err = run_cli(["--once", "--netns", "  "], capsys)
    assert code == 2


@pytest.mark.parametrize("kind", ["fifo", "regular", "directory", "uts-namespace"])
def test_netns_must_be_a_network_namespace(
    kind: str, tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)  # open() without O_NONBLOCK hung here forever
    elif kind == "regular":
        path.write_text("not a namespace")
    elif kind == "directory":
        path.mkdir()
    else:
        path = Path("/proc/self/ns/uts")
    t0 = time.monotonic()
    code, err = run_cli(["--once", "--netns", str(path)], capsys)
    assert code == 2 and err == [f"twtop: --netns: {path} is not a network namespace"]
    assert time.monotonic() - t0 < 5


def test_missing_netns_is_unavailable(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["--once", "--netns", "no-such-ns-\x1b[2J"], capsys)
    assert code == 69 and len(err) == 1 and "\x1b" not in err[0] and r"\x1b[2J" in err[0]


# --- TWTOP_CONFIG -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"interval = \xff\xfe\n", "not UTF-8"),
        (b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n", "nested deeper than"),
        (b"a = " + b"{b = " * 3000 + b"1" + b"}" * 3000 + b"\n", "nested deeper than"),
        (b'netns = "ns\\u0000x"\n', "netns: contains a NUL"),
        (b'filter = "sport = 1\\u0000"\n', "filter: contains a NUL"),
        (b"interval = true\n", "'interval' must be a float, not a boolean"),
        (b"top = false\n", "'top' must be a int, not a boolean"),
        (b"top = 1.5\n", "'top' must be a int"),
        (b"interval = nan\n", "--interval must be between"),
        (b"interval = inf\n", "--interval must be between"),
        (b'netns = ""\n', "empty namespace name"),
        (b"bogus = 1\n", "unknown key 'bogus'"),
        (b"interval = \n", "config"),
    ],
    ids=["utf8", "deep-array", "deep-table", "nul-netns", "nul-filter", "bool-float", "bool-int",
         "float-int", "nan", "inf", "empty-netns", "unknown-key", "bad-toml"],
)  # fmt: skip
def test_bad_config_is_one_usage_line(
    content: bytes, words: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.write_bytes(content)
    code, err = run_cli(["--once"], capsys)
    assert code == 2 and len(err) == 1 and words in err[0], err


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "too-big"])
def test_config_must_be_a_small_regular_file(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "c")
    if kind == "fifo":
        os.mkfifo(path)  # open() hung here
    elif kind == "dev-zero":
        path = "/dev/zero"  # read without limit before
    elif kind == "directory":
        os.mkdir(path)
    else:
        with open(path, "wb") as f:
            f.write(b"# " + b"x" * MAX_CONFIG_BYTES + b"\n")
    monkeypatch.setenv("TWTOP_CONFIG", path)
    t0 = time.monotonic()
    code, err = run_cli(["--once"], capsys)
    words = "larger than 1024 KiB" if kind == "too-big" else "not a regular file"
    assert code == 2 and len(err) == 1 and words in err[0], err
    assert time.monotonic() - t0 < 5


def test_settings_file_env_flags_precedence(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('interval = 5\ntop = 3\ngroup = "lport"\n')
    monkeypatch.setenv("TWTOP_TOP", "7")
    s = resolve({"group": "ipport", "interval": None})
    assert s == Settings(interval=5.0, top=7, group="ipport", lang=s.lang)
    with pytest.raises(UsageError):
        resolve({"top": 0})
    with pytest.raises(AttributeError):
        s.top = 1  # type: ignore[misc]  # frozen: validated once


# --- stdout closed ----------------------------------------------------------------------------


@pytest.mark.skipif(not TWTOP or not shutil.which("sh"), reason="needs the installed twtop")
@pytest.mark.parametrize("args", ["--once", "explain time-wait"])
def test_closed_stdout_is_one_clear_line(args: str) -> None:
    out = subprocess.run(
        ["sh", "-c", f"{TWTOP} {args} >&-"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TWTOP_CONFIG": "/nonexistent"},
    )
    assert out.returncode == 1
    assert out.stderr.splitlines() == [out.stderr.strip()]
    assert "standard output is closed" in out.stderr and "internal error" not in out.stderr


# --- netlink and tcp_info edges ---------------------------------------------------------------


def _nlmsg(mtype: int, payload: bytes, seq: int = 1) -> bytes:
    msg = wire.NLMSGHDR.pack(16 + len(payload), mtype, 0, seq, 0) + payload
    return msg + bytes((-len(msg)) % 4)


class FakeNetlink:
    """A socket whose recv() hands out fixed buffers."""

    def __init__(self, *bufs: bytes) -> None:
        self.bufs = list(bufs)

    def send(self, data: bytes) -> int:
        return len(data)

    def recv(self, size: int) -> bytes:
        return self.bufs.pop(0)


def _dump(buf: bytes) -> tuple[wire.DecodeStats, list[object]]:
    stats = wire.DecodeStats()
    chunks = list(wire.dump_chunks(FakeNetlink(buf), b"req", stats, 1))  # type: ignore[arg-type]
    return stats, [row for _b, _n, rows in chunks for row in rows or []]


@pytest.mark.parametrize("code", [-(2**31), 2**31 - 1, 5000, -5000])
def test_nlmsg_error_with_an_impossible_errno_is_skipped_and_counted(code: int) -> None:
    buf = _nlmsg(wire.NLMSG_ERROR, struct.pack("=i", code) + bytes(16))
    buf += _nlmsg(wire.NLMSG_DONE, bytes(4))
    stats, rows = _dump(buf)  # OverflowError in os.strerror before
    assert stats.malformed == 1 and stats.error == 0 and stats.done and rows == []
    assert stats.reasons == {"NLMSG_ERROR with an impossible errno": 1}


def test_a_real_nlmsg_error_still_ends_the_dump() -> None:
    with pytest.raises(wire.SockDiagError) as info:
        _dump(_nlmsg(wire.NLMSG_ERROR, struct.pack("=i", -13) + bytes(16)))
    assert info.value.errno == 13


def _tcp_info(length: int) -> bytes:
    raw = bytearray(max(length, 136))
    for off, value in ((8, 204000), (24, 3), (44, 212), (52, 300), (68, 29), (72, 14), (80, 10),
                       (100, 7)):  # fmt: skip
        struct.pack_into("=I", raw, off, value)
    struct.pack_into("=QQ", raw, 120, 5000, 6000)
    return bytes(raw[:length])


def _reply(info: bytes) -> bytes:
    attr = wire.NLATTR.pack(4 + len(info), wire.INET_DIAG_INFO) + info
    return _nlmsg(wire.SOCK_DIAG_BY_FAMILY, bytes(72) + attr + bytes((-len(attr)) % 4))


@pytest.mark.parametrize("length", [232, 200, 168, 136, 120, 104])
def test_short_tcp_info_decodes_what_is_there(length: int) -> None:
    err, info = decode_reply(_reply(_tcp_info(length)))  # AttributeError below 232 before
    assert err == 0 and info is not None
    assert (info.rto_ms, info.rtt_ms, info.cwnd, info.retrans_total) == (204.0, 0.029, 10, 7)
    assert (info.last_data_sent_ms, info.last_data_recv_ms, info.unacked) == (212, 300, 3)
    assert info.bytes_acked == (5000 if length >= 128 else None)
    assert info.bytes_received == (6000 if length >= 136 else None)


def test_tcp_info_without_its_basic_fields_is_none() -> None:
    assert decode_reply(_reply(_tcp_info(TCPI_MIN_LEN - 4))) == (0, None)
    assert TcpInfo.from_bytes(b"") is None


def test_explanation_says_unknown_for_fields_an_old_kernel_lacks() -> None:
    from tests.ui.fakes import SOCKETS, make_snapshot
    from twtop.explain import explain_socket

    _err, info = decode_reply(_reply(_tcp_info(104)))
    assert info is not None
    sock = next(s for s in SOCKETS if s.state.name == "ESTABLISHED")
    text = explain_socket(sock, make_snapshot(1), "en", info).render()
    assert "unknown (this kernel's tcp_info is too short)" in text and "None" not in text


def test_impossible_errno_in_a_lookup_reply_is_eproto() -> None:
    assert decode_reply(_nlmsg(wire.NLMSG_ERROR, struct.pack("=i", -(2**31)) + bytes(16)))[0] == 71
