"""The filter language: parsing, errors that point at the token, and kernel bytecode semantics."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twtop import bytecode as bc
from twtop.filter import FilterError, compile_filter, evaluate, parse
from twtop.states import MASK_ALL, TcpState, mask_of


@pytest.mark.parametrize(
    ("expr", "col", "word"),
    [
        ("state time-wiat", 7, "time-wiat"),
        ("dport = :99999", 9, "99999"),
        ("src 10.0.0.300", 5, "10.0.0.300"),
        ("state time-wait and", 20, "end"),
        ("(dport = 80", 12, "')'"),
        ("dport = 80 foo", 12, "foo"),
        ("state established,bogus", 19, "bogus"),
    ],
)
def test_errors_point_at_the_token(expr: str, col: int, word: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(expr)
    assert info.value.col == col
    assert word in str(info.value)
    assert info.value.caret().splitlines()[1].index("^") == col + 1
    assert info.value.exit_code == 2


def test_state_terms_become_the_kernel_mask() -> None:
    plan = compile_filter("state time-wait,close-wait and dport = 80")
    assert plan.in_kernel
    assert plan.mask == mask_of({TcpState.TIME_WAIT, TcpState.CLOSE_WAIT})
    assert plan.bytecode


def test_state_under_or_falls_back_to_python() -> None:
    plan = compile_filter("state time-wait or dport = 80")
    assert not plan.in_kernel and plan.mask == MASK_ALL


def test_groups_and_spellings() -> None:
    assert compile_filter("state TIME_WAIT").mask == 1 << 6
    assert compile_filter("state tw").mask == 1 << 6
    assert compile_filter("state connected").mask & (1 << TcpState.LISTEN) == 0
    assert compile_filter(None).mask == MASK_ALL


def test_addresses_and_ports_parse() -> None:
    assert parse("src [::1]:443").port == 443  # type: ignore[union-attr]
    assert parse("dst 10.0.0.0/8").prefix == 8  # type: ignore[union-attr]
    assert parse("dst [2001:db8::]/32").prefix == 32  # type: ignore[union-attr]
    assert parse("sport gt :1024").op == ">"  # type: ignore[union-attr]


V4 = socket.inet_aton("10.1.2.3") + bytes(12)
V6 = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
MAPPED = bytes(10) + b"\xff\xff" + socket.inet_aton("10.1.2.3")


@pytest.mark.parametrize(
    ("expr", "family", "daddr", "dport", "want"),
    [
        ("dst 10.0.0.0/8", socket.AF_INET, V4, 80, True),
        ("dst 10.0.0.0/8", socket.AF_INET6, MAPPED, 80, True),  # kernel's v4-mapped rule
        ("dst 10.0.0.0/8", socket.AF_INET6, V6, 80, False),
        ("dst [2001:db8::]/32", socket.AF_INET6, V6, 80, True),
        ("dst 10.1.2.3:80", socket.AF_INET, V4, 80, True),
        ("dst 10.1.2.3:81", socket.AF_INET, V4, 80, False),
        ("dport > 80", socket.AF_INET, V4, 80, False),
        ("dport >= 80", socket.AF_INET, V4, 80, True),
        ("not dport < 80", socket.AF_INET, V4, 80, True),
        ("dport != 80 or dst 10.1.2.3", socket.AF_INET, V4, 80, True),
    ],
)
def test_bytecode_semantics(expr: str, family: int, daddr: bytes, dport: int, want: bool) -> None:
    plan = compile_filter(expr)
    assert bc.run(plan.bytecode, family, bytes(16), 40000, daddr, dport) is want


ports = st.integers(0, 65535)
leaf = st.one_of(
    st.builds(lambda op, p: f"sport {op} {p}", st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
              ports),
    st.builds(lambda op, p: f"dport {op} {p}", st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
              ports),
)  # fmt: skip
exprs = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
        st.builds(lambda a: f"not ({a})", inner),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(exprs, ports, ports)
def test_bytecode_agrees_with_the_tree(expr: str, sport: int, dport: int) -> None:
    """AND/OR/NOT relocation: the compiled program decides like the expression tree."""
    node = parse(expr)
    prog = compile_filter(expr).bytecode
    tree = evaluate(node, socket.AF_INET, 1, bytes(16), sport, bytes(16), dport)
    assert bc.run(prog, socket.AF_INET, bytes(16), sport, bytes(16), dport) is tree
