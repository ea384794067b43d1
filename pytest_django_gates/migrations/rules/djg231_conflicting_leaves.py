"""DJG231: several leaf migrations in one app (a merge is needed)."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.migrations.base import ProjectContext, Rule
from pytest_django_gates.report import Finding


def check(ctx: ProjectContext) -> Iterator[Finding]:
    conflicts = ctx.loader.detect_conflicts()
    for app_label in sorted(conflicts):
        if app_label not in ctx.app_labels:
            continue
        names = sorted(conflicts[app_label])
        for name in names:
            others = ", ".join(n for n in names if n != name)
            yield Finding(
                code=RULE.code,
                severity=RULE.severity,
                message=(
                    f"{app_label}.{name} and {others} are all leaf migrations of "
                    f"{app_label!r}: manage.py migrate refuses to run until they are merged"
                ),
                object=f"{app_label}.{name}",
                path=ctx.relpath(ctx.migration_file((app_label, name))),
                hint=f"Run: python manage.py makemigrations --merge {app_label}",
            )


RULE = Rule(
    code="DJG231",
    name="conflicting-leaf-migrations",
    severity="error",
    title="Two leaf migrations in one app: migrate refuses to run.",
    hint="Run python manage.py makemigrations --merge (or rebase and renumber the new migration).",
    check_project=check,
)
