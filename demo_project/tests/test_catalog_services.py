import datetime
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from apps.accounts.models import User
from apps.catalog import services
from apps.catalog.models import Book, Review, Tag
from tests.factories import AuthorFactory, BookFactory, ReviewFactory, TagFactory

CountQueries = Callable[[int], AbstractContextManager[object]]

pytestmark = pytest.mark.django_db


def test_submit_review_records_the_review(user: User) -> None:
    book = BookFactory()

    review = services.submit_review(book=book, user=user, rating=5, body="  Superb.  ")

    assert review.pk is not None
    assert (review.book, review.user, review.rating, review.body) == (book, user, 5, "Superb.")


def test_submit_review_rejects_a_second_review_by_the_same_user(user: User) -> None:
    existing = ReviewFactory(user=user)

    with pytest.raises(ValidationError, match="already reviewed"):
        services.submit_review(book=existing.book, user=user, rating=1)

    assert Review.objects.count() == 1


@pytest.mark.parametrize("rating", [0, 6])
def test_submit_review_rejects_out_of_range_ratings(user: User, rating: int) -> None:
    with pytest.raises(ValidationError):
        services.submit_review(book=BookFactory(), user=user, rating=rating)


def test_submit_review_rejects_unpublished_books(user: User) -> None:
    draft = BookFactory(status=Book.Status.DRAFT, published_on=None)

    with pytest.raises(ValidationError, match="published"):
        services.submit_review(book=draft, user=user, rating=4)


def test_import_books_batches_inserts(django_assert_num_queries: CountQueries) -> None:
    author = AuthorFactory()
    TagFactory(name="Fiction")
    rows = [
        services.BookInput(
            title=f"Volume {n}", slug=f"volume-{n}", tags=["Fiction", " New ", "New"]
        )
        for n in range(25)
    ]

    # savepoint + tags insert + tags select + books insert + book-tag links insert + release
    with django_assert_num_queries(6):
        books = services.import_books(author=author, rows=rows)

    assert len(books) == 25
    assert all(book.status == Book.Status.DRAFT for book in books)
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Fiction", "New"]
    assert Book.tags.through.objects.count() == 50


def test_import_books_is_all_or_nothing() -> None:
    author = AuthorFactory()
    BookFactory(slug="taken")
    rows = [
        services.BookInput(title="Fresh", slug="fresh", tags=["Brand new tag"]),
        services.BookInput(title="Clash", slug="taken"),
    ]

    with pytest.raises(IntegrityError):
        services.import_books(author=author, rows=rows)

    assert not Book.objects.filter(slug="fresh").exists()
    assert not Tag.objects.filter(slug="brand-new-tag").exists()


def test_publish_book_sets_status_and_date() -> None:
    draft = BookFactory(status=Book.Status.DRAFT, published_on=None)

    services.publish_book(draft, on=datetime.date(2024, 5, 1))

    draft.refresh_from_db()
    assert draft.status == Book.Status.PUBLISHED
    assert draft.published_on == datetime.date(2024, 5, 1)


def test_archived_books_cannot_be_published_again() -> None:
    archived = BookFactory(status=Book.Status.ARCHIVED)

    with pytest.raises(ValidationError):
        services.publish_book(archived)
