"""The migration safety rule engine behind the ``migrations`` gate.

Nothing here imports Django at import time (the pytest plugin imports
:mod:`pytest_django_gates.migrations.fixture`). :class:`IgnoreRule`, the no-op
migration operation that silences a rule for one migration, is imported lazily::

    from pytest_django_gates.migrations import IgnoreRule

    class Migration(migrations.Migration):
        operations = [
            IgnoreRule("DJG203", reason="column unused since release 41"),
            migrations.RemoveField("order", "legacy_total"),
        ]

Layout: :mod:`.registry` (the rules, one module each under :mod:`.rules`),
:mod:`.engine` (one walk of the migration graph), :mod:`.analysis` (ignores,
baseline, the gate result), :mod:`.worker` (the subprocess the CLI runs it in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_django_gates.migrations.operations import IgnoreRule

__all__ = ["IgnoreRule"]


def __getattr__(name: str) -> Any:
    if name == "IgnoreRule":
        from pytest_django_gates.migrations.operations import IgnoreRule

        return IgnoreRule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
