import pytest
from django.contrib.contenttypes.models import ContentType
from shop.models import Author, Book, Loan, Note, Profile, Review, Tag


def make(n):
    tags = [Tag.objects.create(name=f"t{i}") for i in range(2)]
    for i in range(n):
        author = Author.objects.create(name=f"a{i}")
        Profile.objects.create(author=author, bio="x")
        book = Book.objects.create(title=f"b{i}", author=author, body="long")
        book.tags.set(tags)
        Review.objects.create(book=book, stars=i)
        Note.objects.create(
            content_type=ContentType.objects.get_for_model(Book), object_id=book.pk, text="n"
        )


@pytest.fixture
def data(db):
    make(3)


@pytest.fixture
def imported(data):
    """Nine books made by an import (before the test: its writes are not the code's)."""
    author = Author.objects.get(name="a0")
    return [Book.objects.create(title=f"i{i}", author=author) for i in range(9)]


@pytest.fixture
def one_row(db):
    make(1)


@pytest.fixture
def shared_author(db):
    """Three books by one author: every row points at the same related object."""
    author = Author.objects.create(name="solo")
    for i in range(3):
        Book.objects.create(title=f"s{i}", author=author)


@pytest.fixture
def people(db, django_user_model):
    """Two users who log in with their email address (shop.backends.EmailBackend)."""
    return [
        django_user_model.objects.create_user(username=name, email=f"{name}@example.com", password="pw")
        for name in ("alice", "bob")
    ]


@pytest.fixture
def loans(data):
    """Two loans whose lender and borrower are not the book's author."""
    a0, a1, a2 = Author.objects.order_by("pk")
    b0, b1, _ = Book.objects.order_by("pk")
    Loan.objects.create(book=b0, lender=a1, borrower=a2)
    Loan.objects.create(book=b1, lender=a2, borrower=a0)
