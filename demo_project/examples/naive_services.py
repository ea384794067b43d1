"""Deliberately naive data access, kept OUT of the clean apps.

Everything here is wrong on purpose so that the examples in this directory
can show what the gates report. Compare with ``apps/catalog/selectors.py``.
"""

from apps.catalog.models import Book


def book_titles_with_authors() -> list[str]:
    """N+1: one query for the books, then one more per book for its author."""
    return [f"{book.title} by {book.author.name}" for book in Book.objects.all()]


def book_titles_with_authors_fixed() -> list[str]:
    """The fix: join the author in the same query."""
    return [f"{book.title} by {book.author.name}" for book in Book.objects.select_related("author")]
