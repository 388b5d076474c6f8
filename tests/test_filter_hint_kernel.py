"""``--once --filter 'dport = :8080'`` on a host that listens on 8080 matches nothing (a server's
port is its local, source port): the report says so and what to try, in en and zh."""

from __future__ import annotations

from tests.helpers import Population, TestNetns
from tests.test_cli import run


def test_once_says_try_sport_when_dport_matches_nothing(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        pop.listener("127.0.0.1", 8080)
    out = run("--once", "--netns", netns.name, "--filter", "dport = :8080", "--lang", "en")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "TCP: 0 (IPv4 0, IPv6 0)" in out.stdout  # really nothing matched
    assert "0 sockets match; this host listens on :8080 — try sport = :8080" in lines[:5]
    zh = run("--once", "--netns", netns.name, "--filter", "dport = :8080", "--lang", "zh")
    assert "没有匹配的套接字；本机在 :8080 上监听 — 试试 sport = :8080" in zh.stdout
    js = run("--once", "--json", "--netns", netns.name, "--filter", "dport = :8080")
    assert js.returncode == 0 and "try sport = :8080" in js.stderr  # JSON keeps its shape
    # the hinted filter does match: the listener
    ok = run("--once", "--netns", netns.name, "--filter", "sport = :8080", "--lang", "en")
    assert "try sport" not in ok.stdout and "LISTEN             1" in ok.stdout


def test_once_says_nothing_when_swapping_does_not_help(netns: TestNetns, pop: Population) -> None:
    with netns.inside():
        pop.listener("127.0.0.1", 8080)
    out = run("--once", "--netns", netns.name, "--filter", "dport = :9999", "--lang", "en")
    assert out.returncode == 0 and "try sport" not in out.stdout
