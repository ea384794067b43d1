"""View tests through the test client.

Listing and detail pages carry ``@pytest.mark.query_budget(N)``: N is the exact
number of queries the request needs for the catalog fixture, and must not grow
with the number of rows (the selector tests prove that separately).
"""

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User
from apps.catalog.models import Book, Review


@pytest.mark.query_budget(3)  # COUNT for the paginator + books/authors/aggregates + tags
def test_book_list_shows_published_books(client: Client, catalog: list[Book]) -> None:
    response = client.get(reverse("catalog:book-list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert all(book.title in html for book in catalog)
    assert "Unfinished Draft" not in html
    assert "2 reviews" in html


@pytest.mark.query_budget(3)
def test_book_list_filters_by_tag(client: Client, catalog: list[Book]) -> None:
    response = client.get(reverse("catalog:book-list"), {"tag": "poetry"})

    assert response.status_code == 200
    assert len(response.context["books"]) == 3


@pytest.mark.query_budget(3)  # book/author/profile/average + tags + reviews/users
def test_book_detail_shows_reviews(client: Client, book: Book) -> None:
    response = client.get(book.get_absolute_url())

    assert response.status_code == 200
    assert book.title in response.content.decode()
    assert response.content.decode().count("<blockquote>") == 2


def test_book_detail_hides_drafts(client: Client, catalog: list[Book]) -> None:
    response = client.get(reverse("catalog:book-detail", kwargs={"slug": "unfinished-draft"}))

    assert response.status_code == 404


@pytest.mark.query_budget(2)  # COUNT for the paginator + authors with book counts
def test_author_list(client: Client, catalog: list[Book]) -> None:
    response = client.get(reverse("catalog:author-list"))

    assert response.status_code == 200
    assert response.content.decode().count("(2 books)") == 3


@pytest.mark.query_budget(3)  # author/profile + published books + their tags
def test_author_detail_lists_published_books(client: Client, book: Book) -> None:
    response = client.get(book.author.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert book.title in html
    assert "Classics" in html


@pytest.mark.query_budget(2)  # books/authors/aggregates + tags
def test_book_list_api_returns_json(client: Client, catalog: list[Book]) -> None:
    response = client.get(reverse("catalog:api-book-list"))

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == len(catalog)
    assert set(results[0]) == {
        "title",
        "slug",
        "url",
        "author",
        "published_on",
        "tags",
        "review_count",
        "average_rating",
    }


def test_reviewing_requires_login(client: Client, book: Book) -> None:
    url = reverse("catalog:review-create", kwargs={"slug": book.slug})

    response = client.post(url, {"rating": 5})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not Review.objects.filter(rating=5, book=book).exists()


def test_signed_in_user_can_review_a_book(user_client: Client, user: User, book: Book) -> None:
    url = reverse("catalog:review-create", kwargs={"slug": book.slug})

    response = user_client.post(url, {"rating": 5, "body": "Loved it."}, follow=True)

    assert response.redirect_chain == [(book.get_absolute_url(), 302)]
    assert Review.objects.filter(book=book, user=user, rating=5).exists()
    assert "Thank you for your review!" in response.content.decode()


def test_invalid_review_redisplays_the_form(user_client: Client, book: Book) -> None:
    url = reverse("catalog:review-create", kwargs={"slug": book.slug})

    response = user_client.post(url, {"rating": 9})

    assert response.status_code == 200
    assert response.context["form"].errors["rating"]


def test_second_review_is_refused(user_client: Client, user: User, book: Book) -> None:
    url = reverse("catalog:review-create", kwargs={"slug": book.slug})
    user_client.post(url, {"rating": 4})

    response = user_client.post(url, {"rating": 1})

    assert response.status_code == 200
    assert "already reviewed" in response.content.decode()
    assert Review.objects.filter(book=book, user=user).count() == 1
