"""DJG205: renaming a column."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import (
    alter_facts,
    existing_model,
    live_column,
    table,
)


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.is_("RunSQL"):
        for stmt in ctx.statements:
            table_name = sqltext.alter_table(stmt)
            renamed = sqltext.renamed_column(stmt)
            if table_name is None or renamed is None:
                continue
            found = live_column(ctx, table_name, renamed[0])
            if found is not None:
                yield Hit(
                    f"RunSQL renames column {table_name}.{renamed[0]} to {renamed[1]!r} "
                    f"({found[0].label}.{found[1]}): the running code still uses the old name"
                )
        return
    if ctx.is_("RenameField"):
        snap = existing_model(ctx)
        old_name, new_name = ctx.operation.old_name, ctx.operation.new_name
        if snap is None or old_name not in snap.fields or ctx.field_is_new(old_name):
            return
        field = snap.fields[old_name]
        old_column = facts.column_name(field, old_name)
        new_column = facts.column_name(field, new_name)
        if old_column is None or old_column == new_column:
            return
    else:
        alter = alter_facts(ctx)
        if alter is None or ctx.field_is_new(alter.name):
            return
        snap = alter.snap
        old_column = facts.column_name(alter.old, alter.name)
        new_column = facts.column_name(alter.new, alter.name)
        if old_column is None or new_column is None or old_column == new_column:
            return
    yield Hit(
        f'renames column "{table(ctx, snap)}"."{old_column}" to "{new_column}": the '
        "previous release's code still uses the old name and fails during the deploy"
    )


RULE = Rule(
    code="DJG205",
    name="rename-column",
    severity="error",
    title="Renaming a column breaks the code still running during the deploy.",
    hint=(
        "Rename the field but keep the column: set db_column='<old column>' on it so the "
        "rename is state-only; or add a new column, write both, backfill, and drop the "
        "old one in a later deploy."
    ),
    operations=frozenset({"RenameField", "AlterField", "RunSQL"}),
    check_operation=check,
)
