"""DJG230: model changes without a migration (``makemigrations --check``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pytest_django_gates.migrations.base import ProjectContext, Rule
from pytest_django_gates.report import Finding


def check(ctx: ProjectContext) -> Iterator[Finding]:
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.questioner import MigrationQuestioner
    from django.db.migrations.state import ProjectState

    autodetector = MigrationAutodetector(
        ctx.state,
        ProjectState.from_apps(apps),
        MigrationQuestioner(specified_apps=set(), dry_run=True),
    )
    changes = autodetector.changes(graph=ctx.loader.graph)
    for app_label in sorted(changes):
        if app_label not in ctx.app_labels:
            continue
        described = [op.describe() for m in changes[app_label] for op in m.operations]
        shown = "; ".join(described[:5]) + (
            f"; and {len(described) - 5} more" if len(described) > 5 else ""
        )
        config = apps.get_app_config(app_label)
        models_file = getattr(config.models_module, "__file__", None)
        yield Finding(
            code=RULE.code,
            severity=RULE.severity,
            message=(
                f"the models of {app_label!r} have changes that no migration records "
                f"({shown}): deploying runs code against a schema that does not match"
            ),
            object=app_label,
            path=ctx.relpath(Path(models_file)) if models_file else None,
            hint=f"Run: python manage.py makemigrations {app_label}",
        )


RULE = Rule(
    code="DJG230",
    name="missing-migrations",
    severity="error",
    title="Model changes without a migration: the code expects a schema no migration creates.",
    hint="Run python manage.py makemigrations and commit the migration.",
    check_project=check,
)
