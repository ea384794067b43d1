"""Shared fixtures. Data is built in fixtures (the setup phase) so a test body
contains only the code under test; query budgets then measure just that."""

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.catalog.models import Book
from tests.factories import (
    AuthorFactory,
    AuthorProfileFactory,
    BookFactory,
    ReviewFactory,
    TagFactory,
    UserFactory,
)


@pytest.fixture
def user(db: None) -> User:
    return UserFactory()


@pytest.fixture
def user_client(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def catalog(db: None) -> list[Book]:
    """A small catalog: 3 authors x 2 published books, 2 tags each, 2 reviews each, 1 draft.

    Large enough that an N+1 query would show up as extra queries in every listing.
    """
    fiction, classics, poetry = (TagFactory(name=n) for n in ("Fiction", "Classics", "Poetry"))
    readers = UserFactory.create_batch(2)
    books: list[Book] = []
    for index in range(3):
        author = AuthorFactory()
        AuthorProfileFactory(author=author)
        for tags in ([fiction, classics], [fiction, poetry]):
            book = BookFactory(author=author, tags=tags, title=f"Book {index}-{tags[1].slug}")
            for reader in readers:
                ReviewFactory(book=book, user=reader, rating=3 + index % 3)
            books.append(book)
    BookFactory(title="Unfinished Draft", status=Book.Status.DRAFT, published_on=None)
    return books


@pytest.fixture
def book(catalog: list[Book]) -> Book:
    return catalog[0]
