"""ruff and mypy --strict are part of the suite, so CI enforces them."""

from __future__ import annotations

import ast
import os
import pathlib
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


#: house.md / issue 7: no function of the engine over this many lines (ruff's C901 bounds the
#: complexity at 15; length has no ruff rule).
MAX_FUNCTION_LINES = 60


def test_engine_functions_are_short() -> None:
    long = []
    for path in sorted(pathlib.Path(ROOT, "twtop").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long


def test_collector_stays_thin() -> None:
    lines = pathlib.Path(ROOT, "twtop", "collector.py").read_text(encoding="utf-8").count("\n")
    assert lines <= 300, f"twtop/collector.py has {lines} lines: move work to its modules"
