"""What to say when a filter matches nothing but its mirror would: ``dport = :8080`` on a server.

A server's port is its local (source) port, so ``dport = :8080`` on the host that listens on 8080
matches only its own outbound connections to 8080; ``sport = :8080`` is what was meant. The count
comes from the caller (a kernel dump with the swapped filter), so this stays pure.
"""

from __future__ import annotations

from collections.abc import Callable

from twtop.filter import FilterError, Port, _operands, parse, tokenize
from twtop.knowledge_ui import UI_WORDS

_SWAP = {"sport": "dport", "dport": "sport"}


def swap_ports(expr: str) -> str | None:
    """``expr`` with every ``sport`` and ``dport`` swapped; None when it has no ``dport``."""
    try:
        toks = tokenize(expr)
    except FilterError:
        return None
    if not any(t.text.lower() == "dport" for t in toks):
        return None
    out = expr
    for t in reversed(toks):  # from the end: earlier columns stay valid
        other = _SWAP.get(t.text.lower())
        if other is not None:
            out = out[: t.col - 1] + other + out[t.col - 1 + len(t.text) :]
    return out


def _dport(expr: str) -> int | None:
    """The port of the first ``dport = :N`` term of a plain and-chain, if there is one."""
    try:
        node = parse(expr)
    except FilterError:
        return None
    for n in _operands(node):
        if isinstance(n, Port) and n.side == "dport" and n.op == "=":
            return n.port
    return None


def port_hint(expr: str | None, count: Callable[[str], int], lang: str = "en") -> str | None:
    """The hint when ``expr`` (which matched 0 sockets) names a ``dport`` and the swapped filter
    matches some: "this host listens on :N" when a listener has that port. ``count(filter)``
    counts matching sockets (1 is enough)."""
    swapped = swap_ports(expr) if expr else None
    if swapped is None:
        return None
    n = count(swapped)
    if n <= 0:
        return None
    w = UI_WORDS[lang]
    port = _dport(expr or "")
    if port is not None and count(f"state listening and sport = :{port}") > 0:
        return w["hint_listens"].format(port=port, expr=swapped)
    return w["hint_swapped"].format(n=n, expr=swapped)
