"""Canonical peer keys without root: ordering, labels, kernel filters, the port-tuple join."""

from __future__ import annotations

import socket
from collections.abc import Iterator

from twtop import bytecode as bc
from twtop import keys, wire
from twtop.model import NO_OWNER, PeerKey, PortTuple
from twtop.states import TcpState

V4 = socket.AF_INET
V6 = socket.AF_INET6


def ip(text: str) -> PeerKey:
    fam = V6 if ":" in text else V4
    return PeerKey("ip", fam, socket.inet_pton(fam, text))


def raw16(text: str) -> tuple[int, bytes]:
    """(family, 16-byte sockid address) as the kernel reports it."""
    if ":" in text:
        return V6, socket.inet_pton(V6, text)
    return V4, socket.inet_aton(text) + bytes(12)


def test_keys_sort_on_raw_parts() -> None:
    ips = [ip("10.0.0.1"), ip("::1"), ip("9.255.0.1"), ip("10.0.0.0"), ip("2001:db8::1")]
    assert [keys.label(k) for k in sorted(ips)] == [
        "9.255.0.1", "10.0.0.0", "10.0.0.1", "::1", "2001:db8::1",
    ]  # fmt: skip
    ports = [PeerKey("lport", port=p) for p in (8080, 443, 10000, 80)]
    assert [k.port for k in sorted(ports)] == [80, 443, 8080, 10000]
    procs = [PeerKey("process", pid=p) for p in (NO_OWNER, 100, 9)]
    assert [keys.label(k) for k in sorted(procs)] == ["9", "100", "(no owner)"]
    assert sorted(procs, reverse=True)[0].pid == NO_OWNER


def test_labels() -> None:
    assert keys.label(ip("127.0.0.1")) == "127.0.0.1"
    k6 = PeerKey("ipport", V6, socket.inet_pton(V6, "::1"), 8443)
    assert keys.label(k6) == "[::1]:8443"
    assert keys.label(PeerKey("ipport", V4, socket.inet_aton("10.1.2.3"), 80)) == "10.1.2.3:80"
    assert keys.label(PeerKey("lport", port=22)) == "22"
    assert keys.label(PeerKey("process", pid=4242)) == "4242"


def test_mapped_ipv6_is_canonically_ipv4() -> None:
    mapped = bytes(10) + b"\xff\xff" + socket.inet_aton("127.0.0.1")
    assert keys.canonical_addr(V6, mapped) == (V4, socket.inet_aton("127.0.0.1"))
    assert keys.canonical_addr(V4, socket.inet_aton("1.2.3.4") + bytes(12)) == (
        V4, socket.inet_aton("1.2.3.4"),
    )  # fmt: skip
    assert keys.canonical_addr(V6, socket.inet_pton(V6, "::1"))[0] == V6


def _selects(kf: keys.KernelFilter, fam: int, src: str, sport: int, dst: str, dport: int) -> bool:
    fam_s, s = raw16(src)
    fam_d, d = raw16(dst)
    return bc.run(kf.bytecode, fam, s, sport, d, dport)


def test_kernel_filter_of_an_ip_group_selects_its_address_only() -> None:
    kf = keys.kernel_filter(ip("10.0.0.9"))
    assert kf.pid is None
    assert _selects(kf, V4, "10.0.0.1", 40000, "10.0.0.9", 80)
    assert not _selects(kf, V4, "10.0.0.9", 80, "10.0.0.1", 40000)  # source, not peer
    assert not _selects(kf, V4, "10.0.0.1", 40000, "10.0.0.90", 80)
    # an IPv4 client of a dual-stack socket: AF_INET6 with a v4-mapped peer
    mapped = bytes(10) + b"\xff\xff" + socket.inet_aton("10.0.0.9")
    assert bc.run(kf.bytecode, V6, mapped, 80, mapped, 5555)


def test_kernel_filter_of_ipport_and_lport() -> None:
    kf = keys.kernel_filter(PeerKey("ipport", V4, socket.inet_aton("10.0.0.9"), 5432))
    assert _selects(kf, V4, "10.0.0.1", 40000, "10.0.0.9", 5432)
    assert not _selects(kf, V4, "10.0.0.1", 40000, "10.0.0.9", 5433)
    lp = keys.kernel_filter(PeerKey("lport", port=8080))
    assert _selects(lp, V6, "::1", 8080, "::1", 50000)
    assert not _selects(lp, V4, "10.0.0.1", 50000, "10.0.0.2", 8080)  # remote port 8080


