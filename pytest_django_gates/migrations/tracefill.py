"""Rows for the lock tracer: ``migrations.trace_rows`` rows in each table it fills
(every table but ``django_migrations``).

Each table gets ``INSERT ... SELECT ... FROM generate_series(1, N)`` with a value
for every column that needs one (NOT NULL without a default, and every foreign
key column, so that validating a constraint has rows to check): a number, text
built from the row number (distinct, within the column's length), ``false``,
now, an empty JSON object..., and for a foreign key a row of the referenced table,
which is filled first. Tables are filled in foreign-key order; a table that
cannot be filled this way (a CHECK constraint, a type without a generic value)
stays empty and is named in the trace's notes. Filling is best effort by
design: the trace still runs, and the note says which tables had no rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_NUMBER = ("smallint", "integer", "bigint", "numeric", "real", "double precision", "money")
_TIME = {
    "date": "current_date",
    "time without time zone": "'00:00'",
    "time with time zone": "'00:00+00'",
    "timestamp without time zone": "now()",
    "timestamp with time zone": "now()",
    "interval": "'0'",
}
_OTHER = {
    "boolean": "false",
    "json": "'{}'",
    "jsonb": "'{}'",
    "uuid": "md5(g::text)::uuid",
    "inet": "'127.0.0.1'",
    "cidr": "'127.0.0.0/8'",
    "bytea": "''",
}


def fill_tables(connection: Any, tables: Iterable[str], rows: int) -> list[str]:
    """Fill ``tables`` (and the tables their foreign keys reference) with ``rows`` rows
    each; returns notes about the tables that could not be filled."""
    from django.db import DatabaseError, transaction

    notes: list[str] = []
    wanted = list(dict.fromkeys(tables))
    with connection.cursor() as cursor:
        order = _fk_order(cursor, wanted)
        for table in order:
            error = ""
            for spread in (False, True):  # one referenced row for all, else one each
                sql = _insert_sql(cursor, table, rows, spread=spread)
                if sql is None:
                    error = "a column has no generic value"
                    break
                try:
                    with transaction.atomic(using=connection.alias):
                        cursor.execute(sql)
                except DatabaseError as exc:
                    text = str(exc).strip()
                    error = text.splitlines()[0] if text else type(exc).__name__
                    continue
                error = ""
                break
            if error:
                notes.append(f"{table}: left empty ({error})")
    return notes


def _fk_order(cursor: Any, tables: list[str]) -> list[str]:
    """``tables`` and what they reference, referenced tables first (cycles broken)."""
    cursor.execute(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid <> confrelid"
    )
    refs: dict[str, set[str]] = {}
    for child, parent in cursor.fetchall():
        refs.setdefault(child, set()).add(parent)
    order: list[str] = []
    seen: set[str] = set()

    def visit(table: str, path: frozenset[str]) -> None:
        if table in seen or table in path:
            return
        for parent in sorted(refs.get(table, ())):
            visit(parent, path | {table})
        seen.add(table)
        order.append(table)

    for table in tables:
        visit(table, frozenset())
    return order


def _insert_sql(cursor: Any, table: str, rows: int, *, spread: bool) -> str | None:
    cursor.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', "
        "(SELECT format('%%s.%%I', c.confrelid::regclass, ra.attname) "
        " FROM pg_constraint c JOIN pg_attribute ra "
        "   ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1] "
        " WHERE c.conrelid = a.attrelid AND c.contype = 'f' AND c.conkey = ARRAY[a.attnum]) "
        "FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped ORDER BY a.attnum",
        [table],
    )
    columns: list[str] = []
    values: list[str] = []
    for name, type_name, not_null, has_default, reference in cursor.fetchall():
        if reference:
            parent, _, column = reference.rpartition(".")
            value = (
                f"(SELECT {column} FROM {parent} ORDER BY 1 LIMIT 1 OFFSET (g - 1) % {rows})"
                if spread
                else f"(SELECT {column} FROM {parent} LIMIT 1)"
            )
        elif not not_null or has_default:
            continue
        else:
            generic = _value(type_name)
            if generic is None:
                return None
            value = generic
        columns.append(_quote(name))
        values.append(value)
    if not columns:
        return f"INSERT INTO {table} SELECT FROM generate_series(1, {rows}) AS g"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, {rows}) AS g"
    )


def _value(type_name: str) -> str | None:
    base, _, size = type_name.partition("(")
    base = base.strip()
    if base.endswith("[]") or type_name.endswith("[]"):
        return "'{}'"
    if base in _NUMBER:
        return "(g % 32000)" if base == "smallint" else "g"
    if base in ("character varying", "character", "text", "citext"):
        length = int(size.rstrip(")").split(",")[0]) if size else 0
        text = "(g::text || md5(g::text))"
        return f"left({text}, {length})" if length else text
    if base in _TIME:
        return _TIME[base]
    return _OTHER.get(base)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
