"""``IgnoreRule``: a no-op migration operation that silences a rule for its migration.

::

    from pytest_django_gates.migrations import IgnoreRule

    operations = [
        IgnoreRule("DJG211", reason="table has 40 rows, locked for milliseconds"),
        migrations.AddIndex(...),
    ]

It changes neither the state nor the database, emits no SQL and is elided by
``squashmigrations``. Because it lives in the migration file, the package must
be importable wherever migrations run (production too); the dependency-free
alternative is the ``gates_ignore = {"DJG211": "reason"}`` class attribute.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import Operation

from pytest_django_gates.migrations.registry import CODE_PATTERN


class IgnoreRule(Operation):
    reduces_to_sql = True
    reversible = True
    elidable = True

    def __init__(self, *codes: str, reason: str) -> None:
        if not codes:
            raise ValueError(
                "IgnoreRule needs at least one code, e.g. IgnoreRule('DJG203', reason=...)"
            )
        bad = [c for c in codes if not isinstance(c, str) or not CODE_PATTERN.match(c)]
        if bad:
            raise ValueError(f"IgnoreRule: {bad!r} are not migration codes (DJG2xx)")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("IgnoreRule needs a non-empty reason=")
        self.codes = tuple(codes)
        self.reason = reason

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, list(self.codes), {"reason": self.reason})

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        pass

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        pass

    def describe(self) -> str:
        return f"Ignore {', '.join(self.codes)} in this migration ({self.reason})"
