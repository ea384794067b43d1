"""The demo project's own configuration: every test-time gate runs and looks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import gate, load_report, run_pytest


@pytest.mark.slow
def test_every_test_time_gate_passes_with_the_demo_configuration(demo_copy: Path) -> None:
    result = run_pytest(demo_copy, "--django-gates", "--gates-report", "report.json", "--cov")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = load_report(demo_copy / "report.json")
    assert [g["name"] for g in report["gates"]] == ["queries", "migrations", "deploy", "coverage"]
    assert all(g["status"] == "passed" for g in report["gates"]), report["gates"]
    # production runs PostgreSQL: its lock and rewrite rules apply, not skipped for SQLite
    # (for the oldest PostgreSQL the installed Django supports: 12 for 4.2, 14 for 5.2)
    migrations = gate(report, "migrations")["summary"]
    assert re.search(r"; rules for PostgreSQL 1[2-9]$", migrations), migrations
    assert "skipped" not in migrations
    # the coverage gate checks the demo's floors, it does not pass for want of any
    coverage = gate(report, "coverage")["summary"]
    assert "app floors: core, accounts, catalog" in coverage
    assert "2 files under 1 glob floor" in coverage
    assert "no floors configured" not in coverage


@pytest.mark.slow
def test_an_untested_service_function_fails_the_demo_coverage_floor(demo_copy: Path) -> None:
    services = demo_copy / "apps" / "accounts" / "services.py"
    services.write_text(services.read_text() + "\n\ndef _untested() -> int:\n    return 1\n")
    body_line = len(services.read_text().splitlines())  # `return 1`: the only line not run
    result = run_pytest(demo_copy, "--django-gates", "--gates-report", "report.json", "--cov")
    assert result.returncode == 1, result.stdout[-3000:]
    findings = gate(load_report(demo_copy / "report.json"), "coverage")["findings"]
    where = [(f["object"], f["line"]) for f in findings]
    assert where == [("apps/accounts/services.py", body_line)]
