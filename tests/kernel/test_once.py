"""``--once`` at scale: one walk of the socket tables and one /proc scan per report, owners right.

The report's first sample only starts the rates and ages (a counts-only poll), the /proc scan runs
during the sample wait, and the second sample is the one full poll: the expensive parts once.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import Population, TestNetns
from twtop import cli
from twtop.collector import Collector
from twtop.procs import ProcessMap


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many /proc scans and full walks of the socket tables run."""
    calls = {"scan": 0, "walk": 0}
    scan, walk = ProcessMap._scan, Collector._walk

    def count_scan(self: ProcessMap) -> None:
        calls["scan"] += 1
        scan(self)

    def count_walk(self: Collector, *args: object) -> None:
        calls["walk"] += 1
        walk(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ProcessMap, "_scan", count_scan)
    monkeypatch.setattr(Collector, "_walk", count_walk)
    return calls


@pytest.mark.parametrize("sample", ["0.3", "0"])
def test_once_walks_and_scans_once_and_names_owners(
    netns: TestNetns,
    pop: Population,
    counted: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    sample: str,
) -> None:
    with netns.inside():
        lst = pop.listener("127.0.0.1", 8080)
        pop.established(lst, 3)  # both ends held by this process: 6 sockets
        pop.time_wait(lst, 4)
    assert cli.run(["--once", "--json", "--netns", netns.name, "--sample", sample]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert counted == {"scan": 1, "walk": 1}
    assert doc["states"]["ESTABLISHED"] == 6 and doc["states"]["TIME_WAIT"] == 4
    (me,) = [p for p in doc["processes"] if p["pid"] == os.getpid()]
    assert me["states"]["ESTABLISHED"] == 6 and me["states"]["LISTEN"] == 1
    assert doc["peers"] and doc["detail_age_s"] == 0.0  # the detail is the last poll's own
    if sample != "0":  # two samples: rates exist
        assert doc["state_rates"] and doc["rates"]
