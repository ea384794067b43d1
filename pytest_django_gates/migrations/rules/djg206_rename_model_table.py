"""DJG206: a model rename that renames its table."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import existing_model, table


def check(ctx: OpContext) -> Iterator[Hit]:
    snap = existing_model(ctx)
    after = ctx.after
    if snap is None or after is None:
        return
    old_table, new_table = table(ctx, snap), table(ctx, after)
    if old_table == new_table:
        return
    yield Hit(
        f"renames model {snap.label} to {after.name}, which renames table {old_table!r} "
        f"to {new_table!r}: the previous release's code still queries {old_table!r}"
    )


RULE = Rule(
    code="DJG206",
    name="rename-model-table",
    severity="error",
    title="Renaming a model renames its table and breaks the code still running during the deploy.",
    hint=(
        "Set Meta.db_table = '<old table>' on the model before renaming it: RenameModel "
        "is then state-only."
    ),
    operations=frozenset({"RenameModel"}),
    check_operation=check,
)
