"""DJG207: AlterModelTable (or a many-to-many db_table change, or the rename of a
many-to-many field, which renames its auto-created join table) renaming a table."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.facts import ModelSnap
from pytest_django_gates.migrations.rules._helpers import existing_model, table


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.is_("RunSQL"):
        for stmt in ctx.statements:
            renamed = sqltext.renamed_table(stmt)
            live = ctx.live_tables.get(renamed[0]) if renamed else None
            if renamed and live is not None:
                yield Hit(
                    f"RunSQL renames table {renamed[0]!r} to {renamed[1]!r} ({live.label}): "
                    f"the running code still queries {renamed[0]!r}"
                )
        return
    snap = existing_model(ctx)
    if snap is None:
        return
    if ctx.is_("AlterModelTable"):
        after = ctx.after
        if after is None:
            return
        old_table, new_table = table(ctx, snap), table(ctx, after)
        if old_table != new_table:
            yield Hit(
                f"renames table {old_table!r} to {new_table!r} ({snap.label}): the "
                f"previous release's code still queries {old_table!r}"
            )
        return
    if ctx.is_("RenameField"):
        yield from _renamed_m2m_field(ctx, snap)
        return
    name = ctx.operation.name
    old = snap.fields.get(name)
    new = ctx.operation.field
    if old is None or not (facts.is_m2m(old) and facts.is_m2m(new)) or ctx.field_is_new(name):
        return
    if getattr(old.remote_field, "through", None) or getattr(new.remote_field, "through", None):
        return
    default = f"{table(ctx, snap)}_{name}"
    old_table = getattr(old, "db_table", None) or default
    new_table = getattr(new, "db_table", None) or default
    if old_table != new_table:
        yield Hit(
            f"renames the many-to-many table {old_table!r} to {new_table!r}: the previous "
            "release's code still uses the old name"
        )


def _renamed_m2m_field(ctx: OpContext, snap: ModelSnap) -> Iterator[Hit]:
    """``RenameField`` of a many-to-many field whose join table Django names after it
    (auto-created, no ``db_table``): the join table is renamed with the field."""
    old_name, new_name = ctx.operation.old_name, ctx.operation.new_name
    field = snap.fields.get(old_name)
    if field is None or not facts.is_m2m(field) or ctx.field_is_new(old_name):
        return
    if getattr(field.remote_field, "through", None) or getattr(field, "db_table", None):
        return
    old_table, new_table = f"{table(ctx, snap)}_{old_name}", f"{table(ctx, snap)}_{new_name}"
    yield Hit(
        f"renames the many-to-many field {snap.label}.{old_name} to {new_name}, and with it "
        f"its join table {old_table!r} to {new_table!r}: the previous release's code still "
        "uses the old name"
    )


RULE = Rule(
    code="DJG207",
    name="rename-table",
    severity="error",
    title="Renaming a table breaks the code still running during the deploy.",
    hint=(
        "Keep the table name (leave db_table as it is); if the table already has the "
        "new name, record it with SeparateDatabaseAndState(state_operations=[...])."
    ),
    operations=frozenset({"AlterModelTable", "AlterField", "RenameField", "RunSQL"}),
    check_operation=check,
)
