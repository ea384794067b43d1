"""DJG218: a RunPython that changes the schema through ``schema_editor`` or raw DDL.

The function's source is read (:mod:`..runpython`), never run. What it calls is
judged like the matching operation: dropping or renaming a column or table the
model state still has breaks the running code (on every database); on PostgreSQL,
building an index without ``CONCURRENTLY``, ``SET NOT NULL``, adding a validated
constraint, or any other ``ALTER TABLE`` on a table production has takes a lock
that blocks writes or reads. Schema-editor calls whose table cannot be known
statically (``remove_field``, ``delete_model``, ``alter_db_table`` destroy or
rename whatever they are given) are judged by what they do. DDL on a table that
is not in the model state, or that this deploy creates, is not a finding;
``create_model`` is never one. Only the forwards function is read: the reverse
runs on a rollback, not during the deploy.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import live_column
from pytest_django_gates.migrations.runpython import HOLE, SchemaCall, schema_calls
from pytest_django_gates.report import Severity

# schema-editor methods: (what it does, severity, PostgreSQL only)
_METHODS: dict[str, tuple[str, Severity, bool]] = {
    "remove_field": ("drops a column the running code still selects", "error", False),
    "delete_model": ("drops a table the running code still queries", "error", False),
    "alter_db_table": ("renames a table the running code still queries", "error", False),
    "add_field": (
        "adds a column the model state does not know (a later AddField or "
        "makemigrations will conflict with it)",
        "warning",
        False,
    ),
    "alter_field": (
        "alters a column outside the state; a type change rewrites the table under "
        "ACCESS EXCLUSIVE",
        "warning",
        True,
    ),
    "add_index": (
        "builds an index without CONCURRENTLY: writes to the table wait until it is built",
        "error",
        True,
    ),
    "add_constraint": (
        "adds a constraint validated against every row under a lock that blocks writes",
        "warning",
        True,
    ),
    "remove_index": ("drops an index under ACCESS EXCLUSIVE", "warning", True),
    "remove_constraint": ("drops a constraint under ACCESS EXCLUSIVE", "warning", True),
    "alter_unique_together": (
        "changes unique_together: builds or drops an index under a blocking lock",
        "warning",
        True,
    ),
    "alter_index_together": (
        "changes index_together: builds or drops an index under a blocking lock",
        "warning",
        True,
    ),
    "rename_index": ("renames an index under SHARE UPDATE EXCLUSIVE", "warning", True),
}


def check(ctx: OpContext) -> Iterator[Hit]:
    func = getattr(ctx.operation, "code", None)
    if func is None:
        return
    name = getattr(func, "__name__", "code")
    for call in schema_calls(func):
        through = " -> ".join(f"{n}()" for n in call.chain[1:])
        via = f" (in {through})" if through else ""
        prefix = f"RunPython {name}() changes the schema{via}"
        if call.method == "execute":
            yield from _execute(ctx, call, prefix)
            continue
        if call.method == "add_index" and "concurrently" in call.keywords:
            if ctx.migration.atomic and ctx.env.postgresql:
                yield Hit(
                    f"{prefix}: schema_editor.add_index(..., concurrently=True) at "
                    f"{call.where} in an atomic migration: CREATE INDEX CONCURRENTLY "
                    "cannot run inside a transaction",
                    severity="error",
                )
            continue
        known = _METHODS.get(call.method)
        if known is None:
            continue  # create_model, tablespace and comment changes
        what, severity, postgresql_only = known
        if postgresql_only and not ctx.env.postgresql:
            continue
        yield Hit(f"{prefix}: schema_editor.{call.method}() at {call.where} {what}", severity)


def _execute(ctx: OpContext, call: SchemaCall, prefix: str) -> Iterator[Hit]:
    where = f"{'schema_editor' if call.on_editor else 'cursor'}.execute() at {call.where}"
    if call.sql is None:
        yield Hit(
            f"{prefix}? {where} runs SQL built at run time, which the gate cannot read: "
            "review it as you would a RunSQL",
            severity="warning",
        )
        return
    for stmt in sqltext.split_sql(call.sql):
        for problem, severity in _statement(ctx, stmt):
            yield Hit(f"{prefix}: {where} {problem}", severity=severity)


def _statement(ctx: OpContext, stmt: sqltext.Statement) -> Iterator[tuple[str, Severity]]:
    pg = ctx.env.postgresql
    for dropped in sqltext.dropped_tables(stmt):
        live = ctx.live_tables.get(dropped)
        if live is not None:
            yield f"drops table {dropped!r} of {live.label}, which the state still has", "error"
    index = sqltext.create_index(stmt)
    if index is not None and pg and _live(ctx, index.table):
        if index.concurrently:
            if ctx.migration.atomic:
                yield (
                    "runs CREATE INDEX CONCURRENTLY inside the migration's transaction, "
                    "where it cannot run",
                    "error",
                )
        else:
            named = "a table named at run time" if index.table == HOLE else repr(index.table)
            yield (
                f"builds an index on {named} without CONCURRENTLY: writes wait until it is built",
                "warning" if index.table == HOLE else "error",
            )
    table = sqltext.alter_table(stmt)
    if table is None:
        return
    if table == HOLE:
        yield (
            "runs ALTER TABLE on a table named at run time, which the gate cannot judge: "
            "review it as you would a RunSQL",
            "warning",
        )
        return
    live = ctx.live_tables.get(table)
    if live is None:
        return  # created in this deploy, or not a model's table
    reported = False
    for column in sqltext.dropped_columns(stmt):
        if live_column(ctx, table, column) is not None:
            reported = True
            yield f"drops column {table}.{column}, which the model state still has", "error"
    renamed = sqltext.renamed_column(stmt)
    if renamed and live_column(ctx, table, renamed[0]) is not None:
        reported = True
        yield f"renames column {table}.{renamed[0]} to {renamed[1]!r}", "error"
    moved = sqltext.renamed_table(stmt)
    if moved:
        reported = True
        yield f"renames table {table!r} ({live.label}) to {moved[1]!r}", "error"
    if not pg or reported:
        return
    if sqltext.sets_not_null(stmt):
        yield f"runs SET NOT NULL on {table!r}: a full scan under ACCESS EXCLUSIVE", "error"
    elif sqltext.added_constraint(stmt):
        yield (
            f"adds a validated {sqltext.added_constraint(stmt)} on {table!r}: every row "
            "is checked under a lock that blocks writes",
            "error",
        )
    elif not sqltext.validates_constraint(stmt):
        yield f"alters table {table!r}, taking ACCESS EXCLUSIVE (reads and writes wait)", "warning"


def _live(ctx: OpContext, table: str | None) -> bool:
    return table is not None and (table == HOLE or table in ctx.live_tables)


RULE = Rule(
    code="DJG218",
    name="schema-change-in-runpython",
    severity="error",
    title=(
        "A RunPython that changes the schema (schema_editor calls, raw DDL) hides the "
        "change from the migration state and from every rule, and takes the same locks."
    ),
    hint=(
        "Express the change as migration operations (RemoveField, AlterModelTable, "
        "AddIndexConcurrently in a non-atomic migration, RunSQL with state_operations) "
        "so the state and the gate see it, and keep RunPython for data; if it must stay, "
        "follow the same safe recipe (two deploys for drops and renames, CONCURRENTLY "
        "outside a transaction)."
    ),
    operations=frozenset({"RunPython"}),
    check_operation=check,
)
