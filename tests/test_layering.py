"""The engine imports no UI; import-linter's contracts hold."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

ROOT = __file__.rsplit("/tests/", 1)[0]


def test_engine_does_not_import_textual() -> None:
    code = (
        "import sys, twtop, twtop.collector, twtop.cli, twtop.report, twtop.filter\n"
        "import twtop.explain, twtop.advisor\n"
        "ui = ('textual', 'rich', 'tui', 'widgets')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ui]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_import_linter_contracts() -> None:
    here = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    lint = here if os.path.exists(here) else shutil.which("lint-imports")
    if lint is None:
        pytest.skip("import-linter is not installed")
    # An unprivileged run of a root-owned tree cannot write the cache: keep none then.
    cache = [] if os.access(ROOT, os.W_OK) else ["--no-cache"]
    out = subprocess.run([lint, *cache], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_public_names_resolve() -> None:
    import twtop

    for name in twtop.__all__:
        assert getattr(twtop, name) is not None, name
