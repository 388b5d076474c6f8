"""Shared fixtures: real socket populations, optionally inside a namespace the test creates.

Markers come with the fixtures: a test that asks for ``netns`` is marked ``kernel`` and ``root``,
one that asks for ``pop`` is marked ``kernel``, so new tests get them without remembering. Under CI
(``CI`` set to true/1/yes; CI runs as root) a skipped ``kernel`` or ``root`` test fails the session
with a list: those tests are the point of running there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.helpers import Population, TestNetns, have, is_root

#: Fixture name -> markers every test using it gets.
FIXTURE_MARKERS: dict[str, tuple[str, ...]] = {
    "netns": ("kernel", "root"),
    "pop": ("kernel",),
}
#: Markers whose tests must run (not skip) under CI.
MUST_RUN_IN_CI = ("kernel", "root")


def in_ci() -> bool:
    """True when the environment says this is a CI run (``CI=true``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by the fixtures they use."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marks in FIXTURE_MARKERS.items():
            if fixture in names:
                for mark in marks:
                    item.add_marker(mark)


class CiGuard:
    """Under CI: every skipped test marked kernel or root is listed and fails the session."""

    def __init__(self) -> None:
        self.skipped: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Remember a skipped kernel/root test (an xfail is not a skip)."""
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        marks = [m for m in MUST_RUN_IN_CI if m in report.keywords]
        if marks:
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            self.skipped.append(f"{report.nodeid} [{', '.join(marks)}]: {reason}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Fail the session when any was skipped."""
        if self.skipped:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """List them."""
        if not self.skipped:
            return
        terminalreporter.section("kernel/root tests skipped under CI", red=True, bold=True)
        for line in self.skipped:
            terminalreporter.line(line)
        terminalreporter.line(
            f"{len(self.skipped)} kernel/root test(s) skipped with CI set: CI must run them as "
            "root with iproute2, tmux and setpriv installed"
        )


def pytest_configure(config: pytest.Config) -> None:
    """Under CI, install the guard."""
    if in_ci() and not config.pluginmanager.has_plugin("twtop-ci-guard"):
        config.pluginmanager.register(CiGuard(), "twtop-ci-guard")


@pytest.fixture
def netns() -> Iterator[TestNetns]:
    """A fresh network namespace (needs root and iproute2)."""
    if not is_root():
        pytest.skip("needs root to create a network namespace (ip netns add)")
    if not have("ip"):
        pytest.skip("needs iproute2's ip command")
    ns = TestNetns()
    try:
        yield ns
    finally:
        ns.close()


@pytest.fixture
def pop() -> Iterator[Population]:
    """A socket population closed at the end of the test."""
    p = Population()
    try:
        yield p
    finally:
        p.close()
