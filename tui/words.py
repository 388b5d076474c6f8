"""Footer and palette words in the app's language: Binding descriptions from knowledge tables."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding
from textual.dom import DOMNode

from twtop.knowledge_ui import UI_WORDS
from twtop.knowledge_views import VIEW_WORDS

#: Actions of Textual's own bindings that twtop's footer shows.
_PALETTE = frozenset({"command_palette", "app.command_palette"})


def binding_word(binding: Binding, lang: str) -> str | None:
    """The knowledge key of a binding's description: ``key_`` + the first word of its id
    (``quit_f10`` -> ``key_quit``); None for a binding twtop did not make."""
    if binding.action in _PALETTE:
        return "key_palette"
    if binding.id:
        return "key_" + binding.id.split("_")[0]
    return None


def words(lang: str) -> dict[str, str]:
    """Every UI word of ``lang`` (chrome and views)."""
    return {**VIEW_WORDS[lang], **UI_WORDS[lang]}


def relabel(node: DOMNode, lang: str) -> None:
    """Give ``node``'s bindings their descriptions in ``lang`` (the footer shows them)."""
    table = words(lang)
    by_key = node._bindings.key_to_bindings
    for key, items in by_key.items():
        new = []
        for b in items:
            name = binding_word(b, lang)
            if name is not None and name in table:
                b = replace(b, description=table[name])
                if name == "key_palette":
                    b = replace(b, tooltip=table["key_palette_tip"])
            new.append(b)
        by_key[key] = new
