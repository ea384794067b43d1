from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from apps.catalog import selectors
from apps.catalog.models import Book
from tests.factories import BookFactory

CountQueries = Callable[[int], AbstractContextManager[object]]


def test_published_books_are_newest_first_with_review_stats(catalog: list[Book]) -> None:
    books = list(selectors.published_books())

    assert [book.pk for book in books] == [book.pk for book in reversed(catalog)]
    first = books[-1]
    assert first.review_count == 2
    assert first.average_rating == 3.0


def test_published_books_can_be_filtered_by_tag(catalog: list[Book]) -> None:
    books = list(selectors.published_books(tag_slug="poetry"))

    assert len(books) == 3
    assert all("Poetry" in [tag.name for tag in book.tags.all()] for book in books)


@pytest.mark.parametrize("extra_books", [0, 10])
def test_published_books_query_count_does_not_grow_with_rows(
    catalog: list[Book], extra_books: int, django_assert_num_queries: CountQueries
) -> None:
    BookFactory.create_batch(extra_books)

    with django_assert_num_queries(2):
        rows = [selectors.serialize_book(book) for book in selectors.published_books()]

    assert len(rows) == len(catalog) + extra_books


def test_book_detail_queryset_loads_everything_in_three_queries(
    book: Book, django_assert_num_queries: CountQueries
) -> None:
    with django_assert_num_queries(3):
        loaded = selectors.book_detail_queryset().get(pk=book.pk)
        reviewers = [review.user.get_username() for review in loaded.reviews.all()]
        tags = [tag.name for tag in loaded.tags.all()]
        bio = loaded.author.profile.bio

    assert len(reviewers) == 2
    assert tags == ["Classics", "Fiction"]
    assert bio


def test_authors_are_annotated_with_published_book_counts(catalog: list[Book]) -> None:
    counts = {
        author.name: author.published_count for author in selectors.authors_with_book_counts()
    }

    assert sorted(counts.values()) == [0, 2, 2, 2]  # the draft's author has none published
