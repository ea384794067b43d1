"""DJG232: a migration edited after it was created (it exists at the git base).

Databases that applied the migration never run it again, so an edit makes
production's schema differ from every new database's. Only a change of the
``Migration`` class's ``operations`` (or ``atomic``) as code counts: reformatting,
comments and docstrings do not. Needs a git base (``--since`` or a pull request).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pytest_django_gates.migrations.base import ProjectContext, Rule
from pytest_django_gates.report import Finding


def check(ctx: ProjectContext) -> Iterator[Finding]:
    if not ctx.edited_files:
        return
    for key in sorted(ctx.loader.disk_migrations):
        if key[0] not in ctx.app_labels:
            continue
        path = ctx.migration_file(key)
        if path is None or Path(path).resolve() not in ctx.edited_files:
            continue
        yield Finding(
            code=RULE.code,
            severity=RULE.severity,
            message=(
                f"{key[0]}.{key[1]} existed at the git base and its operations were changed: "
                "databases that already applied it never run it again, so production's "
                "schema and a new database's now differ"
            ),
            object=f"{key[0]}.{key[1]}",
            path=ctx.relpath(path),
            hint=RULE.hint,
        )


RULE = Rule(
    code="DJG232",
    name="edited-migration",
    severity="error",
    title=(
        "A migration changed after it was created: databases that applied it never see the change."
    ),
    hint=(
        "Restore the migration as it was at the base and put the change in a new "
        "migration (python manage.py makemigrations)."
    ),
    check_project=check,
)
