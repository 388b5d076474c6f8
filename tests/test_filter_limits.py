"""Filter limits and ss's reading: every bad filter is a FilterError with a column, no crash."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twtop import cli
from twtop.filter import (
    MAX_BYTECODE,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    And,
    FilterError,
    Not,
    Or,
    Port,
    State,
    compile_filter,
    evaluate,
    parse,
)
from twtop.states import TcpState, mask_of

V6_TERMS = " or ".join(f"dst [2001:db8::{i:x}]" for i in range(2048))

# (name, filter, words in the message, column)
CRASHERS = [
    ("superscript-two", "sport = ²", ["not a port number", "'²'"], 9),
    ("arabic-indic-digit", "dport = ٨٠", ["not a port number"], 9),
    ("unicode-prefix", "dst 10.0.0.0/٨", ["not an address"], 5),
    ("4300-digit-port", "sport = " + "9" * 4300, ["not a port number"], 9),
    ("4300-digit-host-port", "dst 10.0.0.1:" + "9" * 4300, ["not a port number"], 5),
    ("247-parentheses", "(" * 247 + "sport = 1" + ")" * 247, ["nested deeper", "'('"], 65),
    ("990-not", "not " * 990 + "sport = 1", ["nested deeper", "'not'"], 4 * 64 + 1),
    ("990-or", " or ".join(["sport = 1"] * 990), [f"more than {MAX_TERMS} terms"], 6657),
    ("990-and", " and ".join(["sport = 1"] * 990), [f"more than {MAX_TERMS} terms"], 7169),
    ("2048-ipv6-terms", V6_TERMS, [f"longer than {MAX_LENGTH}"], MAX_LENGTH + 1),
    ("20k-terms", " or ".join(["sport = 1"] * 20_000), ["longer than"], MAX_LENGTH + 1),
    ("40k-terms", " or ".join(["sport = 1"] * 40_000), ["longer than"], MAX_LENGTH + 1),
    ("terms-within-length", " ".join(["sport 1"] * 4000), ["more than"], 8 * MAX_TERMS + 1),
    # within the length, term and depth limits, but over the kernel's u16 bytecode
    ("64KiB-bytecode", "|".join(["!" * 60 + "dst ::1"] * 400), ["bytes of kernel bytecode"], 1),
]


@pytest.mark.parametrize(
    ("expr", "words", "col"), [c[1:] for c in CRASHERS], ids=[c[0] for c in CRASHERS]
)
def test_crashers_are_filter_errors_with_a_column(expr: str, words: list[str], col: int) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(expr)
    for word in words:
        assert word in str(info.value)
    assert info.value.col == col
    caret = info.value.caret().splitlines()
    assert len(caret) == 2 and len(caret[0]) < 200  # a long filter is cut around the column
    assert caret[1].rstrip().endswith("^")


def test_the_bytecode_bound_is_the_kernels() -> None:
    assert MAX_BYTECODE == 65531  # u16 netlink attribute length minus its 4-byte header
    just_under = " or ".join(["dst [2001:db8::1]:443"] * 500)
    assert 60_000 > len(compile_filter(just_under).bytecode) > 15_000


@pytest.mark.parametrize("expr", ["sport = ²", "(" * 247 + "sport = 1" + ")" * 247, "not " * 990])
def test_cli_exit_2_with_a_caret(expr: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--once", "--filter", expr]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("twtop: filter: ") and err[-1].strip() == "^"
    assert "internal error" not in "\n".join(err)


def test_control_characters_in_a_filter_are_echoed_escaped() -> None:
    with pytest.raises(FilterError) as info:
        compile_filter("sport = \x1b[2J")
    assert "\x1b" not in str(info.value) and "\x1b" not in info.value.caret()
    assert r"\x1b" in info.value.caret()


def test_limits_leave_real_filters_alone() -> None:
    depth = "(" * (MAX_DEPTH - 1) + "not sport = 1" + ")" * (MAX_DEPTH - 1)
    assert compile_filter(depth).in_kernel
    assert compile_filter(" or ".join(["sport = 1"] * MAX_TERMS)).in_kernel


# --- ss's reading ---------------------------------------------------------------------------


def P(side: str, port: int) -> Port:
    return Port(side, "=", port)


@pytest.mark.parametrize(
    ("expr", "tree"),
    [
        (
            "sport = 1 and sport = 2 or sport = 3",
            Or(And(P("sport", 1), P("sport", 2)), P("sport", 3)),
        ),
        (
            "sport = 1 or sport = 2 and sport = 3",
            And(Or(P("sport", 1), P("sport", 2)), P("sport", 3)),
        ),
        ("sport = 1 | sport = 2 sport = 3", And(Or(P("sport", 1), P("sport", 2)), P("sport", 3))),
        ("! sport = 1 & sport = 2", And(Not(P("sport", 1)), P("sport", 2))),
        (
            "sport = 1 or (sport = 2 and sport = 3)",
            Or(P("sport", 1), And(P("sport", 2), P("sport", 3))),
        ),
    ],
)
def test_and_or_are_equal_and_left_to_right_as_in_ss(expr: str, tree: object) -> None:
    assert parse(expr) == tree


def test_mixing_and_or_without_parentheses_gives_a_note() -> None:
    (note,) = compile_filter("sport = 1 and sport = 2 or sport = 3").notes
    assert "'or' at column 25" in note and "left to right" in note
    assert compile_filter("sport = 1 and (sport = 2 or sport = 3)").notes == ()
    assert compile_filter("sport = 1 or sport = 2 or sport = 3").notes == ()


def test_repeated_state_words_are_a_union() -> None:
    plan = compile_filter("state established state time-wait")
    assert plan.mask == mask_of({TcpState.ESTABLISHED, TcpState.TIME_WAIT}) and plan.in_kernel


def test_leading_states_apply_to_the_whole_expression_as_in_ss() -> None:
    node = parse("state established state close-wait dport = :80 or sport = :22")
    states = State(frozenset({TcpState.ESTABLISHED, TcpState.CLOSE_WAIT}))
    assert node == And(states, Or(P("dport", 80), P("sport", 22)))
    plan = compile_filter("state established dport = :80 or sport = :22")
    assert plan.in_kernel and plan.mask == mask_of({TcpState.ESTABLISHED})
    assert not compile_filter("state established or sport = :22").in_kernel  # an operand


def test_cli_prints_the_note(capsys: pytest.CaptureFixture[str]) -> None:
    expr = "sport = 1 and sport = 2 or sport = 3"
    # stops right after the filter check: the namespace does not exist
    assert cli.main(["--once", "--netns", "/nonexistent/ns", "--filter", expr]) == 69
    assert "twtop: note: 'or' at column 25" in capsys.readouterr().err


# --- fuzz: any text is a Plan or a FilterError ------------------------------------------------

ALPHABET = st.sampled_from(
    list("()!=<>&|[]:/.,*- \t0123456789abcdef²٨\x1b\u202e")
    + ["state ", "src ", "dst ", "sport ", "dport ", "and ", "or ", "not ", "::ffff:", "1.2.3.4",
       "time-wait", "established", "9" * 30]
)  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_fuzz_any_text_is_a_plan_or_a_filter_error(text: str) -> None:
    try:
        plan = compile_filter(text)
    except FilterError as exc:
        assert exc.col >= 1 and exc.exit_code == 2
        exc.caret()
        return
    if plan.node is not None:
        evaluate(plan.node, socket.AF_INET6, 1, bytes(16), 1, bytes(16), 2)
