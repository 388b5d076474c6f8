"""The fast paths against decoded rows (kernel, root, a namespace the test makes).

A population of both families -- wildcard and address-specific listeners, ESTABLISHED both ways,
client and server TIME_WAITs, CLOSE_WAITs, sources on several addresses -- is counted twice: by
the fast paths (TIME_WAIT key bytes; full sockets as columns cut straight from the bytes: "v4"
ints for IPv4-only buffers, 16-byte "row" columns for IPv6 and for the mixed buffers one walk of
both families gives) and by decoded rows (what ``keep_sockets`` takes). Every per-state,
per-peer, per-tuple and per-process count must agree, in every grouping.
"""

from __future__ import annotations

import resource
from typing import Any

import pytest

from tests.helpers import Population, TestNetns
from twtop import aggregate, procs
from twtop.collector import Collector
from twtop.model import GROUPS, Snapshot


def _populate(pop: Population, families: str) -> None:
    for i, addr in enumerate(("127.0.0.1", "0.0.0.0", "::1", "::")):
        if ":" in addr and families == "v4":
            continue
        lst = pop.listener(addr, 8080 + i)
        pop.established(lst, 150 + 20 * i)  # more than one receive buffer (~250 messages)
        pop.time_wait(lst, 140 + i)
        # (no server-side TIME_WAITs: their orphaned FIN_WAIT2 minisockets, 96 bytes, would make
        # every buffer of the full dump non-uniform: decoded as rows by both collectors)
        pop.close_wait(lst, 1 + i % 2)
        if ":" not in addr:  # outbound sockets from other source addresses
            for src in ("127.0.0.2", "127.0.0.3"):
                pop.keep.append(pop.connect(lst, src=src))
                pop.time_wait(lst, 2, src=src)


def _counts(snap: Snapshot) -> dict[str, object]:
    return {
        "states": dict(snap.states),
        "families": (snap.ipv4, snap.ipv6),
        "peers": sorted(
            (p.peer, p.total, sorted(p.states.items()), p.inbound, p.outbound, p.processes)
            for p in snap.peers
        ),
        "processes": sorted((p.pid, sorted(p.states.items())) for p in snap.processes),
        "tuples": sorted(
            (t.src, t.dst, t.dport, t.used, t.time_wait, t.tw_young, t.owners)
            for t in snap.ports.tuples
        ),
        "bound": sorted((s.src, s.held) for s in snap.ports.sources),
    }


@pytest.mark.parametrize("families", ["mixed", "v4"])
@pytest.mark.parametrize("group", GROUPS)
def test_fast_paths_count_as_decoded_rows(
    netns: TestNetns,
    pop: Population,
    group: str,
    families: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tags: list[str] = []  # the column paths taken (by both collectors)
    real = aggregate.Aggregator._add_columns

    def columns(self: aggregate.Aggregator, tag: str, *args: Any) -> None:
        tags.append(tag)
        real(self, tag, *args)

    monkeypatch.setattr(aggregate.Aggregator, "_add_columns", columns)
    cut = 0  # buffers of both families or IPv6 cut into columns straight from the bytes
    addr_struct = aggregate._addr_struct

    def counted(length: int) -> Any:
        nonlocal cut
        cut += 1
        return addr_struct(length)

    monkeypatch.setattr(aggregate, "_addr_struct", counted)
    # this process holds the sockets from outside the namespace: read it, big as it is
    monkeypatch.setattr(procs, "OUTSIDE_FDS_MAX", 100_000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    try:
        with netns.inside():
            _populate(pop, families)
        with (
            Collector(netns=netns.path, group=group) as fast,
            Collector(netns=netns.path, group=group, keep_sockets=True) as rows,
        ):
            fast.procs.refresh(force=True)
            rows.procs = fast.procs  # one map: the two differ only in how they count
            got = fast.poll()
            assert cut if families == "mixed" else "v4" in tags  # the fast path was taken
            cut, tags[:] = 0, []
            want = rows.poll()
            assert not cut and "v4" not in tags  # the reference: decoded rows only
    finally:
        pop.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert got.total == want.total > 900
    assert any(p.processes for p in got.peers)  # owners were attributed, and compared
    assert _counts(got) == _counts(want)
