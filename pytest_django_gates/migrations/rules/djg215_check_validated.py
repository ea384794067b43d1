"""DJG215: a check constraint validated while an ACCESS EXCLUSIVE lock is held."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import alter_facts, existing_model, table

BLOCKS = "PostgreSQL checks every row under an ACCESS EXCLUSIVE lock that blocks reads and writes"


def check(ctx: OpContext) -> Iterator[Hit]:
    op = ctx.operation
    if ctx.is_("RunSQL"):
        for stmt in ctx.statements:
            altered = sqltext.alter_table(stmt)
            if (
                altered
                and altered not in ctx.new_tables
                and sqltext.added_constraint(stmt) == "check"
            ):
                yield Hit(
                    f"RunSQL adds a validated CHECK constraint to {altered!r} (no NOT VALID): "
                    f"{BLOCKS}"
                )
        return
    if ctx.is_("ValidateConstraint"):
        key = ctx.model_key
        if (
            key is not None
            and ctx.migration.atomic
            and (key, op.name) in ctx.tracker.not_valid_here
        ):
            yield Hit(
                f"validates {op.name!r} in the same transaction that added it NOT VALID: the "
                "ACCESS EXCLUSIVE lock taken by AddConstraintNotValid is held during the "
                "validation scan, blocking reads and writes"
            )
        return
    snap = existing_model(ctx)
    if snap is None:
        return
    where = repr(table(ctx, snap))
    if ctx.is_("AddConstraint"):
        constraint = op.constraint
        if type(constraint).__name__ == "CheckConstraint" and not ctx.is_("AddConstraintNotValid"):
            yield Hit(f"adds the CHECK constraint {constraint.name!r} to {where}: {BLOCKS}")
    elif ctx.is_("AddField"):
        field = op.field
        if facts.is_m2m(field):
            return
        check_sql = facts.db_check(field, op.name, ctx.env)
        if check_sql:
            yield Hit(
                f"adds {where}.{facts.column_name(field, op.name)!r} with the CHECK ({check_sql}) "
                f"of {type(field).__name__}: {BLOCKS}"
            )
    elif ctx.is_("AlterField"):
        alter = alter_facts(ctx)
        if alter is None or not alter.changed or ctx.field_is_new(alter.name):
            return
        old_check = facts.db_check(alter.old, alter.name, ctx.env)
        new_check = facts.db_check(alter.new, alter.name, ctx.env)
        if new_check and new_check != old_check:
            yield Hit(
                f"adds the CHECK ({new_check}) of {type(alter.new).__name__} to "
                f"{snap.label}.{alter.name}: {BLOCKS}"
            )


RULE = Rule(
    code="DJG215",
    size_dependent=True,
    name="check-constraint-validated-under-lock",
    severity="error",
    title="Adding a CHECK constraint validates every row under an ACCESS EXCLUSIVE lock.",
    hint=(
        "Use AddConstraintNotValid (django.contrib.postgres.operations) and, in a separate "
        "later migration, ValidateConstraint: validation then takes a SHARE UPDATE "
        "EXCLUSIVE lock that lets reads and writes continue."
    ),
    postgresql_only=True,
    operations=frozenset(
        {"AddConstraint", "AddField", "AlterField", "ValidateConstraint", "RunSQL"}
    ),
    check_operation=check,
)
