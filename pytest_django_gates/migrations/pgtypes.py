"""PostgreSQL's column types without a PostgreSQL driver.

With ``backend = "postgresql"`` on a project whose settings use another
database, the rules need PostgreSQL's type names (``varchar(20)``,
``bigint``...). Loading Django's PostgreSQL backend for that would import
psycopg (a few hundred milliseconds, and a hard dependency), so this stand-in
carries the same type tables as ``django.db.backends.postgresql.base``
(identical from Django 4.2 to 5.2; a test keeps them equal). Nothing here ever
connects. When the project's database *is* PostgreSQL the real connection is
used instead.
"""

from __future__ import annotations

from typing import Any


def _varchar(data: dict[str, Any]) -> str:
    if data["max_length"] is None:
        return "varchar"
    return f"varchar({data['max_length']})"


# Oldest PostgreSQL major each Django release supports (its minimum_database_version).
MINIMUM_VERSIONS = {(4, 2): 12, (5, 0): 12, (5, 1): 13, (5, 2): 14}
LATEST_KNOWN_MINIMUM = 14


class _Operations:
    @staticmethod
    def quote_name(name: str) -> str:
        if name.startswith('"') and name.endswith('"'):
            return name
        return f'"{name}"'

    @staticmethod
    def max_name_length() -> int:
        return 63


class _Features:
    can_rollback_ddl = True
    related_fields_match_type = False
    interprets_empty_strings_as_nulls = False

    def __init__(self, django_version: tuple[int, ...]) -> None:
        key = (django_version[0], django_version[1])
        minimum = MINIMUM_VERSIONS.get(key, LATEST_KNOWN_MINIMUM)
        self.minimum_database_version = (minimum,)


class PostgreSQLTypes:
    """Enough of a PostgreSQL ``DatabaseWrapper`` for ``Field.db_type()``/``db_check()``."""

    vendor = "postgresql"
    display_name = "PostgreSQL"
    data_types: dict[str, Any] = {
        "AutoField": "integer",
        "BigAutoField": "bigint",
        "BinaryField": "bytea",
        "BooleanField": "boolean",
        "CharField": _varchar,
        "DateField": "date",
        "DateTimeField": "timestamp with time zone",
        "DecimalField": "numeric(%(max_digits)s, %(decimal_places)s)",
        "DurationField": "interval",
        "FileField": "varchar(%(max_length)s)",
        "FilePathField": "varchar(%(max_length)s)",
        "FloatField": "double precision",
        "IntegerField": "integer",
        "BigIntegerField": "bigint",
        "IPAddressField": "inet",
        "GenericIPAddressField": "inet",
        "JSONField": "jsonb",
        "OneToOneField": "integer",
        "PositiveBigIntegerField": "bigint",
        "PositiveIntegerField": "integer",
        "PositiveSmallIntegerField": "smallint",
        "SlugField": "varchar(%(max_length)s)",
        "SmallAutoField": "smallint",
        "SmallIntegerField": "smallint",
        "TextField": "text",
        "TimeField": "time",
        "UUIDField": "uuid",
    }
    data_type_check_constraints = {
        "PositiveBigIntegerField": '"%(column)s" >= 0',
        "PositiveIntegerField": '"%(column)s" >= 0',
        "PositiveSmallIntegerField": '"%(column)s" >= 0',
    }

    def __init__(self, django_version: tuple[int, ...]) -> None:
        self.ops = _Operations()
        self.features = _Features(django_version)
