import pytest
from django.contrib.contenttypes.models import ContentType
from shop.models import Author, Book, Note, Profile, Review, Tag


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
def one_row(db):
    make(1)
