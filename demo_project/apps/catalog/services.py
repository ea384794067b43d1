"""Write-side use cases of the catalog: every multi-row change is atomic and batched."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.catalog.models import Author, Book, Review, Tag

if TYPE_CHECKING:
    from apps.accounts.models import User


@dataclass(frozen=True)
class BookInput:
    """One row of a catalog import."""

    title: str
    slug: str
    tags: Sequence[str] = field(default_factory=tuple)
    summary: str = ""


def _clean_tag_names(names: Sequence[str]) -> list[str]:
    """Strip blanks and duplicates, keeping the first spelling of each tag."""
    return list(dict.fromkeys(name.strip() for name in names if name.strip()))


@transaction.atomic
def import_books(*, author: Author, rows: Sequence[BookInput]) -> list[Book]:
    """Create draft books for ``author`` with their tags in a constant number of queries.

    Missing tags are created; everything happens in one transaction, so a
    failing row (e.g. a duplicate slug) leaves the catalog untouched.
    Needs a database that returns primary keys from ``bulk_create``
    (PostgreSQL, SQLite >= 3.35, MariaDB >= 10.5).
    """
    names = _clean_tag_names([name for row in rows for name in row.tags])
    Tag.objects.bulk_create(
        [Tag(name=name, slug=slugify(name)) for name in names],
        ignore_conflicts=True,
    )
    tags_by_slug = {
        tag.slug: tag for tag in Tag.objects.filter(slug__in=[slugify(n) for n in names])
    }

    books = Book.objects.bulk_create(
        [Book(author=author, title=row.title, slug=row.slug, summary=row.summary) for row in rows]
    )
    book_tag = Book.tags.through
    book_tag.objects.bulk_create(
        [
            book_tag(book_id=book.pk, tag_id=tags_by_slug[slug].pk)
            for book, row in zip(books, rows, strict=True)
            for slug in dict.fromkeys(map(slugify, _clean_tag_names(row.tags)))
        ]
    )
    return books


def publish_book(book: Book, *, on: date | None = None) -> Book:
    """Publish ``book`` (today unless ``on`` is given). Archived books stay archived."""
    if book.status == Book.Status.ARCHIVED:
        raise ValidationError("An archived book cannot be published again.")
    book.status = Book.Status.PUBLISHED
    book.published_on = on or book.published_on or timezone.localdate()
    book.save(update_fields=["status", "published_on", "updated_at"])
    return book


@transaction.atomic
def submit_review(*, book: Book, user: "User", rating: int, body: str = "") -> Review:
    """Record ``user``'s review of a published ``book``; one review per user and book."""
    if not book.is_published:
        raise ValidationError("Only published books can be reviewed.")
    review = Review(book=book, user=user, rating=rating, body=body.strip())
    review.clean_fields(exclude=["book", "user"])  # rating range, body length
    if Review.objects.filter(book=book, user=user).exists():
        raise ValidationError("You have already reviewed this book.")
    # The unique constraint still guards against two concurrent submissions.
    review.save()
    return review
