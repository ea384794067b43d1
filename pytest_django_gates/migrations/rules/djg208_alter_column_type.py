"""DJG208: a column type change that rewrites the table: an ``AlterField``, or a
``RunSQL("ALTER TABLE ... ALTER COLUMN ... TYPE ...")`` of a column production has."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.facts import ModelSnap
from pytest_django_gates.migrations.rules._helpers import alter_facts, live_column, table

_VARCHAR = re.compile(r"^varchar(?:\((\d+)\))?$")
_NUMERIC = re.compile(r"^numeric\((\d+),\s*(\d+)\)$")


def binary_compatible(old: str, new: str) -> bool:
    """Whether PostgreSQL changes the type without rewriting or scanning the table."""
    old, new = _normalize(old), _normalize(new)
    if old == new:
        return True
    old_varchar, new_varchar = _VARCHAR.match(old), _VARCHAR.match(new)
    if old_varchar and new_varchar:
        if new_varchar.group(1) is None:
            return True  # to unbounded varchar
        if old_varchar.group(1) is None:
            return False  # unbounded to bounded: every row is checked
        return int(new_varchar.group(1)) >= int(old_varchar.group(1))
    if old_varchar and new == "text":
        return True
    if old == "text" and new_varchar and new_varchar.group(1) is None:
        return True
    old_numeric, new_numeric = _NUMERIC.match(old), _NUMERIC.match(new)
    if old_numeric and new_numeric:
        return old_numeric.group(2) == new_numeric.group(2) and int(new_numeric.group(1)) >= int(
            old_numeric.group(1)
        )
    return False


def _normalize(db_type: str) -> str:
    return " ".join(db_type.lower().split()).replace("character varying", "varchar")


def _runsql(ctx: OpContext) -> Iterator[Hit]:
    """``ALTER TABLE t ALTER [COLUMN] c [SET DATA] TYPE x`` on a table production has,
    judged as an ``AlterField`` type change (the column's current type from the state)."""
    for stmt in ctx.statements:
        table_name = sqltext.alter_table(stmt)
        if table_name is None or table_name in ctx.new_tables:
            continue
        for column, new_type in sqltext.retyped_columns(stmt):
            found = live_column(ctx, table_name, column)
            if found is None:
                continue  # a table or column this deploy created, or one the state lacks
            snap, name = found
            old_type = facts.column_type(snap.fields[name], name, snap, ctx.lookup_before, ctx.env)
            if old_type is not None and binary_compatible(old_type, new_type):
                where = f'"{table_name}"."{column}"'
                yield from _rechecked(ctx, snap, name, where, old_type, new_type, prefix="RunSQL ")
                continue
            yield Hit(
                f'RunSQL changes the type of {snap.label}.{name} ("{table_name}"."{column}") '
                f"from {old_type or 'its current type'} to {new_type}: PostgreSQL rewrites "
                "the table and rebuilds its indexes under an ACCESS EXCLUSIVE lock that "
                "blocks reads and writes"
            )


def _rechecked(
    ctx: OpContext,
    snap: ModelSnap,
    name: str,
    column: str,
    old_type: str,
    new_type: str,
    prefix: str = "",
) -> Iterator[Hit]:
    """A binary-compatible type change needs no rewrite, but PostgreSQL re-adds the CHECK
    constraints that read the column, which checks them against every row under the
    ACCESS EXCLUSIVE lock of the ALTER (a full scan; the lock tracer sees it). The same
    type (only NULL or the default changed) runs no ALTER TYPE at all."""
    if _normalize(old_type) == _normalize(new_type):
        return
    names = {name, facts.bound(snap.fields[name], name).attname}
    checks = [
        c.name
        for c in snap.options.get("constraints", []) or []
        if facts.check_reads(c, names) and (snap.key, c.name) not in ctx.tracker.not_valid
    ]
    if checks:
        listed = ", ".join(repr(c) for c in sorted(checks))
        which = (
            f"CHECK constraints {listed} read"
            if len(checks) > 1
            else f"CHECK constraint {listed} reads"
        )
        yield Hit(
            f"{prefix}changes the type of {snap.label}.{name} ({column}) from {old_type} to "
            f"{new_type} without a rewrite, but the {which} the column: PostgreSQL re-checks "
            "every row under an ACCESS EXCLUSIVE lock that blocks reads and writes",
            hint=(
                "Drop the CHECK constraint, change the type, and add the constraint back "
                "NOT VALID, then VALIDATE CONSTRAINT in a later migration (SHARE UPDATE "
                "EXCLUSIVE: reads and writes go on)"
            ),
        )


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.is_("RunSQL"):
        yield from _runsql(ctx)
        return
    alter = alter_facts(ctx)
    if alter is None or not alter.changed or ctx.field_is_new(alter.name):
        return
    old_type, new_type = alter.old_type, alter.new_type
    if old_type is None or new_type is None:
        return
    column = f'"{table(ctx, alter.snap)}"."{alter.name}"'
    if binary_compatible(old_type, new_type):
        yield from _rechecked(ctx, alter.snap, alter.name, column, old_type, new_type)
        return
    extra = ""
    if getattr(alter.new, "primary_key", False):
        extra = " (and every foreign key column that references it)"
    yield Hit(
        f"changes the type of {alter.snap.label}.{alter.name} ({column}) from {old_type} to "
        f"{new_type}: PostgreSQL rewrites the table{extra} and rebuilds its indexes under an "
        "ACCESS EXCLUSIVE lock that blocks reads and writes"
    )


RULE = Rule(
    code="DJG208",
    size_dependent=True,
    name="alter-column-type",
    severity="error",
    title=(
        "Changing a column type rewrites the table under an ACCESS EXCLUSIVE lock "
        "(except varchar growth, varchar to text, numeric precision growth)."
    ),
    hint=(
        "Add a new field of the new type, write both and backfill in batches, switch "
        "reads, then drop the old column in later deploys; binary-compatible changes "
        "(longer max_length, CharField to TextField, more max_digits at the same "
        "decimal_places) are safe."
    ),
    postgresql_only=True,
    operations=frozenset({"AlterField", "RunSQL"}),
    check_operation=check,
)
