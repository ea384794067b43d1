"""PostgreSQL's column types without a PostgreSQL driver.

With ``backend = "postgresql"`` on a project whose settings use another
database, the rules need PostgreSQL's type names (``varchar(20)``,
``bigint``...). Loading Django's PostgreSQL backend for that would import
psycopg (a few hundred milliseconds, and a hard dependency), so this stand-in
carries the same type tables as ``django.db.backends.postgresql.base``
(identical from Django 4.2 to 6.1 but for the unused ``OneToOneField`` entry
that Django 6.0 removed and 6.1's ``numeric`` for a ``DecimalField`` without
digits; a test keeps them equal on every series). Nothing here ever
connects. When the project's database *is* PostgreSQL the real connection is
used instead.
"""

from __future__ import annotations

from typing import Any


def _numeric(data: dict[str, Any]) -> str:
    # Django 6.1+: a DecimalField may leave out max_digits and decimal_places.
    if data["max_digits"] is None and data["decimal_places"] is None:
        return "numeric"
    return "numeric({max_digits}, {decimal_places})".format(**data)


def _varchar(data: dict[str, Any]) -> str:
    if data["max_length"] is None:
        return "varchar"
    return f"varchar({data['max_length']})"


# Oldest PostgreSQL major each Django release supports (its minimum_database_version).
MINIMUM_VERSIONS = {
    (4, 2): 12,
    (5, 0): 12,
    (5, 1): 13,
    (5, 2): 14,
    (6, 0): 14,
    (6, 1): 15,
}
# A Django newer than this table: the newest minimum known (never an older one).
LATEST_KNOWN_MINIMUM = max(MINIMUM_VERSIONS.values())


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
        version = tuple(django_version[:2])
        if version < (6, 0):
            # Listed (and never used: a one-to-one takes its target's type) until 6.0.
            self.data_types = {**self.data_types, "OneToOneField": "integer"}
        if version >= (6, 1):
            self.data_types = {**self.data_types, "DecimalField": _numeric}
