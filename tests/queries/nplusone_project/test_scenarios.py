"""Scenarios: test_catch_* must produce an N+1 finding, test_ok_* must not."""

import pytest
from asgiref.sync import async_to_sync
from django.db import connection, connections
from django.db.models import Prefetch, prefetch_related_objects
from django.test import AsyncClient
from shop import services
from shop.models import Author, Book, Review


def test_catch_fk_loop(data):
    for book in Book.objects.all():
        assert book.author.name


def test_catch_fk_in_service(data):
    assert len(services.author_names(Book.objects.all())) == 3


def test_catch_reverse_fk(data):
    for author in Author.objects.all():
        assert list(author.books.all())


def test_catch_m2m(data):
    for book in Book.objects.all():
        assert [t.name for t in book.tags.all()]


def test_catch_reverse_one_to_one(data):
    for author in Author.objects.all():
        assert author.profile.bio


def test_catch_generic_fk(data):
    assert len(services.note_targets()) == 3


def test_catch_count_in_loop(data):
    for author in Author.objects.all():
        assert author.books.count() == 1


def test_catch_exists_in_loop(data):
    for author in Author.objects.all():
        assert Book.objects.filter(author=author).exists()


def test_catch_get_in_loop(data):
    for pk in list(Author.objects.values_list("pk", flat=True)):
        assert Author.objects.get(pk=pk)


def test_catch_filter_first_in_loop(data):
    assert all(services.first_review_each(list(Book.objects.all())))


def test_catch_raw_cursor_in_loop(data):
    ids = list(Book.objects.values_list("pk", flat=True))
    assert len(services.raw_titles(ids)) == 3


def test_catch_deferred_field(data):
    for book in Book.objects.only("title"):
        assert book.body


def test_catch_filter_on_prefetched(data):
    for book in Book.objects.prefetch_related("reviews"):
        assert book.reviews.filter(stars__gte=0).exists()


def test_catch_prefetch_per_instance(data):
    for book in list(Book.objects.all()):
        prefetch_related_objects([book], "tags")


def test_catch_iterator(data):
    for book in Book.objects.iterator():
        assert book.author.name


@pytest.mark.django_db(databases=["default", "other"])
def test_catch_other_alias(data):
    # The same rows are read through the second alias (same test database on SQLite memory
    # is separate, so write them there first).
    for i in range(3):
        Author.objects.using("other").create(name=f"o{i}")
    for author in Author.objects.using("other").all():
        assert Book.objects.using("other").filter(author=author).count() == 0


def test_catch_latent_single_row(one_row):
    for book in Book.objects.all():
        assert book.author.name


def test_catch_latent_reverse_single_row(one_row):
    titles = [b.title for a in Author.objects.all() for b in a.books.all()]
    assert titles


def test_catch_view(data, client):
    assert client.get("/bad/").status_code == 200


def test_catch_template_loop(data, client):
    assert client.get("/template/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_catch_async_view(data):
    response = async_to_sync(AsyncClient().get)("/async/")
    assert response.status_code == 200


# ---------------------------------------------------------------- must not flag


def test_ok_select_related(data):
    for book in Book.objects.select_related("author"):
        assert book.author.name


def test_ok_prefetch_related(data):
    for author in Author.objects.prefetch_related("books__tags"):
        for book in author.books.all():
            assert list(book.tags.all())


def test_ok_prefetch_object(data):
    qs = Author.objects.prefetch_related(
        Prefetch("books", queryset=Book.objects.select_related("author").prefetch_related("tags"))
    )
    for author in qs:
        for book in author.books.all():
            assert book.author.name and list(book.tags.all())


def test_ok_reverse_one_to_one_select_related(data):
    for author in Author.objects.select_related("profile"):
        assert author.profile.bio


def test_ok_single_get_then_access(data):
    book = Book.objects.get(title="b1")
    assert book.author.name


def test_ok_two_fetches_different_lines(data):
    first = services.author_by_id(Author.objects.first().pk)
    second = Author.objects.get(pk=first.pk)
    third = Author.objects.get(pk=first.pk)
    assert first == second == third


def test_ok_savepoints(data):
    from django.db import transaction

    for _ in range(3):
        with transaction.atomic():
            pass
    assert Author.objects.count() == 3


def test_ok_prefetch_cache_reads(data):
    books = list(Book.objects.prefetch_related("reviews", "tags"))
    for book in books:
        assert book.reviews.count() == 1
        assert len(book.tags.all()) == 2


def test_ok_same_page_requested_repeatedly(data, client):
    for _ in range(3):
        assert client.get("/ok/").status_code == 200


def test_ok_view_select_related(data, client):
    assert client.get("/ok/").status_code == 200


def test_ok_first_then_relation(data):
    book = Book.objects.filter(title="b0").first()
    assert book.author.name


def test_ok_factory_like_setup_in_loop(db):
    for i in range(3):
        Author.objects.create(name=f"x{i}")
    assert Author.objects.count() == 3


def test_ok_raw_single(data):
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM shop_book")
        assert cursor.fetchone()[0] == 3


def test_ok_services_count_twice_different_lines(data):
    first = services.count_books()
    second = Book.objects.count()
    assert first == second == 3


@pytest.mark.query_budget(2)
def test_ok_budget_respected(data):
    assert list(Book.objects.select_related("author"))
    assert Review.objects.count() == 3


def test_ok_connections_other_unused(data):
    assert connections["default"].vendor in ("sqlite", "postgresql")
