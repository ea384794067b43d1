"""The real demo project under ``pytest --django-gates``: clean suite passes, examples fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import gate, load_report, run_pytest

QUERIES_ONLY = {"DJANGO_GATES_GATES": "queries"}


def _run(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[Any, dict[str, Any]]:
    result = run_pytest(
        project, "--django-gates", "--gates-report", "report.json", *args, env=env or QUERIES_ONLY
    )
    report = project / "report.json"
    assert report.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    return result, load_report(report)


def _keys(report: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {
        (f["code"], f["object"], f["path"], f["line"]) for f in gate(report, "queries")["findings"]
    }


@pytest.mark.slow
def test_demo_suite_passes_the_query_gate(demo_copy: Path) -> None:
    result, report = _run(demo_copy)
    assert result.returncode == 0, result.stdout[-3000:]
    queries = gate(report, "queries")
    assert queries["status"] == "passed", queries
    assert queries["findings"] == []
    assert queries["summary"].startswith("45 tests checked")


@pytest.mark.slow
def test_demo_suite_with_xdist_gives_the_same_report(demo_copy: Path) -> None:
    serial = _run(demo_copy)[1]
    result, parallel = _run(demo_copy, "-n", "2")
    assert result.returncode == 0, result.stdout[-3000:]
    assert gate(parallel, "queries") == gate(serial, "queries")


@pytest.mark.slow
def test_demo_examples_fail_the_way_a_user_sees_it(demo_copy: Path) -> None:
    result, report = _run(demo_copy, "examples/")
    assert result.returncode == 1
    findings = gate(report, "queries")["findings"]
    by_code = {f["code"]: f for f in findings}
    assert set(by_code) == {"DJG101", "DJG102"}, findings
    n1 = by_code["DJG101"]
    assert n1["object"] == "examples/test_gate_failures.py::test_n_plus_one_is_reported"
    assert n1["path"] == "examples/naive_services.py"
    assert n1["message"].startswith("N+1: 5 x SELECT")
    assert "select_related('author')" in n1["hint"]
    assert by_code["DJG102"]["object"].endswith("::test_query_budget_is_exceeded")
    assert "ran 3 (+2)" in by_code["DJG102"]["message"]
    assert "1 passed" in result.stdout
    assert "2 failed" in result.stdout


@pytest.mark.slow
@pytest.mark.postgres
def test_demo_suite_on_postgresql(demo_copy: Path, postgres_server: dict[str, object]) -> None:
    url = f"postgres://{postgres_server['user']}@{postgres_server['host']}:{postgres_server['port']}/djg_demo"
    result, report = _run(demo_copy, env={**QUERIES_ONLY, "DATABASE_URL": url})
    assert result.returncode == 0, result.stdout[-3000:]
    assert gate(report, "queries")["status"] == "passed"
