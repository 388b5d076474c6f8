"""The close handshake diagram fits the width it is drawn for (compact under 70 columns)."""

from __future__ import annotations

import pytest

from tests.ui.fakes import SOCKETS, make_snapshot
from twtop.explain import COMPACT_BELOW, explain_socket
from twtop.text import cols


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width", [80, 76, 69, 60, 56, 40, 36])
def test_the_diagram_fits_and_keeps_both_ends_whole(lang: str, width: int) -> None:
    for sock in SOCKETS:
        exp = explain_socket(sock, make_snapshot(1), lang)
        if not exp.steps:
            continue
        diagram = exp.diagram(width).splitlines()
        steps = [ln for ln in diagram if "--->" in ln or "<---" in ln]
        assert len(steps) == len(exp.steps)
        assert all(cols(ln) <= width for ln in steps), diagram
        text = "\n".join(diagram)
        if width >= COMPACT_BELOW:
            assert cols(diagram[0]) <= width and exp.remote in diagram[0]
        elif width >= 56:  # both ends, address and role, on one line each
            assert any(exp.local in ln and ("(" in ln or "（" in ln) for ln in diagram), text
            assert any(exp.remote in ln and ("(" in ln or "（" in ln) for ln in diagram), text
        # the full explanation keeps the diagram's lines as drawn (never re-wrapped)
        assert all(ln in exp.render(width).splitlines() for ln in steps)
