"""``django-gates fix`` on the query gate's N+1 findings, on the scenario project: each
fix is proven by re-running exactly the tests the finding names, with and without the
gate, and an edit that does not remove the repeated statement is reverted."""

from __future__ import annotations

from pathlib import Path

from pytest_django_gates.report import Finding
from tests.fix.support import fix_after_report
from tests.helpers import (
    committed_project,
    copy_project,
    gate,
    git,
    load_report,
    run,
    run_pytest,
)
from tests.migrations.migrations_support import cli

PROJECT = Path(__file__).parent.parent / "queries" / "nplusone_project"
SCENARIOS = [
    "test_catch_fk_loop",  # a foreign key read per row: select_related
    "test_catch_m2m",  # a many-to-many read per row: prefetch_related
    "test_catch_count_in_loop",  # a count per row: an annotation, no recipe
    "test_catch_fk_of_deleted_rows_by_recorders",  # select_related does not reach it
    "test_catch_library_serializer_per_row",  # the rows are built in the test file
    # a library reads two relations to one table; the finding names one, the fix's
    # proof brings out the other, which the fix then adds and proves again
    "test_catch_two_relations_by_a_library_per_row",
    "test_ok_select_related",  # must not flag: never touched
]


def test_n_plus_ones_are_fixed_where_the_rows_are_built_and_proven(tmp_path: Path) -> None:
    root = committed_project(PROJECT, tmp_path / "project")
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
    progress = [line for line in proc.stderr.splitlines() if line.startswith("django-gates fix:")]
    assert progress == [
        "django-gates fix: running 1 test once more to find where the rows of 1 fix(es) are built",
        "django-gates fix: running the 4 tests of 4 fix(es) before any edit",
        "django-gates fix: proving 4 fix(es) together, round 1: 4 tests without the gate, then "
        "under it",
        "django-gates fix: proving 2 fix(es) together, round 2: 2 tests without the gate, then "
        "under it",
        "django-gates fix: trying fix 1 of 2 set aside on its own (with the 2 proven): "
        "shop/services.py:299",
        "django-gates fix: trying fix 2 of 2 set aside on its own (with the 3 proven): "
        "shop/services.py:470",
    ], proc.stderr
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
    assert (
        "fixed     DJG101 test_scenarios.py::test_catch_two_relations_by_a_library_per_row "
        '(shop/services.py:299): Loan.objects.select_related("borrower") at '
        "shop/services.py:299, and lender (its proof found it read per row too); proven"
    ) in out
    after = (root / "shop/services.py").read_text(encoding="utf-8").splitlines()
    before = services.splitlines()
    assert after[22] == '    for book in Book.objects.select_related("author"):'
    assert after[33] == '    for book in Book.objects.prefetch_related("tags"):'
    assert after[298] == (
        '    return serializerlib.dump(Loan.objects.select_related("borrower", "lender")'
        '.order_by("pk"), ["lender.name", "borrower.name"])'
    )
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [22, 33, 298]  # the reverted edit left no trace
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
    files = {"shop/reports.py": REPORTS, "test_reports.py": TEST_REPORTS}
    root = committed_project(PROJECT, tmp_path / "project", files)
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


CATALOG = """\
from django.urls import path
from django.views.generic import ListView

from shop.models import Book


class Catalog(ListView):
    template_name = "shop/books.html"
    context_object_name = "books"

    def get_queryset(self):
        return Book.objects.order_by("title")


class AllBooks(ListView):
    model = Book
    template_name = "shop/all_books.html"
    context_object_name = "books"


class Listing(Catalog):
    def get_queryset(self):
        if "q" in self.request.GET:
            return Book.objects.filter(title__startswith=self.request.GET["q"])
        return Book.objects.order_by("-title")


urlpatterns = [
    path("catalog/", Catalog.as_view()),
    path("all-books/", AllBooks.as_view()),
    path("listing/", Listing.as_view()),
]
"""

