"""DJG291: a baseline entry naming a migration that no longer exists."""

from __future__ import annotations

from pytest_django_gates.migrations.base import Rule

RULE = Rule(
    code="DJG291",
    name="stale-baseline-entry",
    severity="warning",
    title=(
        "A baseline entry names a migration that no longer exists (renamed, squashed or removed)."
    ),
    hint="Refresh the baseline: django-gates migrations --all --update-baseline.",
)
