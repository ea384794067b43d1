"""DJG220: RunPython without reverse_code."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations.base import Hit, OpContext, Rule


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.operation.reverse_code is None:
        name = getattr(ctx.operation.code, "__name__", "code")
        yield Hit(f"RunPython({name}) has no reverse_code: the migration cannot be rolled back")


RULE = Rule(
    on_squashed=True,
    code="DJG220",
    name="runpython-without-reverse",
    severity="warning",
    title="RunPython without reverse_code makes the migration irreversible.",
    hint="Pass reverse_code=... (migrations.RunPython.noop when there is nothing to undo).",
    operations=frozenset({"RunPython"}),
    check_operation=check,
)
