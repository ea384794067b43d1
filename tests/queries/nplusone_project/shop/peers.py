"""Code under test for Django 6.1's fetch modes (imported only on 6.1+)."""

from django.db.models import FETCH_PEERS

from shop.models import Author, Book, Note


def author_names():
    return [book.author.name for book in Book.objects.fetch_mode(FETCH_PEERS)]


def bios():
    return [author.profile.bio for author in Author.objects.fetch_mode(FETCH_PEERS)]


def bodies():
    return [book.body for book in Book.objects.only("title").fetch_mode(FETCH_PEERS)]


def targets():
    return [note.target for note in Note.objects.fetch_mode(FETCH_PEERS)]


def book_lists():
    return [list(author.books.all()) for author in Author.objects.fetch_mode(FETCH_PEERS)]


def book_counts():
    return [author.books.count() for author in Author.objects.fetch_mode(FETCH_PEERS)]


def authors_by_get():
    return [Author.objects.get(pk=b.author_id) for b in Book.objects.fetch_mode(FETCH_PEERS)]


def author_names_fetch_one():
    # The default mode (FETCH_ONE) keeps the textbook N+1.
    return [book.author.name for book in Book.objects.all()]


def bodies_fetch_one():
    return [book.body for book in Book.objects.only("title")]
