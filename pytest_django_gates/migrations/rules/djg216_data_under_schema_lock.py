"""DJG216: a data migration running while a schema lock of the same transaction is held."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations.base import Hit, MigrationContext, OpRecord, Rule


def check(ctx: MigrationContext) -> Iterator[Hit]:
    if not ctx.migration.atomic:
        return
    locked: OpRecord | None = None
    for record in ctx.ops:
        if record.data and locked is not None:
            what = "RunPython" if "RunPython" in record.kinds else "RunSQL"
            yield Hit(
                f"{what} runs in the same transaction as {type(locked.operation).__name__}, "
                f"which locked {locked.table!r}: the lock is held until the data migration "
                "finishes, blocking reads and writes to that table",
                index=record.index,
            )
        if record.table and locked is None:
            locked = record


RULE = Rule(
    code="DJG216",
    name="data-migration-under-schema-lock",
    severity="warning",
    title=(
        "A data migration after a schema change in the same atomic migration keeps the "
        "schema lock for as long as the data migration runs."
    ),
    hint=(
        "Put the RunPython/RunSQL data step in its own migration (or set atomic = False on "
        "the migration so each operation commits on its own)."
    ),
    postgresql_only=True,
    check_migration=check,
)
