"""Facts several rules share, computed once per operation (memoised on the context)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_django_gates.migrations import facts
from pytest_django_gates.migrations.base import OpContext
from pytest_django_gates.migrations.facts import ModelSnap


def existing_model(ctx: OpContext) -> ModelSnap | None:
    """The model the operation changes, when its table exists in production already.

    ``None`` for proxy/unmanaged/swapped models and for tables created in this
    migration (or earlier in the same deploy with ``--since``/``--unapplied``).
    """
    snap = ctx.before
    if snap is None or ctx.table_is_new or not facts.db_backed(snap):
        return None
    return snap


def table(ctx: OpContext, snap: ModelSnap) -> str:
    return facts.table_name(snap, ctx.env)


def column_ref(ctx: OpContext, snap: ModelSnap, field: Any, name: str) -> str:
    column = facts.column_name(field, name) or name
    return f'"{table(ctx, snap)}"."{column}"'


def field_label(snap: ModelSnap, name: str) -> str:
    return f"{snap.label}.{name}"


@dataclass(frozen=True)
class AlterFacts:
    snap: ModelSnap
    name: str
    old: Any
    new: Any
    old_type: str | None
    new_type: str | None
    changed: bool
    """Whether Django's schema editor touches the column at all."""
    same_target: bool
    """Both are relations to the same table."""


def alter_facts(ctx: OpContext) -> AlterFacts | None:
    """Old and new field of an ``AlterField`` on an existing table (memoised)."""
    if "alter" in ctx.memo:
        result: AlterFacts | None = ctx.memo["alter"]
        return result
    result = None
    snap = existing_model(ctx) if ctx.is_("AlterField") else None
    name = getattr(ctx.operation, "name", None)
    if snap is not None and isinstance(name, str) and name in snap.fields:
        old = snap.fields[name]
        new = ctx.operation.field
        after = ctx.after or snap
        old_type = facts.column_type(old, name, snap, ctx.lookup_before, ctx.env)
        new_type = facts.column_type(new, name, after, ctx.lookup_after, ctx.env)
        same_target = False
        if facts.is_foreign_key(old) and facts.is_foreign_key(new):
            old_target = _target_table(ctx, old, snap, before=True)
            new_target = _target_table(ctx, new, after, before=False)
            same_target = old_target is not None and old_target == new_target
        changed = facts.fields_differ_in_database(old, new, name, name, same_target)
        result = AlterFacts(snap, name, old, new, old_type, new_type, changed, same_target)
    ctx.memo["alter"] = result
    return result


def text_family(db_type: str) -> str:
    for family in ("varchar", "text", "citext"):
        if db_type.startswith(family):
            return family
    return db_type


def pattern_index_dropped(alter: AlterFacts) -> bool:
    """Whether Django drops the column's ``_like`` (pattern-ops) index: an indexed
    varchar/text/citext column changing to another of these families."""
    if not (alter.old.db_index or alter.old.unique) or not alter.old_type or not alter.new_type:
        return False
    return text_family(alter.old_type) != text_family(alter.new_type) and text_family(
        alter.old_type
    ) in ("varchar", "text", "citext")


def _target_table(ctx: OpContext, field: Any, snap: ModelSnap, *, before: bool) -> str | None:
    key = facts.related_key(field, snap.app_label)
    lookup = ctx.lookup_before if before else ctx.lookup_after
    target = snap if key is None or key == snap.key else lookup(key)
    return None if target is None else facts.table_name(target, ctx.env)


def target_table(ctx: OpContext, field: Any, snap: ModelSnap) -> str:
    return _target_table(ctx, field, snap, before=False) or "the referenced table"


def live_column(ctx: OpContext, table_name: str, column: str) -> tuple[ModelSnap, str] | None:
    """The model field behind ``table_name.column`` when production has that table and
    the current state still has the column (the running code reads it), else None."""
    snap = ctx.live_tables.get(table_name)
    if snap is None:
        return None
    for name, field in snap.fields.items():
        if facts.column_name(field, name) == column and not ctx.field_is_new_on(snap, name):
            return snap, name
    return None
