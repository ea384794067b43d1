"""Apply every migration to a new, empty test database of one alias, then drop it.

Run by :func:`pytest_django_gates.fix.proof.apply_migrations` as
``python -m pytest_django_gates.fix.apply_worker ALIAS`` with the project's
``DJANGO_SETTINGS_MODULE``: the proof that an edited migration still applies, on
the database the project tests on (an ``AddIndexConcurrently`` cannot run on SQLite,
and that is a reason not to keep the fix). The test database gets a name of its own
(``test_djgfix_<pid>``; SQLite: in memory), so a test database of a suite running
at the same time is not touched. Exit 0 when it applied, with one JSON line on stdout:
``{"vendor": ..., "schema": ...}``, the schema the migrations left (:func:`schema`),
which the proof compares with the one before the edit; 1 with the error on stderr.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m pytest_django_gates.fix.apply_worker ALIAS", file=sys.stderr)
        return 2
    alias = args[0]
    import django

    django.setup()
    from django.db import connections

    connection = connections[alias]
    test = connection.settings_dict.setdefault("TEST", {})
    test["NAME"] = None if connection.vendor == "sqlite" else f"test_djgfix_{os.getpid()}"
    try:
        old_name = connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=False
        )
    except Exception as exc:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        print(f"migrate on a new {connection.vendor} test database failed: {last}", file=sys.stderr)
        return 1
    try:
        found = schema(connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    print(json.dumps({"vendor": connection.vendor, "schema": found}, sort_keys=True))
    return 0


_PG_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
"""
_PG_INDEXES = """
SELECT i.relname, pg_get_indexdef(x.indexrelid), x.indisvalid
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE i.relnamespace = current_schema()::regnamespace
"""
_PG_CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid),
       c.convalidated, c.condeferrable, c.condeferred
FROM pg_constraint c
WHERE c.connamespace = current_schema()::regnamespace AND c.conrelid <> 0
"""


def schema(connection: Any) -> dict[str, dict[str, Any]]:
    """The structure the migrations left: every column (type, NOT NULL, default),
    index (definition, valid) and constraint (definition, validated, deferrable) of the
    database's tables, by name. Rows are not compared (the ``django_migrations`` rows
    differ when a fix adds a migration)."""
    columns: dict[str, Any] = {}
    indexes: dict[str, Any] = {}
    constraints: dict[str, Any] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_COLUMNS)
            for table, column, kind, notnull, default, identity, generated in cursor.fetchall():
                columns[f"{table}.{column}"] = {
                    "type": kind,
                    "not null": notnull,
                    "default": default,
                    "identity": identity,
                    "generated": generated,
                }
            cursor.execute(_PG_INDEXES)
            for name, definition, valid in cursor.fetchall():
                indexes[name] = {"definition": definition, "valid": valid}
            cursor.execute(_PG_CONSTRAINTS)
            for table, name, kind, definition, validated, deferrable, deferred in cursor:
                constraints[f"{table}.{name}"] = {
                    "kind": kind,
                    "definition": definition,
                    "validated": validated,
                    "deferrable": deferrable,
                    "deferred": deferred,
                }
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            rows = cursor.fetchall()
            for kind, name, table, sql in rows:
                if kind == "index":
                    indexes[name] = {"definition": sql, "table": table}
                    continue
                cursor.execute(f'PRAGMA table_info("{name}")')
                for _cid, column, ctype, notnull, default, pk in cursor.fetchall():
                    columns[f"{name}.{column}"] = {
                        "type": ctype,
                        "not null": bool(notnull),
                        "default": default,
                        "primary key": pk,
                    }
                cursor.execute(f'PRAGMA foreign_key_list("{name}")')
                for fk in cursor.fetchall():
                    constraints[f"{name}.{fk[3]}"] = {"kind": "f", "references": [fk[2], fk[4]]}
        else:
            table_names = connection.introspection.table_names(cursor)
            for table in table_names:
                for info in connection.introspection.get_table_description(cursor, table):
                    columns[f"{table}.{info.name}"] = {
                        "type": info.type_code,
                        "null": info.null_ok,
                        "default": info.default,
                    }
                found = connection.introspection.get_constraints(cursor, table)
                for name, detail in found.items():
                    constraints[f"{table}.{name}"] = {
                        k: detail.get(k)
                        for k in (
                            "columns",
                            "primary_key",
                            "unique",
                            "foreign_key",
                            "check",
                            "index",
                        )
                    }
    return {"columns": columns, "indexes": indexes, "constraints": constraints}


def differences(
    before: dict[str, Any], after: dict[str, Any], allowed: frozenset[str]
) -> list[str]:
    """What differs between two :func:`schema` results, in sentences; a column property
    named in ``allowed`` (``"default"``) may differ."""
    found: list[str] = []
    for part in ("columns", "indexes", "constraints"):
        old, new = before.get(part, {}), after.get(part, {})
        singular = part[:-1] if part != "indexes" else "index"
        for name in sorted(set(old) - set(new)):
            found.append(f"{singular} {name} is no longer built")
        for name in sorted(set(new) - set(old)):
            found.append(f"{singular} {name} is new")
        for name in sorted(set(old) & set(new)):
            for prop in sorted(set(old[name]) | set(new[name])):
                if part == "columns" and prop in allowed:
                    continue
                if old[name].get(prop) != new[name].get(prop):
                    found.append(
                        f"{singular} {name}: {prop} {old[name].get(prop)!r} before the edit, "
                        f"{new[name].get(prop)!r} after"
                    )
    return found


if __name__ == "__main__":
    raise SystemExit(main())
