"""The ``indexes`` gate (DJG120 filter, DJG121 join, DJG122 ORDER BY with LIMIT), end to end.

The scenario project ``indexes_project`` has one service per case, each run by
one test: must-flag (an unindexed filter, from a service and from a view; ORDER
BY with LIMIT on an unindexed column; a join on a foreign key with
``db_index=False``; the second column of a composite index, and of a unique
constraint, which PostgreSQL reads with a full scan of the constraint's index; a
value a partial index does not cover; a range filter) and must-not-flag (a foreign
key, a unique constraint, both columns of one, ``__icontains``, the leading columns
of a composite index,
the value a partial index covers, an indexed ORDER BY, ORDER BY without LIMIT,
a boolean filter, two deliberately small tables, the test's own query). The
same findings come out on SQLite, on PostgreSQL and under pytest-xdist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates.indexes.judge import skip_scan_note
from pytest_django_gates.indexes.plan import Index, Plan, pg_plan
from tests.helpers import copy_project, gate, load_report, run_pytest

PROJECT = Path(__file__).resolve().parent / "indexes_project"

# (code, field, path, line, test) of every finding.
EXPECTED = {
    ("DJG120", "Author.name", "catalog/services.py", 5, "test_filter_unindexed"),
    ("DJG122", "Book.published", "catalog/services.py", 9, "test_order_by_with_limit_unindexed"),
    ("DJG121", "Book.editor", "catalog/services.py", 17, "test_join_on_unindexed_foreign_key"),
    (
        "DJG120",
        "Author.city",
        "catalog/services.py",
        37,
        "test_composite_index_does_not_serve_its_second_column",
    ),
    (
        "DJG120",
        "Book.status",
        "catalog/services.py",
        45,
        "test_partial_index_does_not_serve_other_values",
    ),
    ("DJG120", "Book.price", "catalog/services.py", 49, "test_range_filter_unindexed"),
    ("DJG120", "Issue.number", "catalog/services.py", 89, "test_unique_constraint_second_column"),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(PROJECT, tmp_path / "indexes_project")


def _run(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    proc = run_pytest(root, "--django-gates", "--gates-report=report.json", *args, env=env)
    report = load_report(root / "report.json")
    return proc.returncode, gate(report, "indexes"), proc.stdout + proc.stderr


def _found(indexes: dict[str, Any]) -> set[tuple[str, str, str, int, str]]:
    return {
        (
            f["code"],
            f["message"].split("missing index on ", 1)[1].split(" ", 1)[0],
            f["path"],
            f["line"],
            f["object"].split("::")[1],
        )
        for f in indexes["findings"]
    }


def _finding(indexes: dict[str, Any], code: str, field: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        f
        for f in indexes["findings"]
        if f["code"] == code and f["message"].startswith(f"missing index on {field} ")
    ]
    assert len(found) == 1, found
    return found[0]


def _check_default_run(code: int, indexes: dict[str, Any], out: str, vendor: str) -> None:
    assert code == 0, out
    assert "19 passed" in out, out
    assert _found(indexes) == EXPECTED, out
    assert {f["severity"] for f in indexes["findings"]} == {"warning"}
    assert indexes["status"] == "passed"
    assert f"explained on {vendor}" in indexes["summary"]
    name = _finding(indexes, "DJG120", "Author.name")
    # The same missing index, from a service and from a view: one finding, both lines.
    assert "run at catalog/services.py:5, catalog/urls.py:8" in name["message"]
    assert 'FROM "catalog_author" WHERE "catalog_author"."name" = ?' in name["message"]
    assert name["hint"].startswith(
        "add db_index=True to Author.name (catalog/models.py:4), then makemigrations"
    )
    concurrently = "AddIndexConcurrently (django.contrib.postgres.operations)" in name["hint"]
    assert concurrently == (vendor == "postgresql")
    order = _finding(indexes, "DJG122", "Book.published")
    assert 'ORDER BY "catalog_book"."published" DESC LIMIT 5' in order["message"]
    join = _finding(indexes, "DJG121", "Book.editor")
    assert "joins on editor_id" in join["message"]
    status = _finding(indexes, "DJG120", "Book.status")
    # Only the line that ran the value the partial index leaves out.
    assert "run at catalog/services.py:45\n" in status["message"] + "\n"
    # PostgreSQL searches the constraint's index for its second column (an Index Cond
    # on "number" alone): a full index scan, said with PostgreSQL 18's skip-scan caveat.
    number = _finding(indexes, "DJG120", "Issue.number")
    walked = (
        "PostgreSQL scans the whole index issue_series_number (series, number): the query "
        "has no condition on its leading column series"
    )
    assert (walked in number["message"]) == (vendor == "postgresql"), number["message"]
    if vendor == "postgresql":
        assert "18+ may skip-scan it" in number["message"]
        assert "cheap only when series has few distinct values" in number["message"]


def test_sqlite_flags_exactly_the_missing_indexes(project: Path) -> None:
    code, indexes, out = _run(project)
    _check_default_run(code, indexes, out, "sqlite")


def test_postgresql_flags_exactly_the_missing_indexes(project: Path, postgres_db: str) -> None:
    code, indexes, out = _run(project, env={"INDEXES_DATABASE_URL": postgres_db})
    _check_default_run(code, indexes, out, "postgresql")


def test_xdist_workers_explain_on_their_own_databases_and_merge(project: Path) -> None:
    code, indexes, out = _run(project, "-n", "2")
    _check_default_run(code, indexes, out, "sqlite")


def test_xdist_on_postgresql(project: Path, postgres_db: str) -> None:
    code, indexes, out = _run(project, "-n", "2", env={"INDEXES_DATABASE_URL": postgres_db})
    _check_default_run(code, indexes, out, "postgresql")


def test_fail_mode_fails_the_run_not_the_tests(project: Path) -> None:
    code, indexes, out = _run(project, "--gates-indexes=fail")
    assert code == 1, out
    assert "19 passed" in out
    assert indexes["status"] == "failed"
    assert {f["severity"] for f in indexes["findings"]} == {"error"}
    assert _found(indexes) == EXPECTED


def test_a_run_cut_short_still_explains_what_ran(project: Path) -> None:
    # -x stops after the second test: no last teardown; the session's end explains.
    code, indexes, out = _run(project, "-x", env={"INDEXES_FAIL_EARLY": "1"})
    assert code == 1, out
    assert "1 failed, 1 passed" in out, out
    assert indexes["status"] == "error"  # an incomplete run is never a pass
    assert indexes["summary"].startswith("incomplete: 2 of 21 tests ran"), indexes["summary"]
    assert {f[1] for f in _found(indexes)} == {"Author.name", "Book.price"}, out


def test_off_skips_and_the_gate_is_opt_in(project: Path) -> None:
    _, indexes, _ = _run(project, "--gates-indexes=off")
    assert indexes["status"] == "skipped"
    assert indexes["findings"] == []
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('gates = ["queries", "indexes"]\n', ""))
    proc = run_pytest(project, "--django-gates", "--gates-report=report.json")
    names = [g["name"] for g in load_report(project / "report.json")["gates"]]
    assert "indexes" not in names, proc.stdout
    assert "queries" in names


def test_small_tables_come_from_the_config_and_the_model_marker(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'small_tables = ["catalog.Genre"]', 'small_tables = ["catalog.Author"]'
        )
    )
    _, indexes, out = _run(project, "-k", "small or test_filter_unindexed or city")
    # Author is small now; Genre is not: its name filter is a finding. Country keeps
    # its django_gates_small_table marker.
    assert {f[1] for f in _found(indexes)} == {"Genre.name"}, out


def test_a_statement_that_cannot_be_explained_is_an_error(project: Path) -> None:
    code, indexes, out = _run(project, "-k", "gone_at_the_end", env={"INDEXES_EXPLAIN_ERROR": "1"})
    assert code == 1, out
    assert indexes["status"] == "error"
    assert "could not look: EXPLAIN failed for SELECT" in indexes["summary"]
    assert "scratch" in indexes["summary"]


def test_a_simple_test_case_last_does_not_stop_the_explain(project: Path) -> None:
    """The explain runs after the last test's class teardown: a unittest SimpleTestCase,
    which forbids queries until its tearDownClass, may be the session's last test."""
    (project / "test_zz_simple.py").write_text(
        "from django.test import SimpleTestCase\n\n\n"
        "class LastOfAll(SimpleTestCase):\n"
        "    def test_no_database(self):\n"
        "        self.assertTrue(True)\n"
    )
    code, indexes, out = _run(project, "-p", "no:randomly")
    assert code == 0, out
    assert "20 passed" in out, out
    assert indexes["status"] == "passed", indexes["summary"]
    assert _found(indexes) == EXPECTED, out


