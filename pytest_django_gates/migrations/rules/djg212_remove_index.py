"""DJG212: dropping an index without CONCURRENTLY."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import (
    alter_facts,
    existing_model,
    pattern_index_dropped,
    table,
)
from pytest_django_gates.migrations.rules.djg208_alter_column_type import binary_compatible

BLOCKS = (
    "DROP INDEX takes an ACCESS EXCLUSIVE lock on the table, so reads and writes queue "
    "behind it while it waits for running queries"
)


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.is_("RunSQL"):
        for stmt in ctx.statements:
            if sqltext.drop_index(stmt) is False:
                yield Hit(
                    f"RunSQL drops an index without CONCURRENTLY ({stmt.text[:80]}): {BLOCKS}"
                )
        return
    snap = existing_model(ctx)
    if snap is None:
        return
    where = repr(table(ctx, snap))
    op = ctx.operation
    if ctx.is_("RemoveIndex"):
        if not ctx.is_("RemoveIndexConcurrently"):
            yield Hit(f"drops index {op.name!r} of {where} without CONCURRENTLY: {BLOCKS}")
    elif ctx.is_("AlterField"):
        alter = alter_facts(ctx)
        if alter is None or not alter.changed or ctx.field_is_new(alter.name):
            return
        column = facts.column_name(alter.new, alter.name)
        if (
            facts.field_indexed(alter.old)
            and not facts.field_indexed(alter.new)
            and not facts.field_unique(alter.new)
        ):
            yield Hit(f"drops the index on {where}.{column!r} without CONCURRENTLY: {BLOCKS}")
        elif (
            ctx.env.django_version < (5, 2)
            and pattern_index_dropped(alter)
            and binary_compatible(alter.old_type or "", alter.new_type or "")
        ):
            yield Hit(
                f"changes {where}.{column!r} between varchar and text: Django < 5.2 drops its "
                f"pattern-ops (_like) index without CONCURRENTLY and does not re-create it "
                f"(LIKE queries lose their index): {BLOCKS}"
            )
    elif ctx.is_("AlterIndexTogether"):
        old = facts.normalize_together(snap.options.get("index_together"))
        new = facts.normalize_together(getattr(op, "index_together", None))
        for group in sorted(old - new):
            yield Hit(
                f"drops index_together ({', '.join(group)}) of {where} without "
                f"CONCURRENTLY: {BLOCKS}"
            )


RULE = Rule(
    code="DJG212",
    name="remove-index-non-concurrently",
    severity="error",
    title="Dropping an index without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table.",
    hint=(
        "Use RemoveIndexConcurrently (django.contrib.postgres.operations) in a migration "
        "with atomic = False; for db_index=False, change the state with "
        "SeparateDatabaseAndState and drop it with RunSQL('DROP INDEX CONCURRENTLY ...')."
    ),
    postgresql_only=True,
    operations=frozenset({"RemoveIndex", "AlterField", "AlterIndexTogether", "RunSQL"}),
    check_operation=check,
)
