"""ruff and mypy --strict are part of the suite, so CI enforces them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tool(name: str) -> str:
    here = os.path.join(os.path.dirname(sys.executable), name)
    found = here if os.path.exists(here) else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


#: Caches go in the tree when it is writable; an unprivileged run of a root-owned tree keeps none.
WRITABLE = os.access(ROOT, os.W_OK)


def test_ruff() -> None:
    ruff = _tool("ruff")
    cache = [] if WRITABLE else ["--no-cache"]
    for args in (["check", *cache, "."], ["format", "--check", *cache, "."]):
        out = subprocess.run([ruff, *args], capture_output=True, text=True, cwd=ROOT)
        assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_strict(tmp_path: object) -> None:
    cache = [] if WRITABLE else ["--cache-dir", str(tmp_path)]
    out = subprocess.run(
        [_tool("mypy"), *cache], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert out.returncode == 0, out.stdout + out.stderr
