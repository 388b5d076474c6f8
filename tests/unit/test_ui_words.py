"""Every user-visible word exists in en and zh with the same placeholders, and every key of the
TUI has its word: a missing zh key is a test failure, not an English word on a Chinese screen."""

from __future__ import annotations

import string

import pytest

from twtop import knowledge, knowledge_ui, knowledge_views
from twtop.text import cols

TABLES = {
    "UI_WORDS": knowledge_ui.UI_WORDS,
    "UI_LABELS": knowledge.UI_LABELS,
    "VIEW_WORDS": knowledge_views.VIEW_WORDS,
    "COUNTER_TEXT": knowledge_views.COUNTER_TEXT,
    "PHRASES": knowledge.PHRASES,
    "PORT_WORDS": knowledge.PORT_WORDS,
    "VALUE_WORDS": knowledge.VALUE_WORDS,
    "OWNER_REASONS": knowledge.OWNER_REASONS,
    "LABELS": knowledge.LABELS,
    "SEVERITY_WORDS": knowledge.SEVERITY_WORDS,
}


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_key_in_both_languages_with_the_same_placeholders(name: str) -> None:
    table = TABLES[name]
    assert set(table) == set(knowledge.LANGS)
    en, zh = table["en"], table["zh"]
    assert sorted(set(en) - set(zh)) == [], f"{name}: keys with no zh word"
    assert sorted(set(zh) - set(en)) == [], f"{name}: zh keys with no en word"
    for key, text in en.items():
        assert _fields(text) == _fields(zh[key]), (name, key)


def test_help_has_the_same_rows_in_both_languages() -> None:
    en, zh = knowledge_ui.HELP["en"], knowledge_ui.HELP["zh"]
    assert [len(rows) for _h, rows in en] == [len(rows) for _h, rows in zh]
    for (_h1, rows_en), (_h2, rows_zh) in zip(en, zh, strict=True):
        for (k_en, _d1), (k_zh, _d2) in zip(rows_en, rows_zh, strict=True):
            # keys are key names (the same), except the column names, which are words
            assert k_en == k_zh or k_en in ("IN", "OUT"), (k_en, k_zh)
    assert set(knowledge_ui.HELP_TITLE) == set(knowledge.LANGS)


def test_peer_table_headers_fit_their_columns_in_every_language() -> None:
    from widgets.peers import COUNTS, DIRECTIONS

    for lang in knowledge.LANGS:
        for key, _label, width in (*COUNTS, *DIRECTIONS):
            word = knowledge_ui.UI_WORDS[lang][f"col_{key}"]
            assert cols(word) < width, (lang, key, word)  # one column of gap
            assert f"sort_{key}" in knowledge_ui.UI_WORDS[lang]


def test_every_binding_of_every_screen_has_its_word() -> None:
    from textual.binding import Binding

    from tui.app import TwtopApp
    from tui.screens.counters import CountersScreen
    from tui.screens.findings import FindingsScreen
    from tui.screens.help import HelpScreen
    from tui.screens.listeners import ListenersScreen
    from tui.screens.main import MainScreen
    from tui.screens.peer import PeerScreen
    from tui.screens.socket import SocketScreen
    from tui.words import binding_word, words

    owners = (TwtopApp, MainScreen, PeerScreen, SocketScreen, FindingsScreen, ListenersScreen,
              CountersScreen, HelpScreen)  # fmt: skip
    for lang in knowledge.LANGS:
        table = words(lang)
        for owner in owners:
            for b in owner.BINDINGS:
                assert isinstance(b, Binding)
                name = binding_word(b, lang)
                assert name is not None and name in table, (owner.__name__, b.id, lang)
