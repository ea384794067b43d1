"""DJG210: SET NOT NULL, which scans the table under an ACCESS EXCLUSIVE lock."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import alter_facts, table


def _proven_not_null(ctx: OpContext, name: str, field: object) -> bool:
    """A validated CHECK (<field> IS NOT NULL) lets PostgreSQL >= 12 skip the scan."""
    if ctx.env.pg_version < 12 or ctx.before is None or ctx.model_key is None:
        return False
    names = {name}
    attname = facts.bound(field, name).attname
    names.add(attname)
    for constraint in ctx.before.options.get("constraints", []) or []:
        if (ctx.model_key, getattr(constraint, "name", "")) in ctx.tracker.not_valid:
            continue
        if facts.proves_not_null(constraint, names):
            return True
    return False


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.is_("RunSQL"):
        for stmt in ctx.statements:
            table_name = sqltext.alter_table(stmt)
            if (
                table_name is None
                or table_name in ctx.new_tables
                or not sqltext.sets_not_null(stmt)
            ):
                continue
            yield Hit(
                f"RunSQL sets a column of {table_name!r} NOT NULL ({stmt.text[:80]}): unless a "
                "validated CHECK (column IS NOT NULL) constraint exists (PostgreSQL >= 12), "
                "this scans the table under an ACCESS EXCLUSIVE lock",
                severity="warning",
            )
        return
    alter = alter_facts(ctx)
    if alter is None or not alter.changed:
        return
    if not alter.old.null or alter.new.null or facts.is_m2m(alter.new):
        return
    if ctx.field_is_new(alter.name):
        if ctx.model_key in ctx.tracker.new_models:
            return  # a table created in this deploy is empty and unused
        column = f'"{table(ctx, alter.snap)}"."{facts.column_name(alter.new, alter.name)}"'
        yield Hit(
            f"adds {column} and makes it NOT NULL in the same deploy (add nullable, "
            "backfill, SET NOT NULL): on the existing table SET NOT NULL scans every row "
            "under an ACCESS EXCLUSIVE lock, and the old code, which does not know the "
            "column, fails on every INSERT from the moment it is NOT NULL",
            hint=_THREE_DEPLOYS,
        )
        return
    if _proven_not_null(ctx, alter.name, alter.old):
        return
    column = f'"{table(ctx, alter.snap)}"."{facts.column_name(alter.new, alter.name)}"'
    yield Hit(
        f"makes {column} NOT NULL: PostgreSQL scans the whole table for NULLs under an "
        "ACCESS EXCLUSIVE lock that blocks reads and writes"
    )


_THREE_DEPLOYS = (
    "Three deploys: (1) add the column null=True (or with db_default) and deploy code that "
    "writes it; (2) backfill in batches (RunPython, atomic = False) and add "
    "CheckConstraint(condition=Q(<field>__isnull=False)) with AddConstraintNotValid, then "
    "ValidateConstraint; (3) set null=False (PostgreSQL >= 12 skips the scan) and remove "
    "the check."
)


RULE = Rule(
    code="DJG210",
    size_dependent=True,
    name="set-not-null",
    severity="error",
    title="null=True to null=False (SET NOT NULL) scans the table under an ACCESS EXCLUSIVE lock.",
    hint=(
        "On PostgreSQL >= 12: add CheckConstraint(condition=Q(<field>__isnull=False)) with "
        "AddConstraintNotValid, ValidateConstraint it in a later migration, then set "
        "null=False (the scan is skipped) and remove the check."
    ),
    postgresql_only=True,
    versions="from 12: skipped when a validated CHECK (column IS NOT NULL) exists",
    operations=frozenset({"AlterField", "RunSQL"}),
    check_operation=check,
)
