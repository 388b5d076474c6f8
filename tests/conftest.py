"""Shared fixtures: real socket populations, optionally inside a namespace the test creates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import Population, TestNetns, have, is_root


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
