"""DJG209: a collation change, which rebuilds the column's indexes under lock."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import facts
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import alter_facts, table
from pytest_django_gates.migrations.rules.djg208_alter_column_type import binary_compatible


def check(ctx: OpContext) -> Iterator[Hit]:
    alter = alter_facts(ctx)
    if alter is None or not alter.changed or ctx.field_is_new(alter.name):
        return
    old_collation = getattr(alter.old, "db_collation", None)
    new_collation = getattr(alter.new, "db_collation", None)
    if old_collation == new_collation:
        return
    if alter.old_type and alter.new_type and not binary_compatible(alter.old_type, alter.new_type):
        return  # the type change (DJG208) rewrites everything anyway
    column = f'"{table(ctx, alter.snap)}"."{alter.name}"'
    indexed = (
        alter.old.db_index
        or alter.old.unique
        or getattr(alter.old, "primary_key", False)
        or alter.name in facts.field_names_in_constraints(alter.snap)
    )
    change = (
        f"changes the collation of {column} from {old_collation or 'the default'} "
        f"to {new_collation or 'the default'}"
    )
    if indexed:
        yield Hit(
            f"{change}: PostgreSQL rebuilds every index on the column under an ACCESS "
            "EXCLUSIVE lock that blocks reads and writes"
        )
    else:
        yield Hit(
            f"{change}: no index on the column is known to Django, but PostgreSQL rebuilds "
            "any index on it (created with RunSQL, for example) under an ACCESS EXCLUSIVE lock",
            severity="warning",
        )


RULE = Rule(
    code="DJG209",
    size_dependent=True,
    name="alter-column-collation",
    severity="error",
    title="Changing a column's collation rebuilds its indexes under an ACCESS EXCLUSIVE lock.",
    hint=(
        "Add a new column with the new collation, backfill it and build its indexes with "
        "AddIndexConcurrently, then swap in a later deploy."
    ),
    postgresql_only=True,
    operations=frozenset({"AlterField"}),
    check_operation=check,
)
