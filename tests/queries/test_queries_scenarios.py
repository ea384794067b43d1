"""N+1 detection end to end: the scenario project, run by real pytest processes.

Every ``test_catch_*`` scenario must produce a DJG101 finding and fail; every
``test_ok_*`` scenario must pass without one; every ``test_input_*`` scenario (a
loop over the input, not over rows) must pass with DJG110 warnings only. The same
holds with pytest-xdist (``-n 2``) and on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
import pytest

from tests.helpers import copy_project, gate, load_report, run_pytest, scenario_names

PROJECT = Path(__file__).parent / "nplusone_project"
CATCH = scenario_names(PROJECT / "test_scenarios.py", "test_catch_")
OK = scenario_names(PROJECT / "test_scenarios.py", "test_ok_")
INPUT = scenario_names(PROJECT / "test_scenarios.py", "test_input_")


def _run(tmp: Path, *args: str, env: dict[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    project = copy_project(PROJECT, tmp / "project")
    result = run_pytest(project, "--django-gates", "--gates-report", "report.json", *args, env=env)
    assert (project / "report.json").exists(), result.stdout + result.stderr
    return result, load_report(project / "report.json")


@pytest.fixture(scope="module")
def sqlite_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    return _run(tmp_path_factory.mktemp("sqlite"))


def _by_test(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for finding in gate(report, "queries")["findings"]:
        found.setdefault(finding["object"].split("::")[-1], []).append(finding)
    return found


def test_scenario_lists_are_not_empty() -> None:
    assert len(CATCH) >= 20
    assert len(OK) >= 14


@pytest.mark.parametrize("scenario", CATCH)
def test_catches(sqlite_run: tuple[Any, dict[str, Any]], scenario: str) -> None:
    result, report = sqlite_run
    findings = _by_test(report).get(scenario)
    assert findings, f"{scenario} was not caught\n{result.stdout[-3000:]}"
    assert {f["code"] for f in findings} == {"DJG101"}
    assert all(f["severity"] == "error" for f in findings)
    assert f"FAILED test_scenarios.py::{scenario} " in result.stdout


@pytest.mark.parametrize("scenario", INPUT)
def test_input_loops_are_warnings(sqlite_run: tuple[Any, dict[str, Any]], scenario: str) -> None:
    result, report = sqlite_run
    findings = _by_test(report).get(scenario)
    assert findings, f"{scenario} was not reported\n{result.stdout[-3000:]}"
    assert {(f["code"], f["severity"]) for f in findings} == {("DJG110", "warning")}, findings
    assert f"test_scenarios.py::{scenario} " not in result.stdout.split("short test summary")[-1]


def test_a_create_per_input_item_is_a_write_warning_not_an_n_plus_one(
    sqlite_run: tuple[Any, dict[str, Any]],
) -> None:
    """get_or_create per item of the input, creating each: the SAVEPOINT and RELEASE at
    the SELECT's line do not use up its judging (they did: a DJG101 error). The SELECT
    per item is DJG110, the INSERT per item DJG107: two warnings, the test passes."""
    result, report = sqlite_run
    scenario = "test_created_names_of_a_request_body"
    findings = _by_test(report).get(scenario)
    assert findings, result.stdout[-3000:]
    assert {(f["code"], f["severity"]) for f in findings} == {
        ("DJG107", "warning"),
        ("DJG110", "warning"),
    }, findings
    assert f"test_scenarios.py::{scenario} " not in result.stdout.split("short test summary")[-1]


@pytest.mark.parametrize("scenario", OK)
def test_does_not_flag(sqlite_run: tuple[Any, dict[str, Any]], scenario: str) -> None:
    result, report = sqlite_run
    assert scenario not in _by_test(report), _by_test(report).get(scenario)
    assert f"test_scenarios.py::{scenario} " not in result.stdout.split("short test summary")[-1]


def test_gate_fails_and_pytest_exits_1(sqlite_run: tuple[Any, dict[str, Any]]) -> None:
    result, report = sqlite_run
    assert result.returncode == 1
    queries = gate(report, "queries")
    assert queries["status"] == "failed"
    assert report["format"] == 1
    assert report["tool"]["name"] == "pytest-django-gates"


def test_message_leads_with_count_shape_and_user_line(
    sqlite_run: tuple[Any, dict[str, Any]],
) -> None:
    _, report = sqlite_run
    fk = _by_test(report)["test_catch_fk_in_service"][0]
    assert fk["message"].startswith('N+1: 3 x SELECT "shop_author"."id"')
    assert " at shop/services.py:10 (in author_names" in fk["message"].splitlines()[0]
    assert (fk["path"], fk["line"]) == ("shop/services.py", 10)
    assert "relation: shop.Book.author (foreign key)" in fk["message"]
    expected = "Book.objects.select_related('author')"
    if django.VERSION >= (6, 1):
        expected += "; or, on Django 6.1+, Book.objects.fetch_mode(models.FETCH_PEERS)"
    assert fk["hint"] == expected
    assert fk["object"] == "test_scenarios.py::test_catch_fk_in_service"


@pytest.mark.parametrize(
    ("scenario", "hint"),
    [
        ("test_catch_m2m", "Book.objects.prefetch_related('tags')"),
        ("test_catch_reverse_fk", "Author.objects.prefetch_related('books')"),
        ("test_catch_reverse_one_to_one", "Author.objects.select_related('profile')"),
        ("test_catch_generic_fk", "Note.objects.prefetch_related('target')"),
        ("test_catch_count_in_loop", "Count('books')"),
        ("test_catch_deferred_field", "Book.objects.only('body', 'title')"),
        ("test_catch_fk_on_only_queryset", "Book.objects.only('author', 'title').select_related("),
        (
            "test_catch_filtered_read_per_row",
            "Prefetch('reviews', queryset=Review.objects.filter(...).order_by(...)",
        ),
        ("test_catch_library_serializer_per_row", "Book.objects.select_related('author')"),
        ("test_catch_model_method_in_template_loop", "Review.objects.select_related('book')"),
        ("test_catch_filter_on_prefetched", "Prefetch('reviews'"),
        ("test_catch_prefetch_per_instance", "once on the whole list"),
        ("test_catch_get_in_loop", ".in_bulk(ids)"),
        ("test_catch_raw_cursor_in_loop", "ANY(%s)"),
    ],
)
def test_fix_names_the_relation(
    sqlite_run: tuple[Any, dict[str, Any]], scenario: str, hint: str
) -> None:
    _, report = sqlite_run
    assert hint in _by_test(report)[scenario][0]["hint"]


def test_latent_n_plus_one_with_one_row(sqlite_run: tuple[Any, dict[str, Any]]) -> None:
    _, report = sqlite_run
    latent = _by_test(report)["test_catch_latent_single_row"][0]
    assert latent["message"].startswith("latent N+1: 1 x SELECT")
    assert "runs once per row in production" in latent["message"]


def test_template_and_async_locations_are_user_code(
    sqlite_run: tuple[Any, dict[str, Any]],
) -> None:
    _, report = sqlite_run
    by_test = _by_test(report)
    template = by_test["test_catch_template_loop"][0]
    assert (template["path"], template["line"]) == ("shop/templates/shop/books.html", 3)
    assert "rendered for shop/urls.py:18 (in books_template)" in template["message"]
    async_view = by_test["test_catch_async_view"][0]
    assert async_view["path"] == "shop/urls.py", async_view
    assert "asgiref" not in async_view["message"]
    assert "concurrent" not in async_view["message"]
    other = by_test["test_catch_other_alias"][0]
    assert "database: other" in other["message"]


def test_shared_rows_library_loops_and_looped_requests(
    sqlite_run: tuple[Any, dict[str, Any]],
) -> None:
    """Issue 21's misses: rows sharing one author, a library's loop over its own queryset
    with one row, requests made from the test's loop."""
    _, report = sqlite_run
    by_test = _by_test(report)
    shared = by_test["test_catch_rows_sharing_one_author"][0]
    assert shared["message"].startswith('N+1: 3 x SELECT "shop_author"."id"')
    assert "relation: shop.Book.author (foreign key) loaded once per row" in shared["message"]
    view = by_test["test_catch_library_list_view_one_row"][0]
    assert view["message"].startswith('latent N+1: 1 x SELECT "shop_author"."id"')
    assert (view["path"], view["line"]) == ("shop/middleware.py", 12)
    admin = by_test["test_catch_admin_list_display_one_row"][0]
    assert admin["message"].startswith('latent N+1: 1 x SELECT "shop_book"."id"')
    assert (admin["path"], admin["line"]) == ("shop/templates/shop/titles.html", 1)
    assert "rendered for shop/admin.py:15 (in titles)" in admin["message"]
    assert admin["hint"] == "Author.objects.prefetch_related('books')"
    looped = by_test["test_catch_posts_from_a_test_loop"][0]
    assert looped["message"].startswith('N+1: 3 x SELECT "shop_author"."id"')
    assert (looped["path"], looped["line"]) == ("shop/urls.py", 51)


