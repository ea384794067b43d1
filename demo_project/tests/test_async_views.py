"""The async view, exercised through Django's AsyncClient.

The test itself is synchronous (no pytest-asyncio needed): ``async_to_sync``
runs the request, and the async ORM calls inside the view run back on this
thread, inside the test's transaction.
"""

import pytest
from asgiref.sync import async_to_sync
from django.http.response import HttpResponseBase
from django.test import AsyncClient
from django.urls import reverse

from apps.catalog.models import Book


async def async_get(url: str) -> HttpResponseBase:
    return await AsyncClient().get(url)


@pytest.mark.query_budget(2)  # aget() book + author, then `async for` over reviews + users
def test_book_reviews_api_uses_the_async_orm(book: Book) -> None:
    url = reverse("catalog:api-book-reviews", kwargs={"slug": book.slug})

    response = async_to_sync(async_get)(url)

    assert response.status_code == 200
    payload = response.json()
    assert payload["book"] == {"title": book.title, "author": book.author.name}
    assert len(payload["reviews"]) == 2
    assert {review["rating"] for review in payload["reviews"]} == {3}


def test_book_reviews_api_returns_404_for_unknown_books(db: None) -> None:
    url = reverse("catalog:api-book-reviews", kwargs={"slug": "no-such-book"})

    response = async_to_sync(async_get)(url)

    assert response.status_code == 404
