"""Scenarios of @pytest.mark.query_scaling: test_ok_* pass, test_grows_* fail with DJG109."""

from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from shop.factories import ProductFactory
from shop.models import Category, Product


def seen(label):
    """Record what the body saw (the outer test reads seen.txt)."""
    with Path("seen.txt").open("a") as f:
        f.write(f"{label} {Product.objects.count()} {Category.objects.count()}\n")


@pytest.mark.query_scaling(populate=ProductFactory)
@pytest.mark.django_db
def test_ok_constant_view(client):
    products = client.get("/constant/").json()["products"]
    assert len(products) == Product.objects.count()
    seen("constant")


@pytest.mark.query_scaling(populate=ProductFactory, scales=(3, 7))
@pytest.mark.django_db
def test_grows_view(client):
    assert client.get("/growing/").status_code == 200
    seen("growing")


@pytest.mark.query_scaling(populate="make_products")
@pytest.mark.django_db
def test_ok_fixture_populate(client):
    assert client.get("/constant/").status_code == 200


@pytest.mark.query_scaling(populate=lambda n: ProductFactory.create_batch(n))
@pytest.mark.django_db
def test_grows_callable_populate(client):
    assert client.get("/counts/").status_code == 200


@pytest.mark.parametrize("url", ["/constant/", "/growing/"])
@pytest.mark.query_scaling("make_products")
@pytest.mark.django_db
def test_param(client, url):
    assert client.get(url).status_code == 200


@pytest.mark.query_budget(1)
@pytest.mark.query_scaling(populate=ProductFactory)
@pytest.mark.django_db
def test_ok_budget_judges_the_larger_run_only(client):
    # One query per run: the budget of 1 holds unless both runs were counted.
    assert client.get("/constant/").status_code == 200


@pytest.mark.query_scaling(populate=ProductFactory)
@pytest.mark.django_db(databases=["default", "other"])
def test_ok_rows_do_not_leak(client):
    seen("leak")
    assert Product.objects.count() in (2, 5)
    assert Category.objects.count() == Product.objects.count()
    assert Product.objects.using("other").count() == 0


@pytest.mark.django_db
def test_ok_nothing_left_after_a_scaled_test():
    assert Product.objects.count() == 0


@pytest.fixture
def existing(db):
    ProductFactory.create_batch(1)


@pytest.mark.query_scaling(populate=ProductFactory)
def test_ok_fixture_rows_at_both_scales(existing, client):
    # The test's own fixtures run once: their row is there at both scales.
    seen("fixture")
    assert client.get("/constant/").status_code == 200


@pytest.mark.query_scaling(populate=ProductFactory)
@pytest.mark.django_db
def test_fails_in_the_smaller_run():
    assert Product.objects.count() == 5


@pytest.mark.query_scaling(populate=ProductFactory)
@pytest.mark.django_db
def test_ok_async_view_through_async_to_sync():
    response = async_to_sync(AsyncClient().get)("/async/")
    assert len(response.json()["products"]) == Product.objects.count()