TEST_CATALOG = """\
import pytest


@pytest.fixture(autouse=True)
def catalog_urls(settings):
    settings.ROOT_URLCONF = "shop.catalog"
    settings.MIDDLEWARE = ["shop.middleware.RequestTimer"]


def test_catalog(data, client):
    assert client.get("/catalog/").status_code == 200


def test_all_books(data, client):
    assert client.get("/all-books/").status_code == 200


def test_listing(data, client):
    assert client.get("/listing/").status_code == 200


def test_search(data, client):
    assert client.get("/listing/?q=b").status_code == 200
"""


def _catalog_files() -> dict[str, str]:
    """The catalog views, their tests, and a second template for ``AllBooks``."""
    books = (PROJECT / "shop/templates/shop/books.html").read_text(encoding="utf-8")
    return {
        "shop/catalog.py": CATALOG,
        "test_catalog.py": TEST_CATALOG,
        "shop/templates/shop/all_books.html": books,
    }


def test_rows_a_template_evaluates_are_fixed_where_the_view_builds_them(tmp_path: Path) -> None:
    """A generic view's template loops over the rows: the gate can only name the
    middleware's ``get_response`` line as where they were evaluated. ``fix`` runs the
    test once more to find the line that built the queryset (the view's
    ``get_queryset``) and fixes it there; a view that names its ``model`` only gets a
    ``queryset`` of that model with the relation; nothing else is touched."""
    root = committed_project(PROJECT, tmp_path / "project", _catalog_files())
    first = run_pytest(
        root,
        "--django-gates",
        "--gates-report",
        "report.json",
        "test_catalog.py::test_catalog",
        "test_catalog.py::test_all_books",
    )
    assert first.returncode == 1, first.stdout
    findings = gate(load_report(root / "report.json"), "queries")["findings"]
    assert all(
        "rows: the Book queryset evaluated at shop/middleware.py:12" in f["message"]
        for f in findings
    ), findings

    proc = cli(
        ["--project", str(root), "fix", "--only", "queries", "--from-report", "report.json"],
        cwd=root,
    )

    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert (
        "fixed     DJG101 test_catalog.py::test_catalog (shop/templates/shop/books.html:3): "
        'Book.objects.select_related("author") at shop/catalog.py:12; proven: 1 test(s) pass'
    ) in out, out
    assert (
        "fixed     DJG101 test_catalog.py::test_all_books (shop/templates/shop/all_books.html:3): "
        'queryset = Book.objects.select_related("author") in the view AllBooks at '
        "shop/catalog.py:15 (it named model = Book only); proven: 1 test(s) pass"
    ) in out, out
    assert (root / "shop/catalog.py").read_text(encoding="utf-8") == CATALOG.replace(
        'Book.objects.order_by("title")', 'Book.objects.select_related("author").order_by("title")'
    ).replace(
        "    model = Book\n",
        '    model = Book\n    queryset = Book.objects.select_related("author")\n',
    )
    assert git(root, "status", "--porcelain") == " M shop/catalog.py\n"


SHELF = """\
from django.db import models
from django.urls import path
from django.views.generic import ListView

from shop.models import Book


class BookQuerySet(models.QuerySet):
    def starting_with_b(self):
        return self.filter(title__startswith="b")


def b_books():
    return BookQuerySet(Book).starting_with_b()


def b_titles():
    return [book.title for book in b_books()]


class Shelf(ListView):
    queryset = Book.objects.all()
    ordering = ["title"]
    template_name = "shop/books.html"
    context_object_name = "books"


urlpatterns = [path("shelf/", Shelf.as_view())]
"""

TEST_SHELF = """\
from shop.shelf import b_titles


def test_titles(data):
    assert b_titles()


def test_shelf(data, client, settings):
    settings.ROOT_URLCONF = "shop.shelf"
    assert client.get("/shelf/").status_code == 200
"""


