"""Raw SQL, the wrong ways (each line marked BAD is a DJG316) and the right ways."""

from django.db import connection
from django.db.models.expressions import RawSQL

from shop.models import Book


def by_title_fstring(title: str) -> list[Book]:
    return list(Book.objects.raw(f"SELECT * FROM shop_book WHERE title = '{title}'"))  # BAD


def by_title_percent(title: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM shop_book WHERE title = '%s'" % title)  # noqa: UP031 - BAD


def by_title_format(title: str) -> None:
    with connection.cursor() as cursor:
        cursor.executemany("DELETE FROM shop_book WHERE title = '{}'".format(title), [])  # noqa: UP032 - BAD


def by_title_concat(title: str) -> None:
    with connection.cursor() as c:
        c.execute("SELECT * FROM shop_book WHERE title = '" + title + "'")  # BAD


def by_title_variable(title: str) -> None:
    sql = f"SELECT * FROM shop_book WHERE title = '{title}'"
    with connection.cursor() as cursor:
        cursor.execute(sql)  # BAD


def extra_where(title: str) -> list[Book]:
    return list(Book.objects.extra(where=[f"title = '{title}'"]))  # BAD


def annotate_raw(column: str) -> list[Book]:
    return list(Book.objects.annotate(x=RawSQL(f"SELECT {column}", [])))  # BAD


class Report:
    def run(self, table: str) -> None:
        query = "SELECT count(*) FROM %s" % table  # noqa: UP031
        with connection.cursor() as cursor:
            cursor.execute(query)  # BAD


# --- never reported ------------------------------------------------------------


def parameterised(title: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM shop_book WHERE title = %s", [title])
    list(Book.objects.raw("SELECT * FROM shop_book WHERE title = %s", [title]))
    list(Book.objects.extra(where=["title = %s"], params=[title]))


def constants_only() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM shop_book LIMIT %d" % 10)  # noqa: UP031
        cursor.execute(f"SELECT * FROM shop_book")  # noqa: F541 - no field: a constant
        limit = 5
        cursor.execute("SELECT * FROM shop_book LIMIT " + "5")
        del limit
