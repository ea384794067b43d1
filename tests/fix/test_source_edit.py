"""The span edits the fix recipes make: only the bytes they replace change."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pytest_django_gates.fix.migration_files import MigrationSource, new_migration_name
from pytest_django_gates.fix.source_edit import add_keyword, apply, ensure_import


def _call(text: str) -> ast.Call:
    return next(n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("f(a)\n", "f(a, x=1)\n"),
        ("f()\n", "f(x=1)\n"),
        ("f(a, b=2,)\n", "f(a, b=2, x=1,)\n"),
        ("f(\n    a,\n    b=2,  # keep\n)\n", "f(\n    a,\n    b=2,  # keep\n    x=1,\n)\n"),
        ("f(a,  # keep\n  b=2)\n", "f(a,  # keep\n  b=2, x=1)\n"),
        ("f(\"é\", b='ü')\n", "f(\"é\", b='ü', x=1)\n"),
    ],
)
def test_a_keyword_is_added_after_the_last_argument_in_its_style(before: str, after: str) -> None:
    assert apply(before, [add_keyword(before, _call(before), "x", "1")]) == after


def test_an_import_goes_where_sorted_imports_stay_sorted() -> None:
    text = "import os\nfrom django.db import migrations\n\nX = 1\n"
    tree = ast.parse(text)
    splice = ensure_import(text, tree, "django.contrib.postgres.operations", "AddIndexConcurrently")
    assert splice is not None
    assert apply(text, [splice]) == (
        "import os\nfrom django.contrib.postgres.operations import AddIndexConcurrently\n"
        "from django.db import migrations\n\nX = 1\n"
    )
    assert ensure_import(text, tree, "django.db", "migrations") is None


def test_atomic_false_goes_after_the_docstring_or_replaces_atomic_true(tmp_path: Path) -> None:
    text = (
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        '    """Doc."""\n\n    dependencies = []\n    operations = []\n'
    )
    source = MigrationSource.read(Path("m.py"), text)
    splice = source.atomic_false()
    assert splice is not None
    assert '    """Doc."""\n\n    atomic = False\n\n    dependencies = []' in apply(text, [splice])
    atomic = text.replace("    dependencies", "    atomic = True\n    dependencies")
    source = MigrationSource.read(Path("m.py"), atomic)
    splice = source.atomic_false()
    assert splice is not None
    assert "    atomic = False\n    dependencies" in apply(atomic, [splice])


def test_an_operation_is_removed_with_its_line_and_comma() -> None:
    text = (
        "class Migration:\n    operations = [\n        a(1),\n        b(\n            2\n"
        "        ),\n        c(3),\n    ]\n"
    )
    source = MigrationSource.read(Path("m.py"), text)
    assert [op.kind for op in source.operations] == ["a", "b", "c"]
    assert apply(text, [source.remove(source.operations[1])]) == (
        "class Migration:\n    operations = [\n        a(1),\n        c(3),\n    ]\n"
    )


def test_a_new_migration_is_numbered_after_every_other(tmp_path: Path) -> None:
    root = tmp_path
    for name in ("0001_initial.py", "0009_x.py", "__init__.py"):
        (root / name).write_text("", encoding="utf-8")
    assert new_migration_name(root, "Index Name!", set()) == "0010_index_name"
    assert new_migration_name(root, "v", {root / "0010_index_name.py"}) == "0011_v"


@pytest.mark.parametrize(
    ("source", "line", "after"),
    [
        (  # Model.objects on the rows line: right after it, a bare .all() replaced
            "def f():\n    return [b.author for b in Book.objects.all()]\n",
            2,
            'def f():\n    return [b.author for b in Book.objects.select_related("author")]\n',
        ),
        (  # a name assigned once from Model.objects in the same function
            "def f():\n    books = Book.objects.filter(x=1)\n"
            "    for b in books:\n        b.author\n",
            3,
            'def f():\n    books = Book.objects.select_related("author").filter(x=1)\n'
            "    for b in books:\n        b.author\n",
        ),
        (  # a related manager's queryset: the call at its end
            "def f(shelf):\n    for b in shelf.books.all():\n        b.author\n",
            2,
            'def f(shelf):\n    for b in shelf.books.all().select_related("author"):\n'
            "        b.author\n",
        ),
        (  # a helper's queryset filtered in place, assigned once
            "def f(u):\n    books = visible(u).filter(x=1)\n    if not books:\n        return\n",
            3,
            'def f(u):\n    books = visible(u).filter(x=1).select_related("author")\n'
            "    if not books:\n        return\n",
        ),
        (  # select_related already there: the name joins the same call
            "def f():\n    return list(Book.objects.select_related('shelf').filter(x=1))\n",
            2,
            "def f():\n"
            "    return list(Book.objects.select_related('shelf', 'author').filter(x=1))\n",
        ),
        (  # the same call already ends the chain: the name joins it
            "def f(qs):\n    qs = qs.filter(x=1).select_related('user')\n    return list(qs)\n",
            3,
            "def f(qs):\n    qs = qs.filter(x=1).select_related('user', 'author')\n"
            "    return list(qs)\n",
        ),
        (  # one statement over many lines, a queryset on each: the one on the line
            "urls = [\n    view(Book.objects.all()),\n    view(Book.objects.filter(x=1)),\n]\n",
            3,
            "urls = [\n    view(Book.objects.all()),\n"
            '    view(Book.objects.select_related("author").filter(x=1)),\n]\n',
        ),
    ],
)
def test_the_related_call_goes_where_the_rows_queryset_is_built(
    tmp_path: Path, source: str, line: int, after: str
) -> None:
    from pytest_django_gates.fix.recipes.djg101_related import Rows, plan

    path = tmp_path / "views.py"
    path.write_text(source, encoding="utf-8")
    rows = Rows("Book", "views.py", line, "select_related", "author")
    change = plan(rows, path, lambda p: p.read_text(encoding="utf-8"))
    assert change.files[path] == after


def test_another_models_queryset_on_the_rows_line_is_not_the_rows(tmp_path: Path) -> None:
    """``render(..., {"authors": Author.objects.all()})`` on the line where a template
    evaluated Book rows: not the Book queryset (the rows are then located)."""
    from pytest_django_gates.fix.recipes.djg101_related import NoQuerysetThere, Rows, plan

    path = tmp_path / "views.py"
    path.write_text(
        "def f(request):\n    return render(request, 't', {'a': Author.objects.order_by('n')})\n",
        encoding="utf-8",
    )
    with pytest.raises(NoQuerysetThere, match=r"no single Book queryset written at views\.py:2"):
        plan(Rows("Book", "views.py", 2, "select_related", "author"), path, Path.read_text)


def test_a_queryset_handed_in_as_an_argument_is_not_fixable(tmp_path: Path) -> None:
    from pytest_django_gates.fix.plan import NotFixable
    from pytest_django_gates.fix.recipes.djg101_related import Rows, plan

    path = tmp_path / "views.py"
    path.write_text("def f(books):\n    return [b.author for b in books]\n", encoding="utf-8")
    with pytest.raises(
        NotFixable,
        match=r"the Book rows come in as the argument 'books' of f\(\), and the finding names "
        "no caller",
    ):
        plan(Rows("Book", "views.py", 2, "select_related", "author"), path, Path.read_text)


def test_an_existence_check_per_row_is_fixed_with_the_hints_prefetch() -> None:
    from pytest_django_gates.fix.recipes.djg101_related import rows_of

    message = (
        "N+1: 3 x SELECT 1 AS a FROM shop_review ... at shop/views.py:9 (in shelf)\n"
        "relation: shop.Book.reviews (reverse foreign key) loaded once per row\n"
        "rows: the Book queryset evaluated at shop/views.py:8 (in shelf)"
    )
    hint = (
        "Book.objects.annotate(has_reviews=Exists(<reviews subquery>)), or "
        "prefetch_related('reviews') and test the cached list"
    )
    rows = rows_of(message, hint)
    assert (rows.model, rows.path, rows.line, rows.method, rows.name) == (
        "Book",
        "shop/views.py",
        8,
        "prefetch_related",
        "reviews",
    )


def test_rows_are_moved_to_the_lines_that_built_them() -> None:
    """What :mod:`pytest_django_gates.fix.locate` saw decides where the fix goes: each
    project line (up to three); else a sentence for each other case."""
    from pytest_django_gates.fix.plan import NotFixable
    from pytest_django_gates.fix.recipes.djg101_related import Rows, built_at

    rows = Rows(
        "Book",
        "shop/middleware.py",
        12,
        "select_related",
        "author",
        callers=(("shop/urls.py", 3),),
        test_files=frozenset({"test_shop.py"}),
    )
    (moved,) = built_at(rows, {("shop/views.py", 40, False, "")})
    assert (moved.path, moved.line, moved.callers, moved.name) == (
        "shop/views.py",
        40,
        (),
        "author",
    )
    # Read through related managers: prefetched through them on the owners' queryset.
    (through,) = built_at(
        rows, {("shop/views.py", 40, False, " via Shelf.sections via Section.books")}
    )
    assert (through.model, through.line, through.method, through.name, through.through) == (
        "Shelf",
        40,
        "prefetch_related",
        "sections__books__author",
        ("Book", "sections__books"),
    )
    (in_view,) = built_at(rows, {("shop/views.py", 7, False, "model via Shelf.books")})
    assert (in_view.model, in_view.view_class, in_view.name) == ("Shelf", True, "books__author")
    # Built at two lines: both get the call, in line order.
    both = built_at(rows, {("shop/views.py", 52, False, ""), ("shop/lists.py", 9, False, "")})
    assert [(r.path, r.line) for r in both] == [("shop/lists.py", 9), ("shop/views.py", 52)]
    cases = [
        (set(), "were not evaluated there again when their tests ran alone"),
        ({None}, "is built by a library \\(a generic view's model"),
        ({None, ("shop/views.py", 40, False, "")}, "is built by a library \\(and elsewhere\\)"),
        (
            {("shop/views.py", n, False, "") for n in (40, 52, 60, 70)},
            r"built at 4 places: add \.select_related\('author'\) where they are built",
        ),
        ({("test_shop.py", 9, True, "")}, "the rows are built in the test file test_shop.py"),
    ]
    for built, why in cases:
        with pytest.raises(NotFixable, match=why):
            built_at(rows, built)


def test_a_generic_view_naming_its_model_gets_a_queryset_then_extends_it(
    tmp_path: Path,
) -> None:
    """``model = Book`` only: the fix adds ``queryset = Book.objects...`` after it (the
    rows Django's get_queryset() would fetch, with the relation); a second relation of
    the same view goes into that queryset."""
    from pytest_django_gates.fix.plan import NotFixable
    from pytest_django_gates.fix.recipes.djg101_related import Rows, plan

    path = tmp_path / "views.py"
    source = (
        "class Shelf(ListView):\n"
        "    model = Book  # the shelf\n"
        "    ordering = ['title']\n"
        "\n"
        "\n"
        "@login_required_view\n"
        "class Other(ListView):\n"
        "    model = Author\n"
    )
    path.write_text(source, encoding="utf-8")
    rows = Rows("Book", "views.py", 1, "select_related", "author", view_class=True)
    first = plan(rows, path, Path.read_text).files[path]
    assert first == source.replace(
        "    model = Book  # the shelf\n",
        "    model = Book  # the shelf\n    queryset = Book.objects.select_related('author')\n",
    )
    path.write_text(first, encoding="utf-8")
    tags = Rows("Book", "views.py", 1, "prefetch_related", "tags", view_class=True)
    second = plan(tags, path, Path.read_text).files[path]
    assert "    queryset = Book.objects.prefetch_related('tags').select_related('author')\n" in (
        second
    )
    wrong = Rows("Book", "views.py", 7, "select_related", "author", view_class=True)
    with pytest.raises(NotFixable, match="does not set model = Book"):
        plan(wrong, path, Path.read_text)
