"""A prefetch whose key the outer query fixes, in a project without contenttypes.

The rule (``capture._key_pinned``) recognises generic foreign keys without importing
``django.contrib.contenttypes``: a project that does not install it must run its
prefetches under the gate as it does without it (django-model-utils' suite failed three
tests when the rule imported it), and the rule must still judge ordinary foreign keys.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import gate, load_report, run_pytest

MODELS = """
from django.db import models


class Country(models.Model):
    name = models.CharField(max_length=20)


class Author(models.Model):
    name = models.CharField(max_length=20)
    country = models.ForeignKey(Country, on_delete=models.CASCADE)


class Book(models.Model):
    title = models.CharField(max_length=20)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""

SERVICES = """
from lib.models import Book


def countries_of_books_by(author_id):
    books = Book.objects.filter(author_id=author_id).prefetch_related("author")
    return [book.author.country.name for book in books]


def countries_of_all_books():
    return [book.author.country.name for book in Book.objects.prefetch_related("author")]
"""

SETTINGS = """
SECRET_KEY = "x"
USE_TZ = True
INSTALLED_APPS = ["lib"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

TESTS = """
import pytest

from lib import services
from lib.models import Author, Book, Country


@pytest.fixture
def author(db):
    author = Author.objects.create(name="a", country=Country.objects.create(name="c"))
    Book.objects.create(title="b0", author=author)
    return author


def test_one_authors_books(author):
    Book.objects.create(title="b1", author=author)
    assert services.countries_of_books_by(author.pk) == ["c", "c"]


def test_every_book_one_row(author):
    assert services.countries_of_all_books() == ["c"]
"""


def test_prefetch_rule_without_contenttypes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "lib").mkdir(parents=True)  # no migrations: the test database syncs it
    (project / "lib" / "__init__.py").write_text("")
    (project / "lib" / "models.py").write_text(textwrap.dedent(MODELS))
    (project / "lib" / "services.py").write_text(textwrap.dedent(SERVICES))
    (project / "gates_settings.py").write_text(SETTINGS)
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = "gates_settings"\n'
        'pythonpath = ["."]\n\n[tool.django-gates]\ngates = ["queries"]\n'
    )
    (project / "test_books.py").write_text(textwrap.dedent(TESTS))
    result = run_pytest(project, "--django-gates", "--gates-report", "report.json", "-q")
    out = result.stdout + result.stderr
    assert "RuntimeError" not in out, out
    findings = gate(load_report(project / "report.json"), "queries")["findings"]
    # The fixed key: one author row, its country loaded once. Every book: the author
    # rows of a queryset, one in the test (latent).
    assert {f["object"].split("::")[-1] for f in findings} == {"test_every_book_one_row"}, out
    assert "latent N+1" in findings[0]["message"]
    assert "1 failed, 1 passed" in result.stdout, out
