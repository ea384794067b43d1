"""DJG204: dropping a table the previous release still uses.

Also ``RunSQL("DROP TABLE ...")`` of a table of a model the state still has (not the
later drop of a model already deleted from the state).
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations import sqltext
from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.rules._helpers import existing_model, table


def check(ctx: OpContext) -> Iterator[Hit]:
    if ctx.is_("RunSQL"):
        for stmt in ctx.statements:
            for dropped in sqltext.dropped_tables(stmt):
                live = ctx.live_tables.get(dropped)
                if live is not None:
                    yield Hit(
                        f"RunSQL drops table {dropped!r} of {live.label}, which the model "
                        "state still has: the running code queries it during the deploy"
                    )
        return
    snap = existing_model(ctx)
    if snap is None:
        return
    yield Hit(
        f"drops table {table(ctx, snap)!r} ({snap.label}): the previous release's code "
        "still queries it during the deploy"
    )


RULE = Rule(
    code="DJG204",
    name="remove-table",
    severity="error",
    title="Dropping a table breaks the code still running during the deploy.",
    hint=(
        "Delete the model from the code and the state first "
        "(SeparateDatabaseAndState(state_operations=[DeleteModel(...)])), and drop the "
        "table with RunSQL('DROP TABLE ...') in a later release."
    ),
    operations=frozenset({"DeleteModel", "RunSQL"}),
    check_operation=check,
)
