"""Debian's prometheus and promtool for the exporter tests, fetched by scripts/prometheus.sh."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "prometheus.sh")


@functools.cache
def _fetch() -> tuple[str | None, str]:
    """(directory with the binaries, or None; the reason when None). Fetched once per run."""
    try:
        out = subprocess.run(["bash", SCRIPT], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"scripts/prometheus.sh did not finish: {exc}"
    if out.returncode != 0:
        reason = out.stderr.strip().splitlines()[-1:] or [f"exit {out.returncode}"]
        return None, reason[0]
    return out.stdout.strip().splitlines()[-1], ""


def tool(name: str) -> str:
    """Path of ``prometheus`` or ``promtool``; skips the test, with the reason, when the package
    cannot be fetched."""
    folder, reason = _fetch()
    if folder is None:
        pytest.skip(f"Debian's prometheus package cannot be fetched: {reason}")
    return os.path.join(folder, name)


def promtool(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool; returns the completed process (text output)."""
    return subprocess.run(
        [tool("promtool"), *args],
        input=None if stdin is None else stdin.decode(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def twtop_bin() -> str:
    """The installed ``twtop`` console script (next to the interpreter running the tests)."""
    here = os.path.join(os.path.dirname(sys.executable), "twtop")
    found = here if os.path.exists(here) else shutil.which("twtop")
    if not found:
        pytest.skip("the twtop console script is not installed")
    return found


def scrape(url: str, timeout: float = 10.0) -> str:
    """GET a URL's body as text."""
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body: bytes = r.read()
        return body.decode()


@contextlib.contextmanager
def exporter(*args: str) -> Iterator[str]:
    """``twtop export ARGS`` on a free loopback port; yields its base URL once it answers."""
    port = free_port()
    proc = subprocess.Popen(
        [twtop_bin(), "export", "--web.listen-address", f"127.0.0.1:{port}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TWTOP_CONFIG": "/nonexistent/twtop.toml"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                scrape(base + "/", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out, err = proc.communicate(timeout=5)
                    raise AssertionError(f"twtop export did not start: {err}") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
