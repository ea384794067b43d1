"""``django-gates fix`` and the N+1s a fix brings out: one whose statement ran as often
before the edit was uncovered by it, not caused, and the fix is kept (and says so); one
whose statement the edit added (a prefetch run once per outer row) was caused, and the
fix is reverted byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_django_gates.fix import statements
from pytest_django_gates.fix.queries import _itself
from pytest_django_gates.report import Finding
from tests.helpers import committed_project, gate, git, load_report, run_pytest
from tests.migrations.migrations_support import cli

PROJECT = Path(__file__).parent.parent / "queries" / "nplusone_project"

NESTED = """from shop.models import Author, Book


def author_tag_names():
    names = []
    for author in Author.objects.order_by("pk"):
        for book in Book.objects.filter(author=author):
            names.extend(tag.name for tag in book.tags.all())
    return names
"""

NESTED_TEST = """from shop import nested


def test_tags_of_each_authors_books(data):
    assert len(nested.author_tag_names()) == 6
"""


def _fix(root: Path, report: str) -> str:
    proc = cli(
        ["--project", str(root), "fix", "--only", "queries", "--from-report", report],
        cwd=root,
    )
    return proc.stdout + proc.stderr


def _keep(root: Path, source: str, target: str, wanted: str) -> None:
    """``target``: the report ``source`` with only the DJG101 findings whose message has
    ``wanted``."""
    data = load_report(root / source)
    queries = gate(data, "queries")
    kept = [f for f in queries["findings"] if f["code"] == "DJG101" and wanted in f["message"]]
    assert len(kept) == 1, queries["findings"]
    for entry in data["gates"]:
        if entry["name"] == "queries":
            entry["findings"] = kept
    (root / target).write_text(json.dumps(data), encoding="utf-8")


def test_a_fix_that_uncovers_an_n_plus_one_it_did_not_cause_is_kept(tmp_path: Path) -> None:
    """The gate did not report the books' author loads before the fix (the report is cut
    to the loans' book, as a gate that groups or masks findings would leave it); after
    ``select_related("book")`` it does, and they ran as often before: kept, and named."""
    root = committed_project(PROJECT, tmp_path / "project")
    test = "test_scenarios.py::test_catch_two_relations_to_one_table_per_row"
    first = run_pytest(root, "--django-gates", "--gates-report", "full.json", test)
    assert first.returncode == 1, first.stdout
    _keep(root, "full.json", "report.json", "relation: shop.Loan.book ")

    out = _fix(root, "report.json")

    assert (
        f"fixed     DJG101 {test} (shop/services.py:286): "
        'Loan.objects.select_related("book") at shop/services.py:286; proven: 1 test(s) '
        "pass, and the query gate no longer reports it in them; it now reports 1 finding(s) "
        "in them that the edit uncovered, not caused (each one's statement ran as often "
        'before it), fix them next: N+1: 2 x SELECT "shop_author"."id"'
    ) in out, out
    assert 'Loan.objects.select_related("book").order_by("pk")' in (
        root / "shop/services.py"
    ).read_text(encoding="utf-8")
    # The uncovered N+1 is not hidden: the gate reports it on the fixed code.
    again = run_pytest(root, "--django-gates", "--gates-report", "again.json", test)
    assert again.returncode == 1
    left = gate(load_report(root / "again.json"), "queries")["findings"]
    assert [f["message"].splitlines()[1] for f in left] == [
        "relation: shop.Book.author (foreign key) loaded once per row"
    ]


def test_a_fix_that_causes_a_new_n_plus_one_is_reverted(tmp_path: Path) -> None:
    """``prefetch_related("tags")`` on the books each author's loop fetches runs one
    prefetch per author: a statement the code did not run before, repeated per row."""
    files = {"shop/nested.py": NESTED, "test_nested.py": NESTED_TEST}
    root = committed_project(PROJECT, tmp_path / "project", files)
    first = run_pytest(root, "--django-gates", "--gates-report", "full.json", "test_nested.py")
    assert first.returncode == 1, first.stdout
    # Cut to the tags: the books fetched once per author, which the edit does not touch,
    # come out as uncovered; the prefetch it adds, once per author, as caused.
    _keep(root, "full.json", "report.json", "relation: shop.Book.tags ")

    out = _fix(root, "report.json")

    assert (
        "not fixed DJG101 test_nested.py::test_tags_of_each_authors_books (shop/nested.py:8): "
        'Book.objects.prefetch_related("tags") at shop/nested.py:7, reverted: the edit makes '
        'the query gate report DJG101: N+1: 3 x SELECT ("shop_book_tags"."book_id") AS '
        '"_prefetch_related_val_book_id"'
    ) in out, out
    assert (root / "shop/nested.py").read_text(encoding="utf-8") == NESTED
    assert git(root, "status", "--porcelain") == ""


def test_uncovered_compares_each_statement_a_finding_shows() -> None:
    head = 'N+1: 2 x SELECT "a"."id" FROM "a" WHERE "a"."id" = ? LIMIT 21 at s.py:3 (in f)'
    cut = 'latent N+1: 1 x SELECT "a"."id", "a"."name", "a"."bio" FROM "a" WHERE "a"… at s.py:3'
    writes = (
        "2 writes outside a transaction in one request: a failure between them leaves the "
        "first ones committed\n"
        '  UPDATE "a" SET "name" = ? WHERE "a"."id" = ? at s.py:9\n'
        '  INSERT INTO "log" ("a_id", "at", "text", "kind", "who", "where", "wh… at s.py:12'
    )
    long_shape = 'SELECT "a"."id", "a"."name", "a"."bio" FROM "a" WHERE "a"."id" = ? LIMIT 21'
    insert = 'INSERT INTO "log" ("a_id", "at", "text", "kind", "who", "where", "when") VALUES (?)'
    update = 'UPDATE "a" SET "name" = ? WHERE "a"."id" = ?'
    select = 'SELECT "a"."id" FROM "a" WHERE "a"."id" = ? LIMIT 21'
    before = {"t": {select: 2, long_shape: 1, update: 1, insert: 1}}

    assert statements.shown(head) == [select]
    assert statements.shown(cut) == ['SELECT "a"."id", "a"."name", "a"."bio" FROM "a" WHERE "a"…']
    assert statements.shown(writes) == [update, insert[:68] + "…"]
    assert statements.uncovered(head, ["t"], before, {"t": {select: 2}})
    assert statements.uncovered(cut, ["t"], before, {"t": {long_shape: 1}})  # cut: a prefix
    assert statements.uncovered(writes, ["t"], before, {"t": {update: 1, insert: 1}})
    # More often after the edit, or not at all before it: caused.
    assert not statements.uncovered(head, ["t"], before, {"t": {select: 3}})
    assert not statements.uncovered(head, ["t"], {"t": {}}, {"t": {select: 1}})
    assert not statements.uncovered(writes, ["t"], before, {"t": {update: 2, insert: 1}})
    # A test either run did not count (its counts missing), or a message with no
    # statement in it: caused, the proof errs towards reverting.
    assert not statements.uncovered(head, ["t"], {}, {"t": {select: 1}})
    assert not statements.uncovered("a test pins 3 queries", ["t"], before, before)


def _finding(*lines: str) -> Finding:
    return Finding("DJG101", "error", "\n".join(lines), "t.py::t", "s.py", 3, "")


def test_a_finding_at_the_fixed_line_with_its_statement_and_relation_is_itself() -> None:
    head = 'N+1: 2 x SELECT "a"."id" FROM "a" WHERE "a"."id" = ? LIMIT 21 at s.py:3 (in f)'
    latent = 'latent N+1: 1 x SELECT "a"."id" FROM "a" WHERE "a"."id" = ? LIMIT 21 at s.py:3 (in f)'
    fixed = _finding(head, "relation: shop.Book.author (foreign key) loaded once per row")

    # Latent now, or the relation now said to be prefetched and bypassed: itself.
    assert _itself(_finding(latent, "relation: shop.Book.author (foreign key) loaded"), [fixed])
    bypassed = "relation: shop.Book.author (foreign key) was prefetched, but the prefetch"
    assert _itself(_finding(head, bypassed), [fixed])
    # No relation named on one side: the line and statement decide.
    assert _itself(_finding(latent), [fixed])
    # Another relation to the same table (a lender beside a borrower), another line, or
    # another statement: not itself.
    assert not _itself(_finding(head, "relation: shop.Loan.lender (foreign key) loaded"), [fixed])
    assert not _itself(_finding(head.replace("s.py:3", "s.py:4")), [fixed])
    assert not _itself(_finding(head.replace('"a"."id" =', '"a"."name" =')), [fixed])
