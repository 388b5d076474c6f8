"""contrib/: alert rules pass promtool unit tests, dashboard queries parse, the unit verifies."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from typing import Any

import pytest

from tests.promtools import ROOT, promtool, twtop_bin
from tests.ui.fakes import make_snapshot
from twtop.prom import TCPEXT_HELP, counter_name, render_snapshot

RULES = os.path.join(ROOT, "contrib", "prometheus", "twtop.rules.yml")
RULE_TESTS = os.path.join(ROOT, "contrib", "prometheus", "twtop.rules.test.yml")
DASHBOARD = os.path.join(ROOT, "contrib", "grafana", "twtop.json")
UNIT = os.path.join(ROOT, "contrib", "systemd", "twtop-exporter.service")


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def known_metrics() -> set[str]:
    """Every metric name twtop can expose (the exporter's own three included)."""
    text = render_snapshot(make_snapshot(1)).decode()
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    names |= {counter_name(k) + "_total" for k in TCPEXT_HELP}
    return names | {"twtop_up", "twtop_collections_total", "twtop_collection_errors_total"}


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\btwtop_[a-z0-9_]+\b", expr))


def test_rules_check_and_unit_tests_pass() -> None:
    out = promtool("check", "rules", RULES)
    assert out.returncode == 0, out.stdout + out.stderr
    out = promtool("test", "rules", RULE_TESTS)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_alert_is_unit_tested_with_a_runbook_and_known_metrics() -> None:
    rules = read(RULES)
    alerts = re.findall(r"^\s*- alert: (\w+)$", rules, re.M)
    assert len(alerts) == 6
    tested = set(re.findall(r"alertname: (\w+)", read(RULE_TESTS)))
    assert set(alerts) == tested
    assert rules.count("runbook: ") == len(alerts)
    exprs = re.findall(r"^\s*expr: (.+)$", rules, re.M)
    used = set().union(*(metric_names(e) for e in exprs))
    assert used and used <= known_metrics(), used - known_metrics()


def dashboard_exprs() -> list[str]:
    doc: dict[str, Any] = json.loads(read(DASHBOARD))
    assert doc["uid"] and doc["panels"] and doc["schemaVersion"] >= 30
    exprs = [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]
    assert len({p["id"] for p in doc["panels"]}) == len(doc["panels"])  # ids are unique
    return exprs


def test_dashboard_queries_parse_and_use_known_metrics(tmp_path: Any) -> None:
    exprs = dashboard_exprs()
    assert len(exprs) >= 10
    used = set().union(*(metric_names(e) for e in exprs))
    assert used <= known_metrics(), used - known_metrics()
    # promtool parses PromQL in rule files: wrap each query, Grafana's variables made concrete.
    lines = ["groups:", "  - name: dashboard", "    rules:"]
    for i, expr in enumerate(exprs):
        concrete = expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
        assert "$" not in concrete, expr
        lines += [
            f"      - record: twtop_dashboard:expr_{i}",
            f"        expr: {json.dumps(concrete)}",
        ]
    path = os.path.join(str(tmp_path), "dashboard.rules.yml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = promtool("check", "rules", path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in out.stdout


def test_systemd_unit_verifies(tmp_path: Any) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = read(UNIT)
    assert "--web.listen-address=127.0.0.1:9489" in unit  # loopback unless the admin edits it
    # verify checks that ExecStart exists: point it at the twtop under test
    path = os.path.join(str(tmp_path), "twtop-exporter.service")
    with open(path, "w") as f:
        f.write(unit.replace("/usr/local/bin/twtop", twtop_bin()))
    out = subprocess.run([analyze, "verify", path], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not out.stderr.strip(), out.stdout + out.stderr
