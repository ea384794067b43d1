import pytest
from django.db import transaction

from shop import services
from shop.models import Item


@pytest.fixture
def items(db):
    return [Item.objects.create(name=f"i{n}") for n in range(3)]


def test_import(db):
    services.import_names(["a", "b", "c"])


def test_import_two(db):
    services.import_names(["x", "y"])


def test_import_atomic(db):
    services.import_names_atomic(["a", "b", "c"])


def test_restock(items):
    services.restock(items)


def test_rename(items):
    services.rename_all(items)


def test_remove(items):
    services.remove(items)


def test_transfer(items):
    services.transfer(items[0], items[1])


def test_transfer_atomic(items):
    services.transfer_atomic(items[0], items[1])


def test_transfer_in_the_tests_own_atomic_block(items):
    with transaction.atomic():
        services.transfer(items[0], items[1])


def test_seed_defaults(db):
    services.seed_defaults()


def test_tags(db):
    services.tag_all(["A", "B", "C"])


def test_own_loop(db):
    for n in range(3):
        Item.objects.create(name=f"mine{n}")
    assert Item.objects.count() == 3


def test_one_write_per_call(items):
    items[0].save()
    items[1].save()


def test_checkout(client, db):
    assert client.get("/checkout/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_transfer_transactional():
    a = Item.objects.create(name="a")
    b = Item.objects.create(name="b")
    services.transfer(a, b)


def test_rename_one_in_the_tests_loop(items):
    # Three calls from one line of the test: three units of one write each.
    for item in items[:3]:
        services.rename_one(item.pk, "x")


def test_rename_and_restock_in_the_tests_loop(items):
    # Each of the three calls writes twice outside a transaction: DJG108 (once).
    for item in items[:3]:
        services.rename_and_restock(item.pk, "x")