def _keys(report: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {
        (f["code"], f["object"], f["path"], f["line"], f["severity"])
        for f in gate(report, "queries")["findings"]
    }


@pytest.mark.slow
def test_xdist_gives_the_same_report(
    sqlite_run: tuple[Any, dict[str, Any]], tmp_path: Path
) -> None:
    result, report = _run(tmp_path, "-n", "2")
    assert "2 workers" in result.stdout or "gw1" in result.stdout, result.stdout[-2000:]
    assert _keys(report) == _keys(sqlite_run[1])
    assert gate(report, "queries")["summary"] == gate(sqlite_run[1], "queries")["summary"]


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_gives_the_same_findings(
    sqlite_run: tuple[Any, dict[str, Any]],
    tmp_path: Path,
    postgres_server: dict[str, object],
) -> None:
    url = f"postgres://{postgres_server['user']}@{postgres_server['host']}:{postgres_server['port']}/djg_scenarios"
    result, report = _run(tmp_path, env={"DATABASE_URL": url})
    assert "postgresql" in result.stdout or result.returncode == 1
    assert _keys(report) == _keys(sqlite_run[1]), result.stdout[-3000:]


def test_message_names_where_the_rows_came_from_and_the_template_loop(
    sqlite_run: tuple[Any, dict[str, Any]],
) -> None:
    _, report = sqlite_run
    by_test = _by_test(report)
    fk = by_test["test_catch_fk_loop"][0]
    assert (
        "rows: the Book queryset evaluated at shop/services.py:23 (in book_author_names)"
        in (fk["message"])
    )
    method = by_test["test_catch_latent_model_method_in_template_loop"][0]
    assert method["message"].startswith("latent N+1: 1 x SELECT")
    assert (method["path"], method["line"]) == ("shop/models.py", 33)
    assert "called from template shop/templates/shop/reviews.html:3" in method["message"]


# A hint, pasted in place of the queryset, must run and remove the N+1: each is
# evaluated in the scenario project and its rows read under a query limit.
APPLY_HINTS = {
    "test_catch_fk_loop": "row.author.name",
    "test_catch_fk_on_only_queryset": "row.author.name",
    "test_catch_deferred_field": "row.body",
    "test_catch_reverse_fk": "list(row.books.all())",
    "test_catch_m2m": "list(row.tags.all())",
    "test_catch_reverse_one_to_one": "row.profile.bio",
    "test_catch_generic_fk": "row.target.pk",
    "test_catch_model_method_in_template_loop": "str(row)",
}

HINT_TEST = """
import pytest
from django.db import models
from django.db.models import Prefetch
from shop.models import Author, Book, Note, Profile, Review, Tag

CASES = {cases!r}


@pytest.mark.parametrize("expr, read", CASES, ids=[c[0] for c in CASES])
def test_hint(data, expr, read, django_assert_max_num_queries):
    queryset = eval(expr)
    with django_assert_max_num_queries(2):
        rows = list(queryset)
        assert len(rows) == 3
        for row in rows:
            eval(read)
"""


def test_hints_work_when_pasted(sqlite_run: tuple[Any, dict[str, Any]], tmp_path: Path) -> None:
    _, report = sqlite_run
    by_test = _by_test(report)
    cases: list[tuple[str, str]] = []
    for scenario, read in APPLY_HINTS.items():
        for alternative in by_test[scenario][0]["hint"].split("; or, on Django 6.1+, "):
            cases.append((alternative.strip(), read))
    assert len(cases) >= len(APPLY_HINTS)
    project = copy_project(PROJECT, tmp_path / "project")
    (project / "test_hints.py").write_text(HINT_TEST.format(cases=cases))
    result = run_pytest(project, "test_hints.py", "-p", "no:randomly")
    assert result.returncode == 0, result.stdout[-4000:]
    assert f"{len(cases)} passed" in result.stdout
