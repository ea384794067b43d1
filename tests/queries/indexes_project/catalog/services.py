from catalog.models import Author, Book, Country, Genre, Issue


def authors_named(name):
    return list(Author.objects.filter(name=name))


def latest_published():
    return list(Book.objects.order_by("-published")[:5])


def latest_created():
    return list(Book.objects.order_by("-created")[:5])


def edited_by(email):
    return list(Book.objects.filter(editor__email=email))


def books_of(author):
    return list(Book.objects.filter(author=author)) + list(author.books.all())


def by_isbn(isbn):
    return Book.objects.filter(isbn=isbn).first()


def search_titles(text):
    return list(Book.objects.filter(title__icontains=text))


def authors_from(country, city):
    return list(Author.objects.filter(country=country, city=city))


def authors_in_city(city):
    return list(Author.objects.filter(city=city))


def drafts():
    return list(Book.objects.filter(status="draft"))


def sold():
    return list(Book.objects.filter(status="sold"))


def cheaper_than(price):
    return list(Book.objects.filter(price__lt=price))


def in_print():
    return list(Book.objects.filter(in_print=True))


def country_named(name):
    return Country.objects.filter(name=name).first()


def genre_named(name):
    return Genre.objects.filter(name=name).first()


def all_books():
    return list(Book.objects.order_by("title"))


def authors_with_scratch_rows(name):
    """Raw SQL joining a table that only exists inside the test's transaction."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT "catalog_author"."id" FROM "catalog_author" INNER JOIN "scratch" '
            'ON ("catalog_author"."id" = "scratch"."author_id") WHERE "catalog_author"."name" = %s',
            [name],
        )
        return cursor.fetchall()


def books_in_states(states):
    """An IN list whose length differs from call to call: one shape, several texts, on a
    column with a partial index (so that every kept parameter set is explained)."""
    return list(Book.objects.filter(status__in=states))


def issues_numbered(number):
    """The second column of a unique constraint (series, number): no index leads with it."""
    return list(Issue.objects.filter(number=number))


def issue(series, number):
    """Both columns of the constraint: served."""
    return Issue.objects.filter(series=series, number=number).first()
