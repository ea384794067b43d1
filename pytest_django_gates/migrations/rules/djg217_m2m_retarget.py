"""DJG217: a many-to-many field pointed at another model.

``AlterField`` of a many-to-many (auto-created through table) whose target model
changes makes Django rewrite the through table: it renames the target's column
(``<old model>_id`` to ``<new model>_id``), changes its type when the two primary
keys differ (``integer`` to ``bigint``: a table rewrite), and drops and re-adds its
foreign key, which PostgreSQL validates over every row. The running code still
reads and writes the old column name during the deploy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_django_gates.migrations import facts
from pytest_django_gates.migrations.base import Hit, ModelKey, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import existing_model, table


def _pk_type(ctx: OpContext, key: ModelKey | None) -> str | None:
    snap = ctx.lookup_before(key) if key is not None else None
    if snap is None:
        return None
    name = facts.pk_name(snap)
    if name is None:
        return None
    field: Any = snap.fields[name]
    return str(field.get_internal_type())


def check(ctx: OpContext) -> Iterator[Hit]:
    snap = existing_model(ctx)
    name = getattr(ctx.operation, "name", None)
    if snap is None or not isinstance(name, str) or name not in snap.fields:
        return
    old, new = snap.fields[name], ctx.operation.field
    if not (facts.is_m2m(old) and facts.is_m2m(new)) or ctx.field_is_new(name):
        return
    if getattr(old.remote_field, "through", None) or getattr(new.remote_field, "through", None):
        return  # an explicit through model: its own migrations say what changes
    old_key = facts.related_key(old, ctx.app_label)
    new_key = facts.related_key(new, ctx.app_label)
    if old_key is None or new_key is None or old_key == new_key:
        return
    through = getattr(old, "db_table", None) or f"{table(ctx, snap)}_{name}"
    old_column, new_column = f"{old_key[1]}_id", f"{new_key[1]}_id"
    old_pk, new_pk = _pk_type(ctx, old_key), _pk_type(ctx, new_key)
    retyped = (
        f", changes its type ({old_pk} to {new_pk}: the through table is rewritten)"
        if old_pk and new_pk and old_pk != new_pk
        else ""
    )
    yield Hit(
        f"points {snap.label}.{name} at {new_key[0]}.{new_key[1]} instead of "
        f"{old_key[0]}.{old_key[1]}: Django renames {through}.{old_column} to "
        f"{new_column}{retyped}, and drops and re-adds its foreign key, validated over every "
        "row under lock; the running code still uses the old column"
    )


RULE = Rule(
    code="DJG217",
    name="many-to-many-retarget",
    severity="error",
    title=(
        "Pointing a many-to-many field at another model renames (and may rewrite) its "
        "through table's column and re-validates its foreign key."
    ),
    hint=(
        "Add a new many-to-many field to the new model, write both from the code, copy the "
        "rows in a data migration, switch the reads, and remove the old field in a later "
        "deploy (its table with SeparateDatabaseAndState first)."
    ),
    operations=frozenset({"AlterField"}),
    check_operation=check,
)
