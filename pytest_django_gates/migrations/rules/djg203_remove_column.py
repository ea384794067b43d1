"""DJG203: dropping a column the previous release still reads.

Also ``RunSQL("ALTER TABLE ... DROP COLUMN ...")`` of a column the model state still
has. The second step of the safe recipe, a column already removed from the state in
an earlier deploy, is not flagged.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import (
    column_ref,
    existing_model,
    live_column,
    table,
)


def _runsql(ctx: OpContext) -> Iterator[Hit]:
    """``ALTER TABLE t DROP COLUMN c``: unsafe while the state (the running code) has c."""
    for stmt in ctx.statements:
        table_name = sqltext.alter_table(stmt)
        if table_name is None:
            continue
        for column in sqltext.dropped_columns(stmt):
            found = live_column(ctx, table_name, column)
            if found is not None:
                snap, name = found
                yield Hit(
                    f"RunSQL drops column {table_name}.{column} of {snap.label}.{name}, "
                    "which the model state still has: the running code selects it and "
                    "fails until the deploy completes"
                )


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.is_("RunSQL"):
        yield from _runsql(ctx)
        return
    snap = existing_model(ctx)
    name = ctx.operation.name
    if snap is None or name not in snap.fields or ctx.field_is_new(name):
        return
    field = snap.fields[name]
    if facts.is_m2m(field):
        through = getattr(field.remote_field, "through", None)
        if through:
            return  # an explicit through model keeps its table
        db_table = getattr(field, "db_table", None) or f"{table(ctx, snap)}_{name}"
        yield Hit(
            f"drops the many-to-many table {db_table!r} of {snap.label}.{name}: the "
            "previous release's code still reads and writes it during the deploy"
        )
        return
    yield Hit(
        f"drops column {column_ref(ctx, snap, field, name)}: the previous release's code "
        f"still selects it (every query on {snap.label} names its columns) and fails "
        "until the deploy completes"
    )


RULE = Rule(
    code="DJG203",
    name="remove-column",
    severity="error",
    title="Dropping a column breaks every query of the code still running during the deploy.",
    hint=(
        "Remove it in two deploys: first from the model and the state only "
        "(SeparateDatabaseAndState(state_operations=[RemoveField(...)]), with null=True "
        "or a db_default first if it is NOT NULL), then drop the column in a later "
        "release with RunSQL('ALTER TABLE ... DROP COLUMN ...')."
    ),
    operations=frozenset({"RemoveField", "RunSQL"}),
    check_operation=check,
)
