import pytest
from django.db import IntegrityError, transaction

from apps.catalog.models import Book
from tests.factories import AuthorProfileFactory, BookFactory, ReviewFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_string_representations() -> None:
    review = ReviewFactory(book__title="Dune", book__author__name="Frank Herbert", rating=5)
    profile = AuthorProfileFactory(author=review.book.author)

    assert str(review.book) == "Dune"
    assert str(review.book.author) == "Frank Herbert"
    assert str(TagFactory(name="Sci-Fi")) == "Sci-Fi"
    assert str(review) == f"5/5 for book {review.book_id}"
    assert str(profile) == f"Profile of {review.book.author_id}"


def test_absolute_urls_use_slugs() -> None:
    book = BookFactory(title="Dune", author__name="Frank Herbert")

    assert book.get_absolute_url() == "/books/dune/"
    assert book.author.get_absolute_url() == "/authors/frank-herbert/"


def test_published_queryset_excludes_drafts_and_archived_books() -> None:
    published = BookFactory()
    BookFactory(status=Book.Status.DRAFT, published_on=None)
    BookFactory(status=Book.Status.ARCHIVED)

    assert list(Book.objects.published()) == [published]


def test_a_user_can_review_a_book_only_once() -> None:
    review = ReviewFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewFactory(book=review.book, user=review.user)
