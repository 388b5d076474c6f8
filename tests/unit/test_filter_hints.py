"""Filter suggestions: the nearest state name for a misspelled one, and the ``sport`` hint when
``dport = :N`` matches nothing on a server (pure: the count is given)."""

from __future__ import annotations

import pytest

from twtop.filter import FilterError, compile_filter, suggest_state
from twtop.hints import port_hint, swap_ports


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("timewait", "time-wait"),  # ss's spelling first
        ("time-wiat", "time-wait"),  # two letters swapped: one edit
        ("TIME-WAIT2", "time-wait"),
        ("closewait", "close-wait"),
        ("fin-wait1", "fin-wait-1"),
        ("time_wiat", "time_wait"),  # typed with underscores: twtop's form, accepted too
        ("establised", "established"),
        ("lisen", "listen"),
    ],
)
def test_nearest_state_name(typed: str, meant: str) -> None:
    assert suggest_state(typed) == meant
    assert compile_filter(f"state {meant}") is not None  # the suggestion itself is accepted


@pytest.mark.parametrize("typed", ["xyz", "foo", "tcp", "q"])
def test_nothing_close_no_suggestion(typed: str) -> None:
    assert suggest_state(typed) is None


def test_the_error_says_did_you_mean_in_both_languages() -> None:
    with pytest.raises(FilterError) as err:
        compile_filter("state established,timewait and dport = :80")
    assert str(err.value).endswith("; did you mean time-wait?")
    assert err.value.col == 19  # the caret stays under the bad word
    assert err.value.hint("zh") == "你是不是想输入 time-wait？"
    with pytest.raises(FilterError) as err:
        compile_filter("state zzzzzz")
    assert "did you mean" not in str(err.value) and err.value.suggestion is None


def test_swap_ports() -> None:
    assert swap_ports("dport = :8080") == "sport = :8080"
    assert swap_ports("state established and DPORT >= 80 or sport = :1") == (
        "state established and sport >= 80 or dport = :1"
    )
    assert swap_ports("sport = :8080") is None  # nothing to swap towards
    assert swap_ports("state time-wait") is None


def _counter(matches: dict[str, int]) -> tuple[list[str], object]:
    asked: list[str] = []

    def count(expr: str) -> int:
        asked.append(expr)
        return matches.get(expr, 0)

    return asked, count


def test_port_hint_server_listens() -> None:
    asked, count = _counter({"sport = :8080": 3, "state listening and sport = :8080": 1})
    hint = port_hint("dport = :8080", count)  # type: ignore[arg-type]
    assert hint == "0 sockets match; this host listens on :8080 — try sport = :8080"
    zh = port_hint("dport = :8080", count, "zh")  # type: ignore[arg-type]
    assert zh == "没有匹配的套接字；本机在 :8080 上监听 — 试试 sport = :8080"


def test_port_hint_without_listener_and_none_when_swapped_matches_nothing() -> None:
    _asked, count = _counter({"sport = :9000": 2})
    hint = port_hint("dport = :9000", count)  # type: ignore[arg-type]
    assert hint is not None and "2 match with sport and dport swapped" in hint
    assert hint.endswith("try sport = :9000")
    _asked, nothing = _counter({})
    assert port_hint("dport = :9000", nothing) is None  # type: ignore[arg-type]
    assert port_hint("state time-wait", nothing) is None  # type: ignore[arg-type]
    assert port_hint(None, nothing) is None  # type: ignore[arg-type]


def test_explain_suggests_the_nearest_state(capsys: pytest.CaptureFixture[str]) -> None:
    from twtop.cli import main

    assert main(["explain", "timewait", "--lang", "en"]) == 2
    assert "unknown state 'timewait'; did you mean time-wait?" in capsys.readouterr().err
