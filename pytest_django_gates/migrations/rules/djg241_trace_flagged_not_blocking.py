"""DJG241: a rule said an operation blocks, and the lock trace saw no blocking lock."""

from __future__ import annotations

from pytest_django_gates.migrations.base import Rule

RULE = Rule(
    code="DJG241",
    name="trace-flagged-not-blocking",
    severity="warning",
    title=(
        "A lock or rewrite rule reported the operation, and applied to a scratch PostgreSQL "
        "database it took no lock that blocks reads or writes on an existing table."
    ),
    hint=(
        "Check the finding against the trace (--trace-output): if the operation is safe on "
        "your PostgreSQL version, accept it with an ignore that cites the trace, and please "
        "report the case to pytest-django-gates."
    ),
)
