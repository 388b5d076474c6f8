"""``twtop explain`` as a user runs it (the installed binary): the list of states with no state,
the language from --lang > TWTOP_LANG > config file > LANG, and ``twtop --help`` naming it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from twtop.knowledge import LANGS, STATE_BRIEF, STATE_LIST_HINT
from twtop.states import ALL_STATES
from twtop.text import cols

_NEXT_TO_PYTHON = os.path.join(os.path.dirname(sys.executable), "twtop")
TWTOP = _NEXT_TO_PYTHON if os.path.exists(_NEXT_TO_PYTHON) else (shutil.which("twtop") or "")

pytestmark = pytest.mark.skipif(not TWTOP, reason="needs the installed twtop")


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``twtop ARGS`` with no config file and an English locale unless ``env`` says otherwise."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TWTOP_", "LC_"))}
    full = {**base, "TWTOP_CONFIG": "/nonexistent", "LANG": "C.UTF-8", **env}
    return subprocess.run([TWTOP, *args], capture_output=True, text=True, timeout=60, env=full)


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_explain_without_a_state_lists_every_state() -> None:
    out = run("explain")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == len(ALL_STATES) + 2  # one per state, a blank line, the hint
    for line, state in zip(lines, ALL_STATES, strict=False):
        name, meaning = line.split(None, 1)
        assert (name, meaning) == (state.name, STATE_BRIEF["en"][state])
    assert lines[-1] == STATE_LIST_HINT["en"]
    assert all(cols(line) <= 80 for line in lines)
    assert not _cjk(out.stdout)


@pytest.mark.parametrize(
    ("args", "env", "zh"),
    [
        ((), {"TWTOP_LANG": "zh"}, True),
        ((), {"LANG": "zh_CN.UTF-8"}, True),
        (("--lang", "en"), {"TWTOP_LANG": "zh"}, False),  # the flag wins
        (("--lang", "zh"), {}, True),
        ((), {"TWTOP_LANG": "en", "LANG": "zh_CN.UTF-8"}, False),  # TWTOP_LANG over LANG
    ],
)
def test_language_of_the_list_and_the_card(
    args: tuple[str, ...], env: dict[str, str], zh: bool
) -> None:
    listing = run("explain", *args, **env)
    card = run("explain", "close-wait", *args, **env)
    assert listing.returncode == 0 and card.returncode == 0, listing.stderr + card.stderr
    assert _cjk(listing.stdout) is zh and _cjk(card.stdout) is zh
    if zh:
        assert STATE_BRIEF["zh"][ALL_STATES[0]] in listing.stdout


def test_language_from_the_config_file(tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('lang = "zh"\n')
    out = run("explain", TWTOP_CONFIG=str(conf))
    assert out.returncode == 0, out.stderr
    assert STATE_BRIEF["zh"][ALL_STATES[-1]] in out.stdout
    # the environment overrides the file, the flag both
    assert not _cjk(run("explain", TWTOP_CONFIG=str(conf), TWTOP_LANG="en").stdout)
    assert not _cjk(run("explain", "tw", "--lang", "en", TWTOP_CONFIG=str(conf)).stdout)


def test_bad_language_is_one_line_usage_error(tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('lang = "fr"\n')
    for out in (run("explain", TWTOP_CONFIG=str(conf)), run("explain", TWTOP_LANG="fr")):
        assert out.returncode == 2
        assert out.stderr.count("\n") == 1 and "lang must be one of en, zh" in out.stderr
        assert out.stdout == ""


def test_unknown_state_is_a_usage_error() -> None:
    out = run("explain", "half-open")
    assert out.returncode == 2 and "unknown state 'half-open'" in out.stderr
    assert out.stderr.count("\n") == 1


def test_help_names_the_subcommands() -> None:
    out = run("--help")
    assert out.returncode == 0
    assert "twtop explain [STATE]" in out.stdout and "twtop export" in out.stdout
    explain_help = run("explain", "--help").stdout
    assert "with no state, list them all" in explain_help


def test_every_state_has_a_brief_line_in_every_language() -> None:
    for lang in LANGS:
        assert set(STATE_BRIEF[lang]) == set(ALL_STATES), lang
        for state, text in STATE_BRIEF[lang].items():
            assert 0 < cols(text) <= 80 - 13, (lang, state)
        assert "twtop explain STATE" in STATE_LIST_HINT[lang]
