"""DJG216: a data migration running while a schema lock of the same transaction is held.

A warning, or an error when the data step writes the rows of the very table the schema
change locked (a backfill of an existing table): then every read and write of that
table waits for the whole update."""

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
            schema = type(locked.operation).__name__
            if locked.table in record.updates:
                # The update of the whole locked table runs under the lock: every read
                # and write of that table waits for all of it.
                yield Hit(
                    f"{what} updates the rows of {locked.table!r} in the same transaction "
                    f"as {schema}, which locked that table: every read and write of "
                    f"{locked.table!r} waits until the whole update finishes",
                    severity="error",
                    hint=(
                        "Split the migration: the schema change in one migration, then the "
                        "backfill in a migration of its own with atomic = False, updating "
                        "the rows in batches (each batch commits and releases its row "
                        "locks)."
                    ),
                    index=record.index,
                )
                continue
            yield Hit(
                f"{what} runs in the same transaction as {schema}, "
                f"which locked {locked.table!r}: the lock is held until the data migration "
                "finishes, blocking reads and writes to that table",
                index=record.index,
            )
        if record.table and locked is None:
            locked = record


RULE = Rule(
    code="DJG216",
    size_dependent=True,
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
