"""factory_boy factories for every model: tests build their data here, never from fixtures."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils.text import slugify

from apps.catalog.models import Author, AuthorProfile, Book, Review, Tag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"reader{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct-horse-battery-staple")


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"Author {n}")
    slug = factory.LazyAttribute(lambda author: slugify(author.name))


class AuthorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuthorProfile

    author = factory.SubFactory(AuthorFactory)
    bio = factory.Faker("sentence")
    website = factory.Faker("url")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Tag {n}")
    slug = factory.LazyAttribute(lambda tag: slugify(tag.name))


class BookFactory(factory.django.DjangoModelFactory):
    """A published book. For a draft pass ``status=Book.Status.DRAFT, published_on=None``."""

    class Meta:
        model = Book
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Book {n}")
    slug = factory.LazyAttribute(lambda book: slugify(book.title))
    author = factory.SubFactory(AuthorFactory)
    status = Book.Status.PUBLISHED
    published_on = factory.Sequence(
        lambda n: datetime.date(2020, 1, 1) + datetime.timedelta(days=n)
    )

    @factory.post_generation
    def tags(self, create: bool, extracted: list[Tag] | None, **kwargs: object) -> None:
        if create and extracted:
            self.tags.add(*extracted)


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    book = factory.SubFactory(BookFactory)
    user = factory.SubFactory(UserFactory)
    rating = 4
    body = factory.Faker("sentence")
