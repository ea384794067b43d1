"""DJG223: RunSQL that cannot run inside a transaction, in an atomic migration."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule


def check(ctx: OpContext) -> Iterator[Hit]:
    if not ctx.migration.atomic:
        return
    for stmt in ctx.statements:
        reason = sqltext.cannot_run_in_transaction(stmt, ctx.env.pg_version)
        if reason:
            yield Hit(
                f"RunSQL runs {reason}, which cannot run inside a transaction block, and this "
                "migration is atomic: applying it fails"
            )


RULE = Rule(
    on_squashed=True,
    code="DJG223",
    name="runsql-cannot-run-in-transaction",
    severity="error",
    title=(
        "SQL that cannot run in a transaction (CREATE INDEX CONCURRENTLY, VACUUM...) "
        "fails in an atomic migration."
    ),
    hint=(
        "Set atomic = False on the Migration class and keep that RunSQL in a migration of its own."
    ),
    versions="before 12: ALTER TYPE ... ADD VALUE too",
    operations=frozenset({"RunSQL"}),
    check_operation=check,
)
