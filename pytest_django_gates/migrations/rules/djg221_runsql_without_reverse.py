"""DJG221: RunSQL without reverse_sql."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations.base import Hit, OpContext, Rule


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.operation.reverse_sql is None:
        first = ctx.statements[0].text[:60] if ctx.statements else ""
        yield Hit(f"RunSQL({first!r}) has no reverse_sql: the migration cannot be rolled back")


RULE = Rule(
    on_squashed=True,
    code="DJG221",
    name="runsql-without-reverse",
    severity="warning",
    title="RunSQL without reverse_sql makes the migration irreversible.",
    hint="Pass reverse_sql=... (migrations.RunSQL.noop when there is nothing to undo).",
    operations=frozenset({"RunSQL"}),
    check_operation=check,
)
