"""The CI guard in tests/conftest.py: fixtures mark tests, and under CI a skipped kernel/root test
fails the run (runs a tiny suite in a subprocess with the real conftest as a plugin; no root)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TINY = """
import pytest

def test_uses_pop(pop):
    pytest.skip("pretend: no sockets here")

def test_uses_netns_collected_only(netns):
    pass

@pytest.mark.root
def test_marked_root():
    pytest.skip("pretend: not root")

def test_plain_skip():
    pytest.skip("an optional tool is missing")

def test_ok():
    pass

@pytest.mark.kernel
@pytest.mark.xfail(reason="a known failure is not a skip", strict=True)
def test_kernel_xfail():
    assert False
"""


def _pytest(tmp_path: Path, *args: str, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_tiny.py").write_text(TINY)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    kernel: k\n    root: r\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = str(ROOT)
    if ci is not None:
        env["CI"] = ci
    cmd = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
           "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)


def test_fixtures_add_the_markers(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "--collect-only", "-q", "-m", "kernel", "test_tiny.py", ci=None)
    kernel = {line.split("::")[1] for line in out.stdout.splitlines() if "::" in line}
    assert kernel == {"test_uses_pop", "test_uses_netns_collected_only", "test_kernel_xfail"}
    out = _pytest(tmp_path, "--collect-only", "-q", "-m", "root", "test_tiny.py", ci=None)
    root = {line.split("::")[1] for line in out.stdout.splitlines() if "::" in line}
    assert root == {"test_uses_netns_collected_only", "test_marked_root"}


def test_skipped_kernel_and_root_tests_fail_under_ci(tmp_path: Path) -> None:
    args = ("-k", "not netns", "test_tiny.py")
    out = _pytest(tmp_path, *args, ci="true")
    assert out.returncode == 1, out.stdout + out.stderr
    section = out.stdout.split("kernel/root tests skipped under CI", 1)[1]
    listed = [line for line in section.splitlines() if line.startswith("test_tiny.py::")]
    assert listed == [
        "test_tiny.py::test_uses_pop [kernel]: Skipped: pretend: no sockets here",
        "test_tiny.py::test_marked_root [root]: Skipped: pretend: not root",
    ]
    assert "2 kernel/root test(s) skipped with CI set" in out.stdout
    # The same run outside CI is green: skipping is how a laptop without root copes.
    out = _pytest(tmp_path, *args, ci=None)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "skipped under CI" not in out.stdout
    out = _pytest(tmp_path, *args, ci="false")
    assert out.returncode == 0, out.stdout + out.stderr


def test_ci_without_skips_passes(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "-k", "ok or plain or xfail", "test_tiny.py", ci="1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "skipped under CI" not in out.stdout
