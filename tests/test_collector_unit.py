"""Pure pieces of the collector, on crafted buffers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_wire import attr, msg
from twtop import wire
from twtop.aggregate import any_port as _any_port


def _buf(sports: list[int]) -> bytes:
    return b"".join(msg(sport=p, attrs=attr(wire.INET_DIAG_MARK, bytes(4))) for p in sports)


def test_any_port_finds_a_listening_port_and_ignores_near_misses() -> None:
    listen = [(8080).to_bytes(2, "big")]
    # 0x1f90 = 8080: 0x1f01 shares the first byte, 0x0190 the second
    assert not _any_port(_buf([0x1F01, 0x0190, 40000]), 96, listen)
    assert _any_port(_buf([0x1F01, 40000, 8080]), 96, listen)
    assert not _any_port(_buf([8080]), 96, [])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 65535), min_size=1, max_size=40),
       st.lists(st.integers(0, 65535), max_size=20))  # fmt: skip
def test_any_port_agrees_with_a_set(sports: list[int], ports: list[int]) -> None:
    got = _any_port(_buf(sports), 96, [p.to_bytes(2, "big") for p in ports])
    want = bool(set(sports) & set(ports)) or len(ports) > 16
    assert got == want
