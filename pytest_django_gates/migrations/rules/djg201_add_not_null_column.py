"""DJG201: a NOT NULL column added without a database default."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import column_ref, existing_model, table


def _default_set_in_sql(ctx: OpContext, table_name: str, column: str | None) -> bool:
    """A later ``RunSQL("ALTER TABLE t ALTER COLUMN c SET DEFAULT ...")`` of the same atomic
    migration gives the column its database default before anything commits: the
    deliberate zero-downtime pattern for Django < 5.0 (no ``db_default``)."""
    if column is None or not ctx.migration.atomic:
        return False
    operations = list(getattr(ctx.migration.migration, "operations", []))
    for op in operations[ctx.index[0] + 1 :]:
        if "RunSQL" not in facts.kinds(op):
            continue
        for stmt in sqltext.split_operation_sql(getattr(op, "sql", None)):
            if sqltext.alter_table(stmt) == table_name and column in (
                sqltext.set_default_columns(stmt)
            ):
                return True
    return False


def check(ctx: OpContext) -> Iterator[Hit]:
    snap = existing_model(ctx)
    if snap is None:
        return
    if ctx.is_("AlterOrderWithRespectTo"):
        if ctx.operation.order_with_respect_to and not snap.options.get("order_with_respect_to"):
            yield Hit(
                f'adds the NOT NULL column "{table(ctx, snap)}"."_order" '
                "(order_with_respect_to) without a database default: the previous "
                "release's code inserts rows without it and fails during the deploy"
            )
        return
    field = ctx.operation.field
    name = ctx.operation.name
    if (
        facts.is_m2m(field)
        or field.null
        or facts.is_generated(field)
        or facts.has_db_default(field)
    ):
        return
    if field.get_internal_type() in {"AutoField", "BigAutoField", "SmallAutoField"}:
        return  # identity columns generate their own values (DJG202 covers the rewrite)
    if _default_set_in_sql(ctx, table(ctx, snap), facts.column_name(field, name)):
        return
    how = (
        "Django fills existing rows with the field's default and then drops it"
        if facts.has_transient_default(field)
        else "the column has no default at all, so adding it fails on a table with rows"
    )
    yield Hit(
        f"adds NOT NULL column {column_ref(ctx, snap, field, name)} without a database "
        f"default ({how}): the previous release's code, still running during the "
        "deploy, inserts rows without it and fails with a NOT NULL violation"
    )


RULE = Rule(
    code="DJG201",
    name="add-not-null-column",
    severity="error",
    title=(
        "A NOT NULL column without a database default breaks inserts by the code "
        "still running during the deploy."
    ),
    hint=(
        "Give the column a database default with db_default=... (Django >= 5.0; keep "
        "default= for Python), or add it with null=True, backfill it, and make it NOT "
        "NULL in a later deploy."
    ),
    operations=frozenset({"AddField", "AlterOrderWithRespectTo"}),
    check_operation=check,
)
