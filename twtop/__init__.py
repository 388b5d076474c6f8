"""twtop: a top for TCP connection states (engine package; imports no UI).

The public names are imported lazily so that ``import twtop.netns`` (the load generator) or
``twtop --version`` do not pay for the collector's imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Collector": "twtop.collector",
    "take_snapshot": "twtop.collector",
    "list_sockets": "twtop.collector",
    "Snapshot": "twtop.model",
    "Socket": "twtop.model",
    "PeerRow": "twtop.model",
    "PeerKey": "twtop.model",
    "PortTuple": "twtop.model",
    "TcpState": "twtop.states",
    "explain_socket": "twtop.explain",
    "render_state_card": "twtop.explain",
    "explain_peer": "twtop.explain",
    "advise": "twtop.advisor",
    "document": "twtop.report",
}

if TYPE_CHECKING:
    from twtop.advisor import advise
    from twtop.collector import Collector, list_sockets, take_snapshot
    from twtop.model import PeerKey, PeerRow, PortTuple, Snapshot, Socket
    from twtop.report import document
    from twtop.states import TcpState


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'twtop' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [*_LAZY, "__version__"]
