"""Tests that FAIL ON PURPOSE when pytest-django-gates is active.

They are not part of the demo's test suite (``testpaths = ["tests"]``); run
them explicitly to see what a gate failure looks like:

    pytest examples/

See examples/README.md for the expected output of each one.
"""

import pytest
from django.test import Client
from django.urls import reverse

from apps.catalog.models import Book
from examples import naive_services
from tests.factories import BookFactory


@pytest.fixture
def five_books(db: None) -> list[Book]:
    """Five books by five different authors: the naive loop fetches each author separately."""
    return BookFactory.create_batch(5)


def test_n_plus_one_is_reported(five_books: list[Book]) -> None:
    """Gate: N+1 detection. 1 query for the books + 5 identical queries for authors."""
    titles = naive_services.book_titles_with_authors()

    assert len(titles) == len(five_books)


def test_n_plus_one_fix_passes(five_books: list[Book]) -> None:
    """The same loop after ``select_related("author")``: 1 query, nothing to report."""
    titles = naive_services.book_titles_with_authors_fixed()

    assert len(titles) == len(five_books)


@pytest.mark.query_budget(1)
def test_query_budget_is_exceeded(client: Client, five_books: list[Book]) -> None:
    """Gate: query budget. The book list needs 3 queries; this test allows only 1."""
    response = client.get(reverse("catalog:book-list"))

    assert response.status_code == 200
