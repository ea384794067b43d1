"""DJG290: an ignore that matches nothing (reported by the analysis itself)."""

from __future__ import annotations

from pytest_django_gates.migrations.base import Rule

RULE = Rule(
    code="DJG290",
    name="unused-ignore",
    severity="warning",
    title="An ignore matches no finding: it hides nothing today and may hide something tomorrow.",
    hint="Remove the ignore (or fix its migration, code or app).",
)
