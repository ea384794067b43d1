"""DJG213: AddIndexConcurrently / RemoveIndexConcurrently in an atomic migration."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations.base import Hit, MigrationContext, Rule

_CONCURRENT = ("AddIndexConcurrently", "RemoveIndexConcurrently")


def check(ctx: MigrationContext) -> Iterator[Hit]:
    if not ctx.migration.atomic:
        return
    for record in ctx.ops:
        for kind in _CONCURRENT:
            if kind in record.kinds:
                yield Hit(
                    f"{kind} cannot run inside a transaction and this migration is atomic: "
                    "applying it fails with NotSupportedError",
                    index=record.index,
                )


RULE = Rule(
    on_squashed=True,
    code="DJG213",
    name="concurrent-index-in-atomic-migration",
    severity="error",
    title="A concurrent index operation in an atomic migration cannot run at all.",
    hint="Set atomic = False on the Migration class and keep the concurrent operation in it alone.",
    check_migration=check,
)
