"""DJG202: adding a column that makes PostgreSQL rewrite the whole table."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import facts
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import column_ref, existing_model

_REWRITE = (
    "PostgreSQL rewrites every row under an ACCESS EXCLUSIVE lock that blocks reads and writes"
)


def check(ctx: OpContext) -> Iterator[Hit]:
    snap = existing_model(ctx)
    if snap is None:
        return
    field = ctx.operation.field
    name = ctx.operation.name
    if facts.is_m2m(field):
        return
    column = column_ref(ctx, snap, field, name)
    if facts.is_generated(field):
        if getattr(field, "db_persist", True):
            yield Hit(f"adds the stored generated column {column}: {_REWRITE}")
        return
    if field.get_internal_type() in {"AutoField", "BigAutoField", "SmallAutoField"}:
        yield Hit(f"adds the identity column {column}, numbering every row: {_REWRITE}")
        return
    if facts.has_db_default(field):
        volatile = facts.volatile_part(facts.db_default(field))
        if volatile:
            yield Hit(
                f"adds {column} with the volatile database default {volatile}, computed "
                f"for each existing row: {_REWRITE}"
            )
            return
    if ctx.env.pg_version < 11 and (
        facts.has_db_default(field) or facts.has_transient_default(field)
    ):
        yield Hit(
            f"adds {column} with a default: before PostgreSQL 11 (pg_version "
            f"{ctx.env.pg_version}) any default is written into every row: {_REWRITE}"
        )


RULE = Rule(
    code="DJG202",
    size_dependent=True,
    name="add-column-rewrite",
    severity="error",
    title=(
        "Adding a column with a volatile default (any default before PostgreSQL 11), a "
        "stored generated column or an identity column rewrites the table under lock."
    ),
    hint=(
        "Add the column with null=True and no default (or a constant db_default), then "
        "fill it in batches from a separate data migration; set the volatile default "
        "afterwards with AlterField(db_default=...), which only affects new rows."
    ),
    postgresql_only=True,
    versions="before 11: any default rewrites; from 11: only volatile defaults",
    operations=frozenset({"AddField"}),
    check_operation=check,
)