def test_kernel_filter_of_process_groups() -> None:
    from twtop.states import TcpState

    mine = keys.kernel_filter(PeerKey("process", pid=77))
    assert mine.pid == 77 and mine.bytecode == b""
    for st in (TcpState.TIME_WAIT, TcpState.LISTEN, TcpState.SYN_RECV):
        assert not mine.mask & (1 << st)  # never owned, or not a peer
    assert mine.mask & (1 << TcpState.CLOSE_WAIT) and mine.mask & (1 << TcpState.ESTABLISHED)
    nobody = keys.kernel_filter(PeerKey("process", pid=NO_OWNER))
    assert nobody.pid == NO_OWNER
    for st in (TcpState.TIME_WAIT, TcpState.FIN_WAIT2, TcpState.SYN_RECV, TcpState.ESTABLISHED):
        assert nobody.mask & (1 << st)  # orphans, TIME_WAIT, not yet accepted
    assert not nobody.mask & (1 << TcpState.LISTEN)


def test_port_tuples_join_on_the_key() -> None:
    t = [
        PortTuple("10.0.0.1", "10.0.0.9", 80, 5, 4, 100, 0.0),
        PortTuple("10.0.0.1", "10.0.0.9", 443, 3, 0, 100, 0.0),
        PortTuple("10.0.0.1", "10.0.0.90", 80, 3, 0, 100, 0.0),
    ]
    assert keys.tuples_of(ip("10.0.0.9"), tuple(t)) == (t[0], t[1])
    k = PeerKey("ipport", V4, socket.inet_aton("10.0.0.9"), 443)
    assert keys.tuples_of(k, tuple(t)) == (t[1],)
    assert keys.tuples_of(PeerKey("lport", port=80), tuple(t)) == ()


def _dump_row(state: TcpState, dport: int, inode: int = 0) -> wire.Row:
    r: list[object] = [0] * (wire.R_INODE + 1)
    r[wire.R_FAMILY], r[wire.R_STATE], r[wire.R_INODE] = socket.AF_INET, int(state), inode
    r[wire.R_SRC] = r[wire.R_DST] = socket.inet_aton("10.0.0.1") + bytes(12)
    r[wire.R_SPORT], r[wire.R_DPORT] = socket.htons(40000), socket.htons(dport)
    return tuple(r)


def test_most_urgent_keeps_the_limit_most_urgent_rows_of_every_chunk() -> None:
    """A drill-down never holds the whole group: with a limit, each chunk is cut to the most
    urgent rows, and the answer is the ``limit`` most urgent, in attention order."""
    chunks = [[_dump_row(TcpState.TIME_WAIT, p) for p in range(1000 + 3000 * i, 4000 + 3000 * i)]
              for i in range(5)]  # fmt: skip
    chunks[3].append(_dump_row(TcpState.CLOSE_WAIT, 7))
    seen: list[int] = []

    def counting() -> Iterator[list[wire.Row]]:
        for chunk in chunks:
            yield chunk
            seen.append(len(chunk))

    rows = keys.most_urgent(counting(), None, None, 10)
    assert len(rows) == 10 and len(seen) == 5
    assert rows[0][wire.R_STATE] == TcpState.CLOSE_WAIT  # attention first
    assert [wire.port(r[wire.R_DPORT]) for r in rows[1:]] == list(range(1000, 1009))


def test_most_urgent_applies_the_owner_test_and_no_limit_sorts_all() -> None:
    rows = [_dump_row(TcpState.ESTABLISHED, 9, inode=1), _dump_row(TcpState.CLOSE_WAIT, 8),
            _dump_row(TcpState.ESTABLISHED, 8, inode=2)]  # fmt: skip
    kept = keys.most_urgent([rows], None, lambda r: r[wire.R_INODE] != 0, None)
    assert [wire.port(r[wire.R_DPORT]) for r in kept] == [8, 9]
