"""``django-gates fix`` and tests that pin a query count: a fix that removes an N+1
lowers the number such a test pins (exact counts written as a number at the call),
and is proven with it; a count the fix cannot change by itself (a parameter) is left,
with the reason, and the fix reverted."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_django_gates.fix import pinned
from pytest_django_gates.fix.plan import NotFixable
from tests.fix.support import fix_after_report
from tests.helpers import committed_project, run_pytest

PROJECT = Path(__file__).parent.parent / "queries" / "nplusone_project"

REPORTS = """\
from shop.models import Book


def author_report():
    return [book.author.name for book in Book.objects.order_by("pk")]


def tag_report():
    return [[tag.name for tag in book.tags.all()] for book in Book.objects.order_by("pk")]
"""

TEST_REPORTS = """\
import pytest
from django.test import TestCase

from conftest import make
from shop.reports import author_report, tag_report


def test_author_report(data, django_assert_num_queries):
    with django_assert_num_queries(4):
        assert len(author_report()) == 3


class AuthorReportTests(TestCase):
    def test_author_report(self):
        make(3)
        with self.assertNumQueries(4):
            self.assertEqual(len(author_report()), 3)


@pytest.mark.parametrize("expected", [4])
def test_tag_report(data, django_assert_num_queries, expected):
    with django_assert_num_queries(expected):
        assert len(tag_report()) == 3
"""


def test_a_fix_lowers_the_query_count_its_tests_pin(tmp_path: Path) -> None:
    files = {"shop/reports.py": REPORTS, "test_reports.py": TEST_REPORTS}
    root = committed_project(PROJECT, tmp_path / "project", files)

    proc = fix_after_report(root, "test_reports.py")

    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr  # the parametrised count is left
    assert (
        'Book.objects.select_related("author") at shop/reports.py:5; '
        "test_reports.py:9 pins 1 queries, was 4; test_reports.py:16 pins 1 queries, was 4; "
        "proven: 2 test(s) pass"
    ) in out, out
    assert "not fixed DJG101 test_reports.py::test_tag_report[4]" in out
    assert (
        "reverted: a test pins the query count: test_reports.py::test_tag_report[4] expects 4 "
        "queries, 2 after the edit (test_reports.py::test_tag_report[4] pins 4 queries (now "
        "2), but not as a number written at the call (a parameter or a variable): update it "
        "by hand)"
    ) in out, out
    assert (root / "shop/reports.py").read_text(encoding="utf-8") == REPORTS.replace(
        'book.author.name for book in Book.objects.order_by("pk")',
        'book.author.name for book in Book.objects.select_related("author").order_by("pk")',
    )
    assert (root / "test_reports.py").read_text(encoding="utf-8") == TEST_REPORTS.replace(
        "django_assert_num_queries(4)", "django_assert_num_queries(1)"
    ).replace("self.assertNumQueries(4)", "self.assertNumQueries(1)")
    again = run_pytest(root, "test_reports.py")
    assert again.returncode == 0, again.stdout


def test_parse_reads_both_failure_messages() -> None:
    assert pinned.parse(
        "Failed: Expected to perform 9 queries but 7 were done (add -v option to show queries)"
    ) == (9, 7)
    assert pinned.parse("Expected to perform 2 queries but 1 was done") == (2, 1)
    assert pinned.parse("7 != 9 : 7 queries executed, 9 expected\nCaptured queries were:") == (
        9,
        7,
    )
    # At most N (django_assert_max_num_queries) fails only with more: not a pinned count.
    assert pinned.parse("Expected to perform 3 queries or less but 4 were done") is None
    assert pinned.parse("assert 3 == 4") is None


def _failure(test: str, path: Path, line: int, expected: int, actual: int) -> pinned.Pinned:
    return pinned.Pinned(test, expected, actual, ((str(path), line),))


def test_edits_follow_the_rules(tmp_path: Path) -> None:
    source = tmp_path / "test_x.py"
    source.write_text(
        "def test_a(django_assert_num_queries):\n"
        "    with django_assert_num_queries(5):\n"
        "        pass\n"
        "def test_b(django_assert_num_queries, n):\n"
        "    with django_assert_num_queries(n):\n"
        "        pass\n",
        encoding="utf-8",
    )

    def read(path: Path) -> str:
        return path.read_text(encoding="utf-8")

    edits = pinned.edits([_failure("t::a", source, 2, 5, 3)], tmp_path, read)
    assert [e.shown() for e in edits] == ["test_x.py:2 pins 3 queries, was 5"]
    assert pinned.plan(edits[0], read).splitlines()[1] == "    with django_assert_num_queries(3):"
    # Two tests sharing the line with the same numbers: one edit.
    both = [_failure("t::a[1]", source, 2, 5, 3), _failure("t::a[2]", source, 2, 5, 3)]
    assert len(pinned.edits(both, tmp_path, read)) == 1
    with pytest.raises(NotFixable, match="would have to be both 3 and 4"):
        pinned.edits(
            [_failure("t::a[1]", source, 2, 5, 3), _failure("t::a[2]", source, 2, 5, 4)],
            tmp_path,
            read,
        )
    with pytest.raises(NotFixable, match="does not lower its count"):
        pinned.edits([_failure("t::a", source, 2, 5, 6)], tmp_path, read)
    with pytest.raises(NotFixable, match="a parameter or a variable"):
        pinned.edits([_failure("t::b", source, 5, 5, 3)], tmp_path, read)
    # A frame outside the project is never edited.
    outside = tmp_path.parent / "elsewhere"
    with pytest.raises(NotFixable, match="a parameter or a variable"):
        pinned.edits([_failure("t::a", source, 2, 5, 3)], outside, read)
