"""Excluded with deploy.exclude = ["scripts"] in the exclusion test; a DJG316 otherwise."""

from django.db import connection


def purge(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
