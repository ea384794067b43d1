import pytest

from shop.factories import ProductFactory


@pytest.fixture
def make_products(db):
    """populate by fixture name: returns the callable that builds n products."""

    def make(n):
        return ProductFactory.create_batch(n)

    return make
