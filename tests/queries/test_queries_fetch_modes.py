"""Django 6.1 fetch modes under the query gate (the scenario project's ``test_fetch_modes.py``).

* a relation or deferred field loaded through ``FETCH_PEERS`` is one batched
  query whatever the row count: never an N+1, with one row or many;
* related managers, ``.count()`` and ``.get()`` are not batched by fetch modes
  and stay N+1s;
* the fix offers ``fetch_mode(models.FETCH_PEERS)`` beside ``select_related``;
* ``--gates-fetch-mode=raise`` makes ``FETCH_RAISE`` the default during tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
import pytest

from tests.helpers import copy_project, gate, load_report, run_pytest, scenario_names

PROJECT = Path(__file__).parent / "nplusone_project"
CATCH = scenario_names(PROJECT / "test_fetch_modes.py", "test_catch_")
OK = scenario_names(PROJECT / "test_fetch_modes.py", "test_ok_")

needs_61 = pytest.mark.skipif(django.VERSION < (6, 1), reason="fetch modes are new in Django 6.1")


def _findings(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for finding in gate(report, "queries")["findings"]:
        found.setdefault(finding["object"].split("::")[-1], []).append(finding)
    return found


@pytest.fixture(scope="module")
def peers_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    project = copy_project(PROJECT, tmp_path_factory.mktemp("peers") / "project")
    result = run_pytest(
        project, "--django-gates", "--gates-report=report.json", "test_fetch_modes.py"
    )
    assert (project / "report.json").exists(), result.stdout + result.stderr
    return result, load_report(project / "report.json")


def test_scenario_lists() -> None:
    assert len(CATCH) >= 5
    assert len(OK) >= 8


@needs_61
@pytest.mark.parametrize("scenario", OK)
def test_peers_loads_are_not_flagged(peers_run: tuple[Any, dict[str, Any]], scenario: str) -> None:
    result, report = peers_run
    assert scenario not in _findings(report), _findings(report)[scenario]
    assert f"test_fetch_modes.py::{scenario} " not in result.stdout.split("short test summary")[-1]


@needs_61
@pytest.mark.parametrize("scenario", CATCH)
def test_loops_fetch_modes_do_not_batch_are_flagged(
    peers_run: tuple[Any, dict[str, Any]], scenario: str
) -> None:
    _, report = peers_run
    findings = _findings(report).get(scenario)
    assert findings, scenario
    assert {f["code"] for f in findings} == {"DJG101"}


@needs_61
def test_fix_offers_fetch_peers_where_it_applies(peers_run: tuple[Any, dict[str, Any]]) -> None:
    _, report = peers_run
    found = _findings(report)
    fk = found["test_catch_fetch_one_fk"][0]
    assert fk["hint"] == (
        "Book.objects.select_related('author'); "
        "or, on Django 6.1+, Book.objects.fetch_mode(models.FETCH_PEERS)"
    )
    deferred = found["test_catch_fetch_one_deferred_field_one_row"][0]
    assert deferred["message"].startswith("latent N+1: 1 x SELECT")
    assert "field: shop.Book.body was deferred" in deferred["message"]
    assert deferred["hint"].startswith("Book.objects.only('body', 'title')")
    assert "FETCH_PEERS" in deferred["hint"]
    # A related manager is not batched by fetch modes: no FETCH_PEERS advice there.
    manager = found["test_catch_peers_related_manager"][0]
    assert manager["hint"] == "Author.objects.prefetch_related('books')"


RAISE_TEST = """
from shop.models import Book


def test_lazy_load_raises(data):
    for book in Book.objects.all():
        book.author.name


def test_select_related_is_fine(data):
    for book in Book.objects.select_related("author"):
        assert book.author.name
"""


@needs_61
def test_fetch_mode_raise_fails_a_lazy_load_at_its_line(tmp_path: Path) -> None:
    project = copy_project(PROJECT, tmp_path / "project")
    (project / "test_raise.py").write_text(RAISE_TEST)
    result = run_pytest(  # -v: the header lists every option and where it came from
        project,
        "--django-gates",
        "--gates-fetch-mode=raise",
        "-p",
        "no:randomly",
        "-v",
        "test_raise.py",
    )
    out = result.stdout
    assert result.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "FieldFetchBlocked: Fetching of Book.author blocked." in out
    assert "test_raise.py:7: " in out  # the lazy load's own line is in the traceback
    assert "queries.fetch_mode = 'raise'  [command line (--gates-fetch-mode)]" in out


@pytest.mark.skipif(django.VERSION >= (6, 1), reason="Django 6.1 has fetch modes")
def test_fetch_mode_raise_is_a_usage_error_before_django_61(tmp_path: Path) -> None:
    project = copy_project(PROJECT, tmp_path / "project")
    result = run_pytest(project, "--django-gates", "--gates-fetch-mode=raise", "test_scenarios.py")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "queries.fetch_mode = 'raise' needs Django 6.1 or newer" in result.stderr
