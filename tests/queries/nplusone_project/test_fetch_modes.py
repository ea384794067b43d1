"""Django 6.1 fetch modes: FETCH_PEERS batches lazy loads; related managers are not batched."""

import django
import pytest

if django.VERSION < (6, 1):
    pytest.skip("fetch modes are new in Django 6.1", allow_module_level=True)

from django.db.models import FETCH_PEERS
from shop.models import Author, Book, Note

# ---------------------------------------------------------------- must not flag


def test_ok_peers_fk_many_rows(data):
    for book in Book.objects.fetch_mode(FETCH_PEERS):
        assert book.author.name


def test_ok_peers_fk_one_row(one_row):
    for book in Book.objects.fetch_mode(FETCH_PEERS):
        assert book.author.name


def test_ok_peers_reverse_one_to_one(data):
    for author in Author.objects.fetch_mode(FETCH_PEERS):
        assert author.profile.bio


def test_ok_peers_reverse_one_to_one_one_row(one_row):
    for author in Author.objects.fetch_mode(FETCH_PEERS):
        assert author.profile.bio


def test_ok_peers_deferred_field(data):
    for book in Book.objects.only("title").fetch_mode(FETCH_PEERS):
        assert book.body


def test_ok_peers_deferred_field_one_row(one_row):
    for book in Book.objects.only("title").fetch_mode(FETCH_PEERS):
        assert book.body


def test_ok_peers_generic_fk(data):
    for note in Note.objects.fetch_mode(FETCH_PEERS):
        assert note.target is not None


def test_ok_peers_generic_fk_one_row(one_row):
    for note in Note.objects.fetch_mode(FETCH_PEERS):
        assert note.target is not None


# -------------------------------------------------------------------- must catch


def test_catch_peers_related_manager(data):
    for author in Author.objects.fetch_mode(FETCH_PEERS):
        assert list(author.books.all())


def test_catch_peers_related_manager_count(data):
    for author in Author.objects.fetch_mode(FETCH_PEERS):
        assert author.books.count() == 1


def test_catch_peers_get_in_loop(data):
    for book in Book.objects.fetch_mode(FETCH_PEERS):
        assert Author.objects.get(pk=book.author_id)


def test_catch_fetch_one_fk(data):
    # The default mode (FETCH_ONE) keeps the textbook N+1.
    for book in Book.objects.all():
        assert book.author.name


def test_catch_fetch_one_deferred_field_one_row(one_row):
    for book in Book.objects.only("title"):
        assert book.body
