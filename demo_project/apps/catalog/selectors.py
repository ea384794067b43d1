"""Read-side queries of the catalog.

Every function returns a queryset whose related data is already joined
(``select_related``), batched (``prefetch_related`` / ``Prefetch``) or
aggregated in SQL (``annotate``), so a page costs the same number of queries
whether it shows 2 rows or 200. Views must not add relations of their own.
"""

from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, QuerySet

from apps.catalog.models import Author, Book, Review


def published_books(*, tag_slug: str | None = None) -> QuerySet[Book]:
    """Published books, newest first, with author, tags and review statistics.

    Queries when evaluated: 1 (books + authors + aggregates) + 1 (tags).
    """
    books = Book.objects.published()
    if tag_slug:
        books = books.filter(tags__slug=tag_slug)
    return (
        books.select_related("author")
        .prefetch_related("tags")
        .annotate(
            review_count=Count("reviews", distinct=True),
            average_rating=Avg("reviews__rating"),
        )
        .order_by("-published_on", "-id")
    )


def book_detail_queryset() -> QuerySet[Book]:
    """A published book with author (and profile), tags and reviews with their users.

    Queries when evaluated: 1 (book + author + profile + average) + 1 (tags) + 1 (reviews + users).
    """
    return (
        Book.objects.published()
        .select_related("author", "author__profile")
        .prefetch_related(
            "tags",
            Prefetch(
                "reviews", queryset=Review.objects.select_related("user").order_by("-created_at")
            ),
        )
        .annotate(average_rating=Avg("reviews__rating"))
    )


def authors_with_book_counts() -> QuerySet[Author]:
    """Authors by name with their number of published books. Queries: 1."""
    return Author.objects.annotate(
        published_count=Count("books", filter=Q(books__status=Book.Status.PUBLISHED)),
    ).order_by("name")


def author_detail_queryset() -> QuerySet[Author]:
    """An author with profile and published books (with their tags) in ``published_books``.

    Queries when evaluated: 1 (author + profile) + 1 (books) + 1 (tags).
    """
    return Author.objects.select_related("profile").prefetch_related(
        Prefetch(
            "books",
            queryset=Book.objects.published().prefetch_related("tags").order_by("-published_on"),
            to_attr="published_books",
        )
    )


def serialize_book(book: Book) -> dict[str, Any]:
    """JSON-ready dict of a book from :func:`published_books` (no extra queries)."""
    average: float | None = getattr(book, "average_rating", None)
    return {
        "title": book.title,
        "slug": book.slug,
        "url": book.get_absolute_url(),
        "author": book.author.name,
        "published_on": book.published_on.isoformat() if book.published_on else None,
        "tags": [tag.name for tag in book.tags.all()],
        "review_count": getattr(book, "review_count", 0),
        "average_rating": round(average, 2) if average is not None else None,
    }


# --- async selectors (used by async views) --------------------------------------


async def aget_published_book(slug: str) -> Book:
    """Fetch one published book with its author. Queries: 1. Raises ``Book.DoesNotExist``."""
    return await Book.objects.published().select_related("author").aget(slug=slug)


async def arecent_reviews(book: Book, *, limit: int = 20) -> list[Review]:
    """The newest reviews of ``book`` with their users. Queries: 1."""
    reviews = Review.objects.filter(book=book).select_related("user").order_by("-created_at")
    return [review async for review in reviews[:limit]]


def serialize_review(review: Review) -> dict[str, Any]:
    """JSON-ready dict of a review fetched with ``select_related("user")``."""
    return {
        "user": review.user.get_username(),
        "rating": review.rating,
        "body": review.body,
        "created_at": review.created_at.isoformat(),
    }
