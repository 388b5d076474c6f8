#!/usr/bin/env python3
"""Make screenshots/*.svg from the real app on a real socket population.

Starts bench/loadgen.py in a fresh namespace (TIME_WAIT towards several peers, ESTABLISHED and
CLOSE_WAIT held by worker processes), runs the app against it with the real Collector, and saves
the main screen (80x24, 160x48), the findings view, a drill-down, a socket's explanation and the
help screen. Then the five incidents of issue 9 (tests/incidents.py, each built for real in a
namespace of its own): the first screen of each at 80x24 in English, and in Chinese for the
CLOSE_WAIT leak and the port exhaustion.

    scripts/screenshots.py              # everything
    scripts/screenshots.py incidents    # only the incidents (main: only the loadgen ones)
Needs root (network namespaces).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
OUT = os.path.join(ROOT, "screenshots")

from bench.loadgen import running  # noqa: E402
from tests.incidents import KINDS, incident  # noqa: E402

#: Incidents whose first screen is also shot in Chinese.
ZH_INCIDENTS = ("close_wait", "ports")


async def shoot(
    netns: str, size: tuple[int, int], name: str, keys: list[str], lang: str = "en"
) -> None:
    from tui.app import TwtopApp
    from twtop.collector import Collector

    collector = Collector(netns=netns)
    app = TwtopApp(collector, {"interval": 1.0, "lang": lang})
    async with app.run_test(size=size) as pilot:
        # The first poll can take seconds on a loaded machine: wait for it (at most a minute),
        # then a few more, so rates and sparklines have history.
        for _ in range(60):
            if app.snapshot is not None:
                break
            await pilot.pause(1.0)
        for _ in range(4):
            await pilot.pause(1.0)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(1.0)
        app.save_screenshot(filename=f"{name}.svg", path=OUT)
    collector.close()


def incidents() -> None:
    """The first screen (no key pressed) of each incident, each on its own namespace."""
    for kind in KINDS:
        with incident(kind, prefix="twtop-shots") as inc:
            name = f"incident-{kind.replace('_', '-')}"
            asyncio.run(shoot(inc.netns, (80, 24), name, []))
            print(f"screenshots/{name}.svg")
            if kind in ZH_INCIDENTS:
                asyncio.run(shoot(inc.netns, (80, 24), f"{name}-zh", [], "zh"))
                print(f"screenshots/{name}-zh.svg")


def main(argv: list[str]) -> int:
    """Make the populations, take the screenshots, clean up."""
    which = set(argv) or {"main", "incidents"}
    os.makedirs(OUT, exist_ok=True)
    if "incidents" in which:
        incidents()
    if "main" not in which:
        return 0
    with running(30_000, 400, 120, hold=120, prefix="twtop-shots") as name:
        # The population is made in a burst; the TIME_WAIT rate from timers looks back 10 s, so
        # wait until it reflects the sustained rate rather than the burst.
        time.sleep(12)
        os.makedirs(OUT, exist_ok=True)
        shots = [
            ((80, 24), "main-80x24", []),
            ((160, 48), "main-160x48", []),
            ((80, 24), "findings", ["f"]),
            ((80, 24), "drill-down", ["down", "down", "enter"]),
            # the socket with the most time left (s: timer, r: largest first), never one whose
            # timer already expired between the drill-down's fetch and the explanation
            ((100, 40), "explainer", ["enter", "s", "r", "enter"]),
            ((100, 40), "help", ["question_mark"]),
        ]
        for size, shot, keys in shots:
            asyncio.run(shoot(name, size, shot, keys))
            print(f"screenshots/{shot}.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