def test_locate_names_the_line_of_the_code_under_test_that_built_the_rows(
    tmp_path: Path,
) -> None:
    """A method of the project's own queryset class stands for its caller; a clone a
    library makes (a generic view's ``all()`` and ``order_by()`` of its ``queryset``)
    keeps the line its source was built at; rows are matched by test and by the line
    the gate names for their evaluation."""
    from pytest_django_gates.fix.locate import locate

    root = copy_project(PROJECT, tmp_path / "project")
    (root / "shop/shelf.py").write_text(SHELF, encoding="utf-8")
    (root / "test_shelf.py").write_text(TEST_SHELF, encoding="utf-8")
    targets = [("Book", "shop/shelf.py", 18), ("Book", "test_shelf.py", 10)]
    tests = ["test_shelf.py::test_titles", "test_shelf.py::test_shelf"]

    found = locate(root, targets, tests, ["factory"])

    assert found == {
        ("test_shelf.py::test_titles", targets[0]): {("shop/shelf.py", 14, False, "")},
        ("test_shelf.py::test_shelf", targets[1]): {("shop/shelf.py", 22, False, "")},
    }


def _added(model: str, rows_line: str, hint: str, code: str = "DJG101") -> Finding:
    message = (
        f"latent N+1: 1 x SELECT ... at shop/views.py:30 (in page)\n"
        f"rows: the {model} queryset evaluated at {rows_line} (in page)"
    )
    return Finding(code, "error", message, "test_x.py::test_page", "shop/views.py", 30, hint)


def test_a_fix_is_extended_only_with_relations_of_the_rows_it_is_about() -> None:
    """What the proof brings out on the same rows line extends the fix: another relation
    of the same rows, or a relation of the rows the fix now prefetches (through it);
    anything else (another rows line, a hint that is no queryset change, another code)
    leaves the fix reverted."""
    from pytest_django_gates.fix.command import _extension, _QueryFix
    from pytest_django_gates.fix.queries import Verdict
    from pytest_django_gates.fix.recipes.djg101_related import Rows

    rows = Rows("Position", "shop/views.py", 12, "prefetch_related", "qualifications")
    fix = _QueryFix(rows, Path("shop/views.py"), [])

    def extended(*added: Finding) -> list[tuple[str, str]]:
        verdict = Verdict("the edit makes the query gate report DJG101", added)
        return [(r.method, r.name) for r in _extension(fix, verdict)]

    here = "shop/views.py:12"
    same = _added("Position", here, "Position.objects.select_related('block')")
    nested = _added("Qualification", here, "Qualification.objects.select_related('category')")
    assert extended(same) == [("select_related", "block")]
    assert extended(nested) == [("prefetch_related", "qualifications__category")]
    assert extended(same, nested) == [
        ("select_related", "block"),
        ("prefetch_related", "qualifications__category"),
    ]
    elsewhere = _added("Position", "shop/views.py:40", "Position.objects.select_related('b')")
    by_hand = _added("Position", here, "Position.objects.annotate(n=Count('x'))")
    other_code = _added("Position", here, "Position.objects.select_related('b')", "DJG108")
    assert extended(elsewhere) == []
    assert extended(by_hand) == []
    assert extended(other_code) == []
    assert extended(same, elsewhere) == []  # all or nothing
    assert _extension(fix, Verdict(None)) == []


PEOPLE = """\
from django.shortcuts import render
from django.urls import path
from django.views.generic import DetailView

from shop.models import Author


def writers(request):
    return render(request, "shop/writers.html", {"authors": Author.objects.order_by("name")})


class Writer(DetailView):
    model = Author
    template_name = "shop/writer.html"


urlpatterns = [path("writers/", writers), path("writer/<int:pk>/", Writer.as_view())]
"""

WRITERS = """\
{% for author in authors %}{{ author.name }}:
{% for book in author.books.all %}{{ book.title }}
{% for tag in book.tags.all %}{{ tag.name }}{% endfor %}
{% endfor %}{% endfor %}
"""

WRITER = """\
{% for book in author.books.all %}{{ book.title }}
{% for tag in book.tags.all %}{{ tag.name }}{% endfor %}
{% endfor %}
"""

TEST_PEOPLE = """\
import pytest
from shop.models import Author, Book, Tag


@pytest.fixture(autouse=True)
def people_urls(settings):
    settings.ROOT_URLCONF = "shop.people"
    settings.MIDDLEWARE = ["shop.middleware.RequestTimer"]


@pytest.fixture
def shelves(db):
    tags = [Tag.objects.create(name=f"t{i}") for i in range(2)]
    for i in range(2):
        author = Author.objects.create(name=f"a{i}")
        for j in range(3):
            Book.objects.create(title=f"b{i}{j}", author=author).tags.set(tags)
    return author


def test_writers(shelves, client):
    assert client.get("/writers/").status_code == 200


def test_writer(shelves, client):
    assert client.get(f"/writer/{shelves.pk}/").status_code == 200
"""


