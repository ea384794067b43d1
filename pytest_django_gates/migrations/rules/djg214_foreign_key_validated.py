"""DJG214: a foreign key constraint added and validated under lock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import (
    alter_facts,
    existing_model,
    table,
    target_table,
)


def _locks(source: str, target: str) -> str:
    return (
        f"PostgreSQL validates every row of {source!r} while holding a SHARE ROW EXCLUSIVE "
        f"lock on {target!r} (blocking writes to it) and an ACCESS EXCLUSIVE lock on {source!r}"
    )


def _starts_null(field: Any) -> bool:
    """A nullable field with neither a Python nor a database default: every row NULL."""
    from django.db.models import NOT_PROVIDED

    db_default = getattr(field, "db_default", NOT_PROVIDED)  # Django 5.0+
    return bool(field.null) and not field.has_default() and db_default is NOT_PROVIDED


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.is_("RunSQL"):
        for stmt in ctx.statements:
            altered = sqltext.alter_table(stmt)
            if (
                altered
                and altered not in ctx.new_tables
                and sqltext.added_constraint(stmt) == "foreign key"
            ):
                yield Hit(
                    f"RunSQL adds a validated foreign key to {altered!r} (no NOT VALID): "
                    "PostgreSQL checks every row while blocking writes to both tables"
                )
        return
    snap = existing_model(ctx)
    if snap is None:
        return
    op = ctx.operation
    if ctx.is_("AddField"):
        field = op.field
        if not facts.has_fk_constraint(field):
            return
        if _starts_null(field):
            # A new nullable column with no default holds only NULLs: PostgreSQL adds it
            # with its constraint without reading a row (measured: 2 ms on 3M rows). The
            # lock on the referenced table still lasts until the migration commits, which
            # matters only when the same transaction also builds the column's index.
            if getattr(field, "db_index", False) and ctx.migration.atomic:
                source, target = table(ctx, snap), target_table(ctx, field, ctx.after or snap)
                yield Hit(
                    f"adds the nullable foreign key {snap.label}.{op.name}: no row is "
                    f"validated, but writes to {target!r} wait until the migration commits, "
                    f"after its index on {source!r} is built (DJG211)",
                    severity="warning",
                    hint="build the index with AddIndexConcurrently in a non-atomic "
                    "migration (db_index=False on the field), or give the field "
                    "db_index=False here and index it concurrently in the next migration",
                )
            return
        source, target = table(ctx, snap), target_table(ctx, field, ctx.after or snap)
        yield Hit(
            f"adds the foreign key {snap.label}.{op.name} with its constraint: "
            f"{_locks(source, target)}"
        )
        return
    alter = alter_facts(ctx)
    if alter is None or ctx.field_is_new(alter.name) or not facts.has_fk_constraint(alter.new):
        return
    source, target = table(ctx, snap), target_table(ctx, alter.new, ctx.after or snap)
    if not facts.has_fk_constraint(alter.old):
        yield Hit(
            f"adds a foreign key constraint to {snap.label}.{alter.name}: {_locks(source, target)}"
        )
    elif alter.changed:
        yield Hit(
            f"alters the foreign key {snap.label}.{alter.name}: Django drops its constraint and "
            f"re-creates it, and {_locks(source, target)}"
        )


RULE = Rule(
    code="DJG214",
    size_dependent=True,
    name="foreign-key-validated-under-lock",
    severity="error",
    title=(
        "Adding a foreign key constraint validates every row while writes to both "
        "tables are blocked."
    ),
    hint=(
        "Add the field with db_constraint=False; in a later migration add the constraint "
        "with RunSQL('ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID') and, "
        "in another, RunSQL('ALTER TABLE ... VALIDATE CONSTRAINT ...'), using "
        "SeparateDatabaseAndState to set db_constraint=True in the state."
    ),
    postgresql_only=True,
    operations=frozenset({"AddField", "AlterField", "RunSQL"}),
    check_operation=check,
)
