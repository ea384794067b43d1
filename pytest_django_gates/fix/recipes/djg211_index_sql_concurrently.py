"""DJG211: an index or a unique constraint Django builds for a field or model option
(``db_index=True`` or ``unique=True`` by ``AlterField``, a new indexed column by
``AddField``, ``unique_together``, ``index_together``, ``AddConstraint`` of a
``UniqueConstraint``) -> the state unchanged, the database built ``CONCURRENTLY``.

Django's documented pattern: ``SeparateDatabaseAndState`` keeps the operation as the
state change (``state_operations``) and runs SQL for the database. The SQL is Django's
own for that operation on the project's database (:mod:`pytest_django_gates.fix.sql_worker`,
as ``sqlmigrate`` prints it), so every name, column, operator class and condition is the
one the operation would have used; only the way it is built changes:

* ``CREATE [UNIQUE] INDEX "name" ON ...`` -> ``CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT
  EXISTS "name" ON ...`` (a retried migration finds the index built);
* ``ALTER TABLE "t" ADD CONSTRAINT "c" UNIQUE (...)`` -> ``CREATE UNIQUE INDEX
  CONCURRENTLY IF NOT EXISTS "c" ON "t" (...)`` then ``ALTER TABLE "t" ADD CONSTRAINT
  "c" UNIQUE USING INDEX "c"`` (the constraint takes the index over without a scan);
* backwards: Django's own reverse SQL when the operation is rewritten in place;
  ``DROP INDEX CONCURRENTLY IF EXISTS`` and ``DROP CONSTRAINT IF EXISTS`` for what a new
  migration built.

When every statement of the operation builds an index and every other operation of the
migration only builds indexes too (or changes nothing in the database), the operation is
rewritten in place and the migration made ``atomic = False``. When the operation also
does something else (``ADD COLUMN``), that part stays where it is, as Django's SQL
under ``database_operations``, and the index builds move to a new non-atomic migration
right after it, which needs the migration to be its app's last (nothing depends on it).
A statement of another shape (``NULLS NOT DISTINCT``, an exclusion constraint) is not
rewritten. PostgreSQL only: on another database there is no ``CONCURRENTLY``.

The proof (:mod:`pytest_django_gates.fix.proof`) checks that the schema after every
migration is the same as before the edit.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Any

from pytest_django_gates.fix import migration_files as mf
from pytest_django_gates.fix.plan import Change, Context, NotFixable, Read, Target
from pytest_django_gates.fix.recipes._ops import (
    NewMigration,
    edited_in_place,
    located,
    with_new_migration,
)
from pytest_django_gates.fix.source_edit import (
    Splice,
    ensure_import,
    span,
)

KINDS = frozenset(
    {"AlterField", "AddField", "AlterUniqueTogether", "AlterIndexTogether", "AddConstraint"}
)

_CREATE_INDEX = re.compile(
    r'^CREATE (?P<unique>UNIQUE )?INDEX (?P<name>"[^"]+") ON (?P<rest>.+?);?$', re.S
)
_ADD_UNIQUE = re.compile(
    r'^ALTER TABLE (?P<table>"[^"]+") ADD CONSTRAINT (?P<name>"[^"]+") '
    r"UNIQUE \((?P<columns>[^()]*)\)(?P<defer> DEFERRABLE INITIALLY (?:DEFERRED|IMMEDIATE))?;?$"
)
_CONCURRENT = re.compile(r"^CREATE (UNIQUE )?INDEX CONCURRENTLY ", re.S)


@dataclass(frozen=True)
class Built:
    """One index (or unique constraint) the operation builds, and how to build it
    concurrently and drop it."""

    name: str  # quoted, as Django wrote it
    table: str  # quoted; "" for an index (its drop does not name the table)
    concurrent: tuple[str, ...]
    drop: str


def rewrite(statement: str) -> Built | None:
    """The concurrent form of one of Django's index statements; None for another."""
    text = statement.strip()
    if match := _CREATE_INDEX.match(text):  # CONCURRENTLY is not a quoted name: no match
        unique = match["unique"] or ""
        return Built(
            match["name"],
            "",
            (
                f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {match['name']} "
                f"ON {match['rest']};",
            ),
            f"DROP INDEX CONCURRENTLY IF EXISTS {match['name']};",
        )
    if match := _ADD_UNIQUE.match(text):
        table, name = match["table"], match["name"]
        return Built(
            name,
            table,
            (
                f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
                f"({match['columns']});",
                f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
                f"{match['defer'] or ''};",
            ),
            f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name};",
        )
    return None


def builds_only_indexes(entry: dict[str, Any]) -> bool:
    """An operation whose SQL only builds indexes (or that runs none): it can share a
    non-atomic migration."""
    forward: list[str] = entry.get("forward") or []
    return not entry.get("code") and all(
        rewrite(s) is not None or _CONCURRENT.match(s.strip()) for s in forward
    )


_DROP_INDEX = re.compile(r'^DROP INDEX IF EXISTS (?P<name>"[^"]+");?$')


def _concurrent_drop(statement: str) -> str:
    """Django's ``DROP INDEX IF EXISTS`` of a reverse, run CONCURRENTLY (the migration
    is not atomic)."""
    match = _DROP_INDEX.match(statement.strip())
    return f"DROP INDEX CONCURRENTLY IF EXISTS {match['name']};" if match else statement


def _drops(statement: str, built: list[Built]) -> bool:
    """A reverse statement of Django's that drops what a new migration built (its own
    reverse drops it first)."""
    text = statement.strip()
    for b in built:
        if text in (
            f"DROP INDEX IF EXISTS {b.name};",
            f"DROP INDEX CONCURRENTLY IF EXISTS {b.name};",
            f"DROP INDEX {b.name};",
        ):
            return True
        if b.table and text == f"ALTER TABLE {b.table} DROP CONSTRAINT {b.name};":
            return True
    return False


