"""Django 6.1 fetch modes: FETCH_PEERS batches lazy loads; related managers are not batched."""

import django
import pytest

if django.VERSION < (6, 1):
    pytest.skip("fetch modes are new in Django 6.1", allow_module_level=True)

from shop import peers

# ---------------------------------------------------------------- must not flag


def test_ok_peers_fk_many_rows(data):
    assert all(peers.author_names())


def test_ok_peers_fk_one_row(one_row):
    assert peers.author_names() == ["a0"]


def test_ok_peers_reverse_one_to_one(data):
    assert all(peers.bios())


def test_ok_peers_reverse_one_to_one_one_row(one_row):
    assert all(peers.bios())


def test_ok_peers_deferred_field(data):
    assert all(peers.bodies())


def test_ok_peers_deferred_field_one_row(one_row):
    assert all(peers.bodies())


def test_ok_peers_generic_fk(data):
    assert all(t is not None for t in peers.targets())


def test_ok_peers_generic_fk_one_row(one_row):
    assert all(t is not None for t in peers.targets())


# -------------------------------------------------------------------- must catch


def test_catch_peers_related_manager(data):
    assert all(peers.book_lists())


def test_catch_peers_related_manager_count(data):
    assert peers.book_counts() == [1, 1, 1]


def test_catch_peers_get_in_loop(data):
    assert all(peers.authors_by_get())


def test_catch_fetch_one_fk(data):
    assert all(peers.author_names_fetch_one())


def test_catch_fetch_one_deferred_field_one_row(one_row):
    assert all(peers.bodies_fetch_one())
