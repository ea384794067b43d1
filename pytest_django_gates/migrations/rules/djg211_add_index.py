"""DJG211: building an index on an existing table without CONCURRENTLY."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import (
    alter_facts,
    existing_model,
    pattern_index_dropped,
    table,
)
from pytest_django_gates.migrations.rules.djg208_alter_column_type import binary_compatible

BLOCKS_WRITES = "PostgreSQL blocks every write to the table (SHARE lock) until the index is built"
BLOCKS_ALL = (
    "PostgreSQL builds its index inside ALTER TABLE, under an ACCESS EXCLUSIVE lock that "
    "blocks reads and writes"
)


def _unique_constraint_is_index(constraint: Any) -> bool:
    """Django creates conditional/expression/covering unique constraints as CREATE UNIQUE INDEX."""
    return bool(
        getattr(constraint, "condition", None)
        or getattr(constraint, "expressions", None)
        or getattr(constraint, "include", None)
        or getattr(constraint, "opclasses", None)
    )


def _run_sql(ctx: OpContext) -> Iterator[Hit]:
    for stmt in ctx.statements:
        index = sqltext.create_index(stmt)
        if index is not None and not index.concurrently:
            if index.table and index.table not in ctx.new_tables:
                yield Hit(
                    f"RunSQL creates an index on {index.table!r} without CONCURRENTLY: "
                    f"{BLOCKS_WRITES}"
                )
            continue
        altered = sqltext.alter_table(stmt)
        if (
            altered is not None
            and altered not in ctx.new_tables
            and stmt.has("ADD")
            and (stmt.has("UNIQUE") or stmt.has("PRIMARY", "KEY") or stmt.has("EXCLUDE"))
            and not stmt.has("USING", "INDEX")
        ):
            yield Hit(
                f"RunSQL adds a unique/primary key/exclusion constraint to {altered!r}: "
                f"{BLOCKS_ALL}"
            )


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.is_("RunSQL"):
        yield from _run_sql(ctx)
        return
    snap = existing_model(ctx)
    if snap is None:
        return
    where = repr(table(ctx, snap))
    op = ctx.operation
    if ctx.is_("AddIndex"):
        if not ctx.is_("AddIndexConcurrently"):
            yield Hit(
                f"creates index {op.index.name!r} on {where} without CONCURRENTLY: {BLOCKS_WRITES}"
            )
    elif ctx.is_("AddConstraint"):
        constraint = op.constraint
        kind = type(constraint).__name__
        if kind == "UniqueConstraint":
            if _unique_constraint_is_index(constraint):
                yield Hit(
                    f"creates the unique index {constraint.name!r} on {where} without "
                    f"CONCURRENTLY: {BLOCKS_WRITES}"
                )
            else:
                yield Hit(
                    f"adds the unique constraint {constraint.name!r} to {where}: {BLOCKS_ALL}"
                )
        elif kind == "ExclusionConstraint":
            yield Hit(f"adds the exclusion constraint {constraint.name!r} to {where}: {BLOCKS_ALL}")
    elif ctx.is_("AddField"):
        field, name = op.field, op.name
        if facts.is_m2m(field) or getattr(field, "primary_key", False):
            return
        column = f"{where}.{facts.column_name(field, name)!r}"
        if facts.field_unique(field):
            yield Hit(f"adds the UNIQUE column {column}: {BLOCKS_ALL}")
        elif facts.field_indexed(field):
            yield Hit(
                f"creates an index on the new column {column} without CONCURRENTLY: {BLOCKS_WRITES}"
            )
    elif ctx.is_("AlterField"):
        yield from _alter_field(ctx, where)
    elif ctx.is_("AlterUniqueTogether", "AlterIndexTogether"):
        option = "unique_together" if ctx.is_("AlterUniqueTogether") else "index_together"
        old = facts.normalize_together(snap.options.get(option))
        new = facts.normalize_together(getattr(op, option, None))
        for group in sorted(new - old):
            columns = ", ".join(group)
            if option == "unique_together":
                yield Hit(f"adds unique_together ({columns}) to {where}: {BLOCKS_ALL}")
            else:
                yield Hit(
                    f"adds index_together ({columns}) to {where} without CONCURRENTLY: "
                    f"{BLOCKS_WRITES}"
                )


def _alter_field(ctx: OpContext, where: str) -> Iterator[Hit]:
    """An index or unique constraint added to a column of an existing table. Also when
    the column itself is new in this deploy (added earlier in the range or release):
    the index build reads every row of the table, whatever the column's age, as an
    AddField of an indexed column would."""
    alter = alter_facts(ctx)
    if alter is None or not alter.changed:
        return
    old, new = alter.old, alter.new
    column = f"{where}.{facts.column_name(new, alter.name)!r}"
    if getattr(new, "primary_key", False) and not getattr(old, "primary_key", False):
        yield Hit(f"makes {column} the primary key: {BLOCKS_ALL}")
    elif facts.field_unique(new) and not facts.field_unique(old):
        yield Hit(f"adds a UNIQUE constraint on {column}: {BLOCKS_ALL}")
    elif facts.field_indexed(new) and not facts.field_indexed(old):
        yield Hit(f"creates an index on {column} without CONCURRENTLY: {BLOCKS_WRITES}")
    elif (
        ctx.env.django_version >= (5, 2)
        and pattern_index_dropped(alter)
        and binary_compatible(alter.old_type or "", alter.new_type or "")
    ):
        yield Hit(
            f"changes {column} between varchar and text: Django drops and re-creates its "
            f"pattern-ops (_like) index without CONCURRENTLY: {BLOCKS_WRITES}"
        )


RULE = Rule(
    code="DJG211",
    size_dependent=True,
    name="add-index-non-concurrently",
    severity="error",
    title=(
        "Building an index on an existing table without CONCURRENTLY blocks writes "
        "(reads too for UNIQUE constraints) until it is built."
    ),
    hint=(
        "Use AddIndexConcurrently (django.contrib.postgres.operations) in a migration with "
        "atomic = False; for db_index/unique on a field, change the state only "
        "(SeparateDatabaseAndState) and build the index concurrently; for a UNIQUE "
        "constraint, build a unique index concurrently, then ADD CONSTRAINT ... UNIQUE "
        "USING INDEX."
    ),
    postgresql_only=True,
    operations=frozenset(
        {
            "AddIndex",
            "AddConstraint",
            "AddField",
            "AlterField",
            "AlterUniqueTogether",
            "AlterIndexTogether",
            "RunSQL",
        }
    ),
    check_operation=check,
)