def test_in_lists_of_several_lengths_are_explained_with_their_own_parameters(
    project: Path,
) -> None:
    """One shape, ``IN (...)`` of 2 then 3 values on a column with a partial index: each
    text keeps only its own parameters (a mix was an EXPLAIN with the wrong number of
    bindings, seen on django-allauth)."""
    (project / "test_in_lists.py").write_text(
        "from catalog import services\n\n\n"
        "def test_in_lists(db):\n"
        "    services.books_in_states(['sold', 'lost'])\n"
        "    services.books_in_states(['sold', 'lost', 'gone'])\n"
        "    services.books_in_states(['kept', 'lent'])\n"
    )
    code, indexes, out = _run(project, "test_in_lists.py")
    assert code == 0, out
    assert indexes["status"] == "passed", indexes["summary"]
    assert _found(indexes) == {
        ("DJG120", "Book.status", "catalog/services.py", 84, "test_in_lists")
    }, out


# PostgreSQL's plans, read without a database: which index a scan used, and whether its
# condition names the index's leading column.

_INDEXES = [
    Index("issue_pkey", ("id",), False),
    Index("issue_series_number", ("series", "number"), False),
    Index("issue_number", ("number",), False),
]


def _pg(node: dict[str, Any]) -> Plan:
    return pg_plan([{"Plan": node}], {"catalog_issue": "catalog_issue"})