def test_rows_a_template_reads_through_a_related_manager_are_prefetched_on_the_owners(
    tmp_path: Path,
) -> None:
    """``{% for book in author.books.all %}`` in a template: the book rows are made by
    the related manager of each author, which a library (the template) read. The fix
    prefetches through it where the authors were fetched: the function view's queryset
    (with the authors' own ``books``, one call), and the detail view that names only
    its ``model``."""
    files = {
        "shop/people.py": PEOPLE,
        "shop/templates/shop/writers.html": WRITERS,
        "shop/templates/shop/writer.html": WRITER,
        "test_people.py": TEST_PEOPLE,
    }
    root = committed_project(PROJECT, tmp_path / "project", files)

    out = fix_after_report(root, "test_people.py").stdout
    assert (root / "shop/people.py").read_text(encoding="utf-8") == PEOPLE.replace(
        'Author.objects.order_by("name")',
        'Author.objects.prefetch_related("books", "books__tags").order_by("name")',
    ).replace(
        "    model = Author\n",
        '    model = Author\n    queryset = Author.objects.prefetch_related("books__tags")\n',
    ), out
    assert git(root, "status", "--porcelain") == " M shop/people.py\n"
    again = run_pytest(root, "--django-gates", "test_people.py")
    assert again.returncode == 0, again.stdout


def test_rows_built_at_several_lines_get_the_call_at_each(tmp_path: Path) -> None:
    """One template line evaluates rows built at three lines (two views; one of them a
    search and the full list), each reached by a test: each line gets the call, proven
    together as one fix. A view's new ``queryset =`` line, staged first, moves the
    lines below it: the fix still lands on the lines that built the rows."""
    root = committed_project(PROJECT, tmp_path / "project", _catalog_files())

    out = fix_after_report(root, "test_catalog.py").stdout

    assert (
        'Book.objects.select_related("author") at shop/catalog.py:12, and '
        'Book.objects.select_related("author") at shop/catalog.py:25, and '
        'Book.objects.select_related("author") at shop/catalog.py:26; proven: 3 test(s) pass'
    ) in out, out
    fixed = CATALOG.replace("Book.objects.", 'Book.objects.select_related("author").').replace(
        "    model = Book\n",
        '    model = Book\n    queryset = Book.objects.select_related("author")\n',
    )
    assert (root / "shop/catalog.py").read_text(encoding="utf-8") == fixed


def test_a_line_is_followed_through_the_edits_before_it() -> None:
    from pytest_django_gates.fix.command import _line_map

    before = "a\nb\nc\nd\n"
    moved = _line_map(before, "a\nb2\nnew\nc\nd\n")
    assert [moved(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]


def test_the_places_of_one_fix_follow_the_lines_its_first_edit_moved(tmp_path: Path) -> None:
    """A view that names only its model gets a new ``queryset =`` line; another line of
    the same file that built the same rows still gets the call."""
    from pytest_django_gates.fix.command import _plan_fix, _QueryFix
    from pytest_django_gates.fix.recipes.djg101_related import Rows

    views = tmp_path / "views.py"
    views.write_text(
        "class AllBooks(ListView):\n"
        "    model = Book\n"
        "\n"
        "def search(q):\n"
        "    return Book.objects.filter(title=q)\n",
        encoding="utf-8",
    )
    first = Rows("Book", "views.py", 1, "select_related", "author", view_class=True)
    other = Rows("Book", "views.py", 5, "select_related", "author")
    fix = _QueryFix(first, views, [], places=[(other, views)])

    change = _plan_fix(fix, lambda p: p.read_text(encoding="utf-8"))

    assert change.files[views].splitlines() == [
        "class AllBooks(ListView):",
        "    model = Book",
        '    queryset = Book.objects.select_related("author")',
        "",
        "def search(q):",
        '    return Book.objects.select_related("author").filter(title=q)',
    ]
