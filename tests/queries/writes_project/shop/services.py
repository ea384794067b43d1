from django.db import transaction

from shop.models import Item, Tag


def import_names(names):
    for name in names:
        Item.objects.create(name=name)


@transaction.atomic
def import_names_atomic(names):
    for name in names:
        Item.objects.create(name=name)


def restock(items):
    for item in items:
        item.stock += 1
        item.save()


def rename_all(items):
    for item in items:
        Item.objects.filter(pk=item.pk).update(name=item.name.upper())


def remove(items):
    for item in items:
        item.delete()


def transfer(source, target):
    source.stock -= 1
    source.save(update_fields=["stock"])
    target.stock += 1
    target.save(update_fields=["stock"])


@transaction.atomic
def transfer_atomic(source, target):
    transfer(source, target)


def seed_defaults():
    for name in ("first", "second", "third"):
        Item.objects.create(name=name)


def tag_all(labels):
    for label in labels:
        Tag.objects.create(label=label)


def rename_one(pk, name):
    """One read and one write: each call is one unit of work, with one write."""
    item = Item.objects.get(pk=pk)
    item.name = name
    item.save()


def rename_and_restock(pk, name):
    """Two writes in each call, outside a transaction."""
    item = Item.objects.get(pk=pk)
    item.name = name
    item.save(update_fields=["name"])
    Item.objects.filter(pk=pk).update(stock=item.stock + 1)
