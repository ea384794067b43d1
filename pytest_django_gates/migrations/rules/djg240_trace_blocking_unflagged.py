"""DJG240: the lock trace saw blocking work that no rule reported (reported by the tracer)."""

from __future__ import annotations

from pytest_django_gates.migrations.base import Rule

RULE = Rule(
    code="DJG240",
    name="trace-blocking-unflagged",
    severity="error",
    title=(
        "Applied to a scratch PostgreSQL database, the operation rewrote, scanned or "
        "indexed an existing table while holding a lock that blocks reads or writes, and "
        "no static rule reported it."
    ),
    hint=(
        "Treat the operation as blocking: use the safe recipe of the matching rule (a "
        "concurrent index, NOT VALID then VALIDATE, a new column instead of a type change), "
        "or accept it with an ignore that gives the reason; the trace is the database's "
        "own answer, so please report the case to pytest-django-gates."
    ),
)
