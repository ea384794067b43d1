"""Code under test: the N+1s are here, in 'user code', not in the tests."""

from django.db import connection

from shop.models import Author, Book, Note, Review


def author_names(queryset):
    return [book.author.name for book in queryset]


def author_name(book):
    return book.author.name


def titles(books):
    return [b.title for b in books]


def raw_titles(ids):
    out = []
    for pk in ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT title FROM shop_book WHERE id = %s", [pk])
            out.append(cursor.fetchone()[0])
    return out


def first_review_each(books):
    return [Review.objects.filter(book=b).first() for b in books]


def note_targets():
    return [str(n.target.pk) for n in Note.objects.all()]


def author_by_id(pk):
    return Author.objects.get(pk=pk)


def count_books():
    return Book.objects.count()