def _literal_list(items: list[str], indent: str) -> str:
    inner = "".join(f"{indent}    {item!r},\n" for item in items)
    return f"[\n{inner}{indent}]"


def _run_sql(sql: list[str], reverse: list[str], indent: str) -> str:
    reverse_text = _literal_list(reverse, indent + "    ") if reverse else "migrations.RunSQL.noop"
    return (
        f"migrations.RunSQL(\n"
        f"{indent}    sql={_literal_list(sql, indent + '    ')},\n"
        f"{indent}    reverse_sql={reverse_text},\n"
        f"{indent})"
    )


def _reindented(segment: str, extra: str) -> str:
    """``segment`` with its continuation lines indented by ``extra`` more; as it is when
    a string in it spans lines (indenting would change the string)."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(segment).readline):
            if token.type == tokenize.STRING and token.start[0] != token.end[0]:
                return segment
    except (tokenize.TokenError, SyntaxError):
        return segment
    lines = segment.split("\n")
    return "\n".join([lines[0], *((extra + line) if line.strip() else line for line in lines[1:])])


def _database(sql: list[str], reverse: list[str], indent: str) -> str:
    """The ``database_operations`` list: one ``RunSQL``."""
    inner = indent + "        "
    return f"[\n{inner}{_run_sql(sql, reverse, inner)},\n{indent}    ]"


def _separate(segment: str, indent: str, database: str) -> str:
    inner = indent + "    "
    return (
        "migrations.SeparateDatabaseAndState(\n"
        f"{inner}state_operations=[\n"
        f"{inner}    {_reindented(segment, '        ')},\n"
        f"{inner}],\n"
        f"{inner}database_operations={database},\n"
        f"{indent})"
    )


def plan(target: Target, ctx: Context, read: Read) -> Change:
    source, op = located(target, read)
    if op.call is None or op.kind not in KINDS:
        raise NotFixable(f"{op.kind or 'this expression'} is not rewritten automatically")
    if ctx.sql_of is None:
        raise NotFixable("reading Django's SQL for the operation needs the project's database")
    app, name = mf.app_and_name(target.object)
    vendor, operations = ctx.sql_of(app, name)
    if vendor != "postgresql":
        raise NotFixable(f"the database is {vendor}: CONCURRENTLY is PostgreSQL's")
    position = source.operations.index(op)
    if len(operations) != len(source.operations) or operations[position]["kind"] != op.kind:
        raise NotFixable(
            "the migration's operations as Django loads them are not the ones written in "
            "its operations list"
        )
    entry = operations[position]
    forward = [str(s) for s in entry["forward"]]
    backward = [_concurrent_drop(str(s)) for s in entry["backward"]]
    rewritten = [(s, rewrite(s)) for s in forward]
    built = [b for _s, b in rewritten if b is not None]
    other = [s for s, b in rewritten if b is None]
    if not built:
        raise NotFixable(
            "Django's SQL for it builds no index in a form rewritten automatically "
            f"({'; '.join(s.strip()[:80] for s in forward) or 'no SQL'})"
        )
    concurrent = [s for b in built for s in b.concurrent]
    start, end = span(source.text, op.node)
    line_start = source.text.rfind("\n", 0, start) + 1
    indent = source.text[line_start:start]
    # ``operations = [migrations.AlterField(...)]`` on one line: the new operation goes on
    # lines of its own, and the list's bracket on the line after it.
    before, closing = "", ""
    if indent.strip() or not indent:
        base = indent[: len(indent) - len(indent.lstrip())]
        indent = base + "    "
        before = "\n" + indent
        rest = source.text[end:]
        if rest.lstrip(" \t").startswith("]"):
            end += len(rest) - len(rest.lstrip(" \t"))
            closing = ",\n" + base
    migrations_import = ensure_import(source.text, source.tree, "django.db", "migrations")
    if not other and all(builds_only_indexes(e) for i, e in enumerate(operations) if i != position):
        database = _database(concurrent, backward, indent)
        replaced = before + _separate(op.segment, indent, database) + closing
        text = edited_in_place(
            target,
            source,
            [Splice(start, end, replaced), migrations_import, source.atomic_false()],
        )
        return Change(
            {target.path: text},
            summary=(
                f"{op.kind} kept as the state change; its {len(built)} index build(s) "
                "run CONCURRENTLY (Django's own SQL), and atomic = False on the migration"
            ),
        )
    kept_reverse = [s for s in backward if not _drops(s, built)]
    database = _database(other, kept_reverse, indent) if other else "[]"
    replaced = before + _separate(op.segment, indent, database) + closing
    new = NewMigration(
        suffix="concurrent_indexes",
        operations=[_run_sql(concurrent, [b.drop for b in reversed(built)], "        ")],
        imports=[],
        atomic=False,
        doc=f"Builds the indexes of {name} without blocking writes (django-gates fix, DJG211).",
    )
    return with_new_migration(
        target,
        ctx,
        read,
        edited_in_place(target, source, [Splice(start, end, replaced), migrations_import]),
        new,
        refused=f"{op.kind} also changes more than indexes, or the migration has other "
        "operations, and {exc}: move the index builds to a migration of their own by hand",
        summary=f"{op.kind} kept as the state change with the rest of its SQL; its "
        f"{len(built)} index build(s) moved to a new non-atomic migration {{new}}, "
        "CONCURRENTLY (Django's own SQL)",
    )
