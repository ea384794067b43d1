"""The SQL Django runs for each operation of one migration, forwards and backwards.

Run by :func:`pytest_django_gates.fix.proof.migration_sql` as
``python -m pytest_django_gates.fix.sql_worker ALIAS APP MIGRATION`` with the project's
``DJANGO_SETTINGS_MODULE``. A recipe that rewrites an operation as the SQL it runs
(``CREATE INDEX`` made ``CONCURRENTLY``) takes that SQL from Django itself, on the
project's own database engine, so the names, columns and options are exactly the ones
the operation would have used, and the database ends up the same (the proof checks it).

On a new, empty database of the alias (``test_djgfix_sql_<pid>``, created with
Django's ``creation._create_test_db``, an internal present in Django 4.2 to 6.1, and
dropped at the end), the migration's ancestors are applied; then each operation of the
migration, in order: its forward SQL collected (``schema_editor(collect_sql=True)``,
as ``sqlmigrate`` does), the operation applied for real, and its backward SQL collected
against the database it left (Django reads the database to know what to drop). A
``RunPython`` is applied but has no SQL to collect (``"code": true``).

Prints one JSON object: ``{"vendor": ..., "operations": [{"kind", "forward": [...],
"backward": [...], "code"}]}``. Exit 0; 1 with the reason on stderr.
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
    if len(args) != 3:
        print(
            "usage: python -m pytest_django_gates.fix.sql_worker ALIAS APP MIGRATION",
            file=sys.stderr,
        )
        return 2
    alias, app, name = args
    import django

    django.setup()
    from django.db import connections

    connection = connections[alias]
    test = connection.settings_dict.setdefault("TEST", {})
    test["NAME"] = None if connection.vendor == "sqlite" else f"test_djgfix_sql_{os.getpid()}"
    original = connection.settings_dict["NAME"]
    creation: Any = connection.creation  # its private methods are not in django-stubs
    try:
        test_name = creation._create_test_db(0, True, False)
    except Exception as exc:
        print(f"cannot create a {connection.vendor} test database: {_last(exc)}", file=sys.stderr)
        return 1
    connection.close()
    connection.settings_dict["NAME"] = test_name
    try:
        operations = _collect(connection, app, name)
    except Exception as exc:
        print(f"collecting the SQL of {app}.{name} failed: {_last(exc)}", file=sys.stderr)
        return 1
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original
        if connection.vendor != "sqlite":
            creation._destroy_test_db(test_name, 0)
    print(json.dumps({"vendor": connection.vendor, "operations": operations}))
    return 0


def _last(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def _collect(connection: Any, app: str, name: str) -> list[dict[str, Any]]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    key = (app, name)
    graph = executor.loader.graph
    if key not in graph.nodes:
        raise LookupError(f"no migration {app}.{name}")
    parents = sorted(parent.key for parent in graph.node_map[key].parents)
    if parents:
        executor.migrate(parents)
    migration = graph.nodes[key]
    state = executor.loader.project_state(key, at_end=False)
    collected: list[dict[str, Any]] = []
    for operation in migration.operations:
        kind = type(operation).__name__
        after = state.clone()
        operation.state_forwards(app, after)
        entry: dict[str, Any] = {"kind": kind, "forward": [], "backward": [], "code": False}
        if kind == "RunPython":
            entry["code"] = True
        else:
            with connection.schema_editor(collect_sql=True, atomic=False) as editor:
                operation.database_forwards(app, editor, state, after)
            entry["forward"] = list(editor.collected_sql)
        with connection.schema_editor(atomic=migration.atomic) as editor:
            operation.database_forwards(app, editor, state, after)
        if kind != "RunPython" and operation.reversible:
            with connection.schema_editor(collect_sql=True, atomic=False) as editor:
                operation.database_backwards(app, editor, after, state)
            entry["backward"] = list(editor.collected_sql)
        collected.append(entry)
        state = after
    return collected


if __name__ == "__main__":
    raise SystemExit(main())
