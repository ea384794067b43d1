"""``django-gates fix`` on the query gate's N+1 findings, on the scenario project: each
fix is proven by re-running exactly the tests the finding names, with and without the
gate, and an edit that does not remove the repeated statement is reverted."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import copy_project, gate, git, load_report, run, run_pytest
from tests.migrations.migrations_support import cli

PROJECT = Path(__file__).parent.parent / "queries" / "nplusone_project"
SCENARIOS = [
    "test_catch_fk_loop",  # a foreign key read per row: select_related
    "test_catch_m2m",  # a many-to-many read per row: prefetch_related
    "test_catch_count_in_loop",  # a count per row: an annotation, no recipe
    "test_catch_fk_of_deleted_rows_by_recorders",  # select_related does not reach it
    "test_catch_library_serializer_per_row",  # the rows are built in the test file
    "test_ok_select_related",  # must not flag: never touched
]


def test_n_plus_ones_are_fixed_where_the_rows_are_built_and_proven(tmp_path: Path) -> None:
    root = copy_project(PROJECT, tmp_path / "project")
    (root / ".gitignore").write_text("*.sqlite3\n__pycache__/\nreport.json\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "scenarios")
    selected = " or ".join(SCENARIOS)
    first = run_pytest(root, "--django-gates", "--gates-report", "report.json", "-k", selected)
    assert first.returncode == 1, first.stdout
    services = (root / "shop/services.py").read_text(encoding="utf-8")

    proc = cli(
        ["--project", str(root), "fix", "--only", "queries", "--from-report", "report.json"],
        cwd=root,
    )

    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr  # some findings are left, with why
    assert (
        "fixed     DJG101 test_scenarios.py::test_catch_fk_loop (shop/services.py:24): "
        'Book.objects.select_related("author") at shop/services.py:23; proven: 1 test(s) pass'
    ) in out
    assert "fixed     DJG101 test_scenarios.py::test_catch_m2m" in out
    assert 'Book.objects.prefetch_related("tags") at shop/services.py:34' in out
    assert "not fixed DJG101 test_scenarios.py::test_catch_count_in_loop" in out
    assert "hint: Author.objects.annotate(books_count=Count('books'))" in out
    assert "not fixed DJG101 test_scenarios.py::test_catch_fk_of_deleted_rows_by_recorders" in out
    assert "reverted: the query gate still reports it" in out
    assert "the rows are built in the test file test_scenarios.py" in out
    after = (root / "shop/services.py").read_text(encoding="utf-8").splitlines()
    before = services.splitlines()
    assert after[22] == '    for book in Book.objects.select_related("author"):'
    assert after[33] == '    for book in Book.objects.prefetch_related("tags"):'
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [22, 33]  # the reverted edit left no trace
    assert git(root, "status", "--porcelain") == " M shop/services.py\n"

    # The fixed scenarios now pass under the gate, and the report no longer names them.
    again = run_pytest(
        root,
        "--django-gates",
        "--gates-report",
        "again.json",
        "-k",
        "test_catch_fk_loop or test_catch_m2m",
    )
    assert again.returncode == 0, again.stdout
    assert gate(load_report(root / "again.json"), "queries")["findings"] == []


def test_a_finding_whose_test_fails_before_the_edit_is_left_alone(tmp_path: Path) -> None:
    """The proof needs the tests to pass first: a finding whose test fails for another
    reason is not fixed, and its file is not touched."""
    root = copy_project(PROJECT, tmp_path / "project")
    run(["git", "init", "-q", "-b", "main"], root)
    report = run_pytest(
        root, "--django-gates", "--gates-report", "report.json", "-k", "test_catch_fk_loop"
    )
    assert report.returncode == 1
    test_file = root / "test_scenarios.py"
    test_file.write_text(
        test_file.read_text(encoding="utf-8").replace(
            "assert len(services.book_author_names()) == 3",
            "assert len(services.book_author_names()) == 4",
        ),
        encoding="utf-8",
    )
    services = (root / "shop/services.py").read_bytes()

    proc = cli(
        [
            "--project",
            str(root),
            "fix",
            "--only",
            "queries",
            "--from-report",
            "report.json",
            "--allow-dirty",
        ],
        cwd=root,
    )

    assert proc.returncode == 1
    assert "not fixed DJG101 test_scenarios.py::test_catch_fk_loop" in proc.stdout
    assert "its tests fail before any edit: FAILED test_scenarios.py::test_catch_fk_loop" in (
        proc.stdout
    )
    assert (root / "shop/services.py").read_bytes() == services


REPORTS = """\
from shop.models import Book
from shop.services import author_names


def author_report():
    return author_names(Book.objects.order_by("pk"))
"""

TEST_REPORTS = """\
from shop.reports import author_report


def test_author_report(data):
    assert len(author_report()) == 3
"""


def test_rows_passed_into_a_helper_are_fixed_where_the_caller_builds_them(
    tmp_path: Path,
) -> None:
    """``author_names(queryset)`` loops over what it is given: the fix goes to the
    queryset its caller builds (the next frame of the call path), in that file; when the
    caller is the test itself, the rows are the test's and nothing is edited."""
    root = copy_project(PROJECT, tmp_path / "project")
    (root / "shop/reports.py").write_text(REPORTS, encoding="utf-8")
    (root / "test_reports.py").write_text(TEST_REPORTS, encoding="utf-8")
    (root / ".gitignore").write_text("*.sqlite3\n__pycache__/\n*.json\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "scenarios")
    # The same rows line reached from the test's own queryset: the test's rows.
    first = run_pytest(
        root, "--django-gates", "--gates-report", "own.json", "-k", "test_catch_fk_in_service"
    )
    assert first.returncode == 1, first.stdout
    fix = ["--project", str(root), "fix", "--only", "queries", "--from-report"]
    proc = cli([*fix, "own.json"], cwd=root)
    assert (
        "not fixed DJG101 test_scenarios.py::test_catch_fk_in_service (shop/services.py:10): "
        "the rows are built in the test file test_scenarios.py (passed to author_names() as "
        "'queryset')"
    ) in proc.stdout, proc.stdout + proc.stderr
    assert git(root, "status", "--porcelain") == ""

    first = run_pytest(
        root, "--django-gates", "--gates-report", "report.json", "-k", "test_author_report"
    )
    assert first.returncode == 1, first.stdout
    proc = cli([*fix, "report.json"], cwd=root)

    assert (
        "fixed     DJG101 test_reports.py::test_author_report (shop/services.py:10): "
        '.select_related("author") on the Book queryset passed to author_names() at '
        "shop/reports.py:6; proven"
    ) in proc.stdout, proc.stdout + proc.stderr
    assert (root / "shop/reports.py").read_text(encoding="utf-8") == REPORTS.replace(
        'Book.objects.order_by("pk")', 'Book.objects.select_related("author").order_by("pk")'
    )
    assert git(root, "status", "--porcelain") == " M shop/reports.py\n"
