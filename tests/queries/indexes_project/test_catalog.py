import datetime
import os

import pytest
from catalog import services
from catalog.models import Author, Book, Country, Genre, Issue
from django.utils import timezone


@pytest.fixture
def author(db):
    return Author.objects.create(name="Ann", email="ann@example.com", country="fr", city="Lyon")


@pytest.fixture
def book(author):
    return Book.objects.create(
        author=author,
        editor=author,
        title="Tides",
        isbn="978-1",
        published=datetime.date(2020, 1, 1),
        created=timezone.now(),
    )


def test_filter_unindexed(author):
    assert services.authors_named("Ann") == [author]


@pytest.mark.skipif(not os.environ.get("INDEXES_FAIL_EARLY"), reason="the -x scenario")
def test_fails_on_purpose(author):
    assert services.cheaper_than(10) == ["not this"]


def test_view_filters_unindexed(author, client):
    assert client.get("/authors/", {"name": "Ann"}).json() == {"names": ["Ann"]}


def test_order_by_with_limit_unindexed(book):
    assert services.latest_published() == [book]


def test_order_by_with_limit_indexed(book):
    assert services.latest_created() == [book]


def test_join_on_unindexed_foreign_key(book):
    assert services.edited_by("ann@example.com") == [book]


def test_foreign_key_is_indexed(book, author):
    assert services.books_of(author) == [book, book]


def test_unique_constraint_serves(book):
    assert services.by_isbn("978-1") == book


def test_icontains_is_not_judged(book):
    assert services.search_titles("ide") == [book]


def test_composite_index_serves_its_leading_columns(author):
    assert services.authors_from("fr", "Lyon") == [author]


def test_composite_index_does_not_serve_its_second_column(author):
    assert services.authors_in_city("Lyon") == [author]


def test_unique_constraint_second_column(db):
    issue = Issue.objects.create(series="Tides", number=3)
    assert services.issues_numbered(3) == [issue]


def test_unique_constraint_both_columns(db):
    issue = Issue.objects.create(series="Tides", number=3)
    assert services.issue("Tides", 3) == issue


def test_partial_index_serves_its_condition(book):
    assert services.drafts() == [book]


def test_partial_index_does_not_serve_other_values(book):
    assert services.sold() == []


def test_range_filter_unindexed(book):
    assert services.cheaper_than(10) == [book]


def test_boolean_filter_is_not_judged(book):
    assert services.in_print() == [book]


def test_small_tables(db):
    Country.objects.create(code="fr", name="France")
    Genre.objects.create(name="Poetry")
    assert services.country_named("France").code == "fr"
    assert services.genre_named("Poetry").name == "Poetry"


def test_order_without_limit_is_not_judged(book):
    assert services.all_books() == [book]


def test_the_tests_own_query_is_not_judged(book):
    assert Book.objects.filter(pages=0).exists()


@pytest.mark.skipif(not os.environ.get("INDEXES_EXPLAIN_ERROR"), reason="the error scenario")
def test_query_of_a_table_gone_at_the_end(author):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "scratch" ("author_id" integer)')
        cursor.execute('INSERT INTO "scratch" VALUES (%s)', [author.pk])
    assert services.authors_with_scratch_rows("Ann") == [(author.pk,)]
    with connection.cursor() as cursor:
        cursor.execute('DROP TABLE "scratch"')
