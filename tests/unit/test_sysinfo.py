"""The /proc and sysctl parsers on fixed file contents (psutil's test_linux.py style), the
failure modes of real files (missing, empty, not UTF-8: a note, never an exception), and the
parsers against this system."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from twtop import sysinfo

NETSTAT = """\
TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed TW TWRecycled TWKilled ListenOverflows \
ListenDrops TCPAbortOnMemory TCPTimeWaitOverflow TCPReqQFullDoCookies
TcpExt: 7 0 0 120 3 1 4 5 2 20 6
IpExt: InNoRoutes InTruncatedPkts
IpExt: 0 0
"""
SNMP = """\
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets \
CurrEstab
Tcp: 1 200 120000 -1 31 17 2 1 9
"""
SOCKSTAT = """\
sockets: used 12
TCP: inuse 9 orphan 3 tw 120 alloc 14 mem 2
UDP: inuse 1 mem 0
"""
FILES = {"netstat": NETSTAT, "snmp": SNMP, "sockstat": SOCKSTAT}


def test_parse_pairs_keeps_sections_apart_and_skips_bad_values() -> None:
    tables = sysinfo.parse_pairs(NETSTAT + "Bad: a b\nOther: 1 2\nX: n\nX: zz\n")
    assert tables["TcpExt"]["TW"] == 120 and tables["IpExt"] == {
        "InNoRoutes": 0,
        "InTruncatedPkts": 0,
    }
    assert "Bad" not in tables and tables["X"] == {}  # fmt: skip
    assert sysinfo.parse_pairs(SNMP)["Tcp"]["MaxConn"] == -1


def test_parse_sockstat() -> None:
    assert sysinfo.parse_sockstat(SOCKSTAT) == {
        "inuse": 9, "orphan": 3, "tw": 120, "alloc": 14, "mem": 2,
    }  # fmt: skip
    assert sysinfo.parse_sockstat("TCP: inuse ² tw 5\n") == {"tw": 5}
    assert sysinfo.parse_sockstat("") == {}


def test_counters_from_fixed_files() -> None:
    out = sysinfo.counters_from(FILES.__getitem__)
    assert out["SyncookiesSent"] == 7 and out["TCPReqQFullDoCookies"] == 6
    assert out["TCPTimeWaitOverflow"] == 20 and out["ListenDrops"] == 5
    assert out["ActiveOpens"] == 31 and out["CurrEstab"] == 9
    assert (out["sockstat_tw"], out["sockstat_orphan"], out["sockstat_inuse"]) == (120, 3, 9)
    # What a file does not say is left out (unknown), never 0.
    assert "TCPAbortOnClose" not in out


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "cannot be read"), (b"", "is empty"), (b"TcpExt: TW\nTcpExt: \xff\xfe\n", "UTF-8")],
)
def test_bad_proc_files_give_a_note_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, words: str
) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    if content is None:
        (tmp_path / "netstat").unlink()
    else:
        (tmp_path / "netstat").write_bytes(content)
    monkeypatch.setattr(sysinfo, "PROC_NET", str(tmp_path))
    notes: list[str] = []
    out = sysinfo.read_counters(notes)
    assert len(notes) == 1 and "/proc/net/netstat" in notes[0] and words in notes[0]
    assert "TW" not in out and "ListenDrops" not in out  # netstat's counters: unknown
    assert out["ActiveOpens"] == 31 and out["sockstat_tw"] == 120  # the other files still count


def test_port_range_and_reserved() -> None:
    assert sysinfo.parse_port_range("40000\t41999") == (40000, 41999)
    assert sysinfo.parse_port_range(None) == (32768, 60999)
    assert sysinfo.parse_port_range("garbage") == (32768, 60999)
    reserved = sysinfo.parse_reserved("1000-2000, 40005,40003-40001,x,")
    assert reserved == [(1000, 2000), (40005, 40005), (40001, 40003)]
    assert sysinfo.reserved_in_range(reserved + [(40002, 40004)], 40000, 41999) == 5


def test_global_sysctls_are_marked() -> None:
    assert "tcp_max_orphans" in sysinfo.GLOBAL_SYSCTLS
    assert {s.rsplit(".", 1)[1] for s in sysinfo.SYSCTLS} >= sysinfo.GLOBAL_SYSCTLS


# -- against this system -----------------------------------------------------------------------


def test_sysctls_match_the_files() -> None:
    values = sysinfo.read_sysctls()
    for name in sysinfo.SYSCTLS:
        path = "/proc/sys/" + name.replace(".", "/")
        short = name.rsplit(".", 1)[1]
        if os.path.exists(path):
            with open(path) as f:
                assert values[short] == " ".join(f.read().split())
        elif short not in sysinfo.GLOBAL_SYSCTLS:
            assert values[short] is None


def test_counters_on_this_system() -> None:
    notes: list[str] = []
    out = sysinfo.read_counters(notes)
    assert notes == []
    for name in ("TW", "ListenDrops", "ActiveOpens", "sockstat_tw"):
        assert name in out and out[name] >= 0
