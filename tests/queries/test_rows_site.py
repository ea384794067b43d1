"""Where a finding says its rows were fetched (``rows: the Book queryset evaluated at
...``) is the line whose SELECT fetched them: statements run while the rows are built
(a field's decoder looking something up, a nested fetch) come after it and do not move
it. Read by people and by ``django-gates fix``, which edits that line."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import copy_project, gate, load_report, run_pytest

PROJECT = Path(__file__).parent / "nplusone_project"

DECODED = """\
from django.contrib.contenttypes.models import ContentType

from shop.models import Book


def title_from_db(value, expression, connection):
    # A decoder that loads what the value names, as a JSON field's decoder that turns
    # stored ids back into objects does: a query while the rows are being built.
    ContentType.objects.filter(app_label="shop").first()
    return value


def author_names():
    names = []
    for book in Book.objects.order_by("pk"):
        names.append(book.author.name)
    return names


def author_names_iterated():
    names = []
    for book in Book.objects.order_by("pk").iterator():
        names.append(book.author.name)
    return names
"""

TEST_DECODED = """\
import pytest

from shop import decoded
from shop.models import Book


@pytest.fixture(autouse=True)
def decoder(monkeypatch):
    field = Book._meta.get_field("title")
    monkeypatch.setattr(field, "from_db_value", decoded.title_from_db, raising=False)


def test_fetched(data):
    assert len(decoded.author_names()) == 3


def test_iterated(data):
    assert len(decoded.author_names_iterated()) == 3
"""


def test_the_rows_line_is_the_select_s_not_a_query_run_while_building_the_rows(
    tmp_path: Path,
) -> None:
    root = copy_project(PROJECT, tmp_path / "project")
    (root / "shop/decoded.py").write_text(DECODED, encoding="utf-8")
    (root / "test_decoded.py").write_text(TEST_DECODED, encoding="utf-8")

    proc = run_pytest(root, "--django-gates", "--gates-report", "report.json", "test_decoded.py")

    assert proc.returncode == 1, proc.stdout
    findings = gate(load_report(root / "report.json"), "queries")["findings"]
    rows = {
        f["object"].rsplit("::", 1)[1]: line
        for f in findings
        for line in f["message"].splitlines()
        if line.startswith("rows: ")
    }
    assert rows == {
        "test_fetched": "rows: the Book queryset evaluated at shop/decoded.py:15 (in author_names)",
        "test_iterated": (
            "rows: the Book queryset evaluated at shop/decoded.py:22 (in author_names_iterated)"
        ),
    }, findings