def _bitmap(*scans: dict[str, Any], combine: str = "") -> dict[str, Any]:
    children: list[dict[str, Any]] = list(scans)
    if combine:
        children = [{"Node Type": combine, "Plans": children}]
    return {
        "Node Type": "Bitmap Heap Scan",
        "Relation Name": "catalog_issue",
        "Alias": "catalog_issue",
        "Plans": children,
    }


def _scan(index: str, cond: str | None, kind: str = "Bitmap Index Scan") -> dict[str, Any]:
    node: dict[str, Any] = {"Node Type": kind, "Index Name": index}
    if kind != "Bitmap Index Scan":
        node.update({"Relation Name": "catalog_issue", "Alias": "catalog_issue"})
    if cond is not None:
        node["Index Cond"] = cond
    return node


@pytest.mark.parametrize(
    ("node", "served", "walked"),
    [
        # The second column of (series, number) alone: every leaf page of the index.
        (_bitmap(_scan("issue_series_number", "(number = 3)")), False, "issue_series_number"),
        (_scan("issue_series_number", "(number = 3)", "Index Scan"), False, "issue_series_number"),
        (
            _scan("issue_series_number", "(number = 3)", "Index Only Scan"),
            False,
            "issue_series_number",
        ),
        # The leading column has a condition, or the index leads with the column.
        (
            _bitmap(_scan("issue_series_number", "((series)::text = 'a'::text)")),
            True,
            None,
        ),
        (_bitmap(_scan("issue_number", "(number = 3)")), True, None),
        (_scan("issue_pkey", "(id = 3)", "Index Scan"), True, None),
        # Several indexes combined: not judged (as before).
        (
            _bitmap(
                _scan("issue_series_number", "(number = 3)"),
                _scan("issue_pkey", "(id = 3)"),
                combine="BitmapAnd",
            ),
            True,
            None,
        ),
    ],
)
def test_postgresql_plans_tell_a_full_index_scan(
    node: dict[str, Any], served: bool, walked: str | None
) -> None:
    plan = _pg(node)
    assert plan.served("catalog_issue", _INDEXES) is served
    found = plan.free_leading("catalog_issue", _INDEXES)
    assert (found.name if found else None) == walked


def test_the_skip_scan_note_names_the_leading_column() -> None:
    note = skip_scan_note(_INDEXES[1])
    assert note.startswith("PostgreSQL scans the whole index issue_series_number (series, number)")
    assert "no condition on its leading column series" in note
    assert "PostgreSQL 18+ may skip-scan it instead" in note
    assert "cheap only when series has few distinct values" in note
