"""Ignores: per migration (in the migration file), per code, per app (in pyproject.toml).

In a migration file, either a class attribute (no dependency on this package)::

    class Migration(migrations.Migration):
        gates_ignore = {"DJG203": "column unused since release 41"}

or the no-op operation :class:`pytest_django_gates.migrations.IgnoreRule`
(``IgnoreRule("DJG203", reason="...")``, anywhere in ``operations``). Both apply
to the whole migration.

In ``pyproject.toml``, ``[[tool.django-gates.migrations.ignore]]`` tables with a
``reason`` and at least one of ``migration`` (``app_label.migration_name``),
``code`` and ``app``; all given keys must match.

An ignore that matches nothing is reported as a ``DJG290`` warning: migration
ignores whenever their migration is checked, code/app ignores when every
migration is checked (``--all``), since a partial run cannot tell. An unknown
app label or code is a configuration error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_django_gates.config import ConfigError
from pytest_django_gates.report import Finding

_KEYS = ("migration", "code", "app", "reason")


def validate_entries(value: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """Static validation of ``migrations.ignore`` (the option's ``validate``)."""
    from pytest_django_gates.migrations.registry import RULES

    for i, entry in enumerate(value):
        here = f"{where}[{i}]"
        unknown = set(entry) - set(_KEYS)
        if unknown:
            raise ConfigError(
                f"{here}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(_KEYS)}"
            )
        for key in _KEYS:
            if key in entry and not isinstance(entry[key], str):
                raise ConfigError(f"{here}.{key}: expected a string, got {entry[key]!r}")
        if not entry.get("reason", "").strip():
            raise ConfigError(f"{here}: every ignore needs a non-empty 'reason'")
        if not any(entry.get(k) for k in ("migration", "code", "app")):
            raise ConfigError(
                f"{here}: give at least one of 'migration' (app_label.migration_name), "
                "'code' (DJG2xx) or 'app' (app label)"
            )
        code = entry.get("code")
        if code and code not in RULES:
            raise ConfigError(
                f"{here}.code: unknown code {code!r}; migration codes are {', '.join(RULES)}"
            )
        migration = entry.get("migration")
        if migration is not None and (migration.count(".") != 1 or not all(migration.split("."))):
            raise ConfigError(
                f"{here}.migration: {migration!r} is not app_label.migration_name "
                "(for example shop.0003_remove_order_total)"
            )
    return value


@dataclass(eq=False)
class Ignore:
    reason: str
    where: str
    """Where it was written, for messages."""
    object: str
    """The report ``object`` of a DJG290 finding about it."""
    path: str | None
    line: int | None
    migration: str | None = None
    code: str | None = None
    app: str | None = None
    from_file: bool = False
    used: int = 0

    def matches(self, finding: Finding) -> bool:
        if finding.code in ("DJG290", "DJG291"):
            return False
        if self.code is not None and finding.code != self.code:
            return False
        if self.migration is not None and finding.object != self.migration:
            return False
        return not (self.app is not None and finding.object.split(".", 1)[0] != self.app)

    def describe(self) -> str:
        parts = [
            f"{k}={v}"
            for k, v in (("migration", self.migration), ("code", self.code), ("app", self.app))
            if v
        ]
        return ", ".join(parts)


def has_file_ignores(migration: Any) -> bool:
    if getattr(type(migration), "gates_ignore", None) is not None:
        return True
    return any(type(op).__name__ == "IgnoreRule" for op in migration.operations)


def file_ignores(
    migration: Any,
    label: str,
    path: str | None,
    attribute_line: int | None,
    op_lines: list[int | None],
) -> list[Ignore]:
    """Ignores written in a migration file (``gates_ignore`` and ``IgnoreRule`` operations)."""
    from pytest_django_gates.migrations.operations import IgnoreRule
    from pytest_django_gates.migrations.registry import RULES

    where = f"{path or label}:{attribute_line}" if attribute_line else (path or label)
    found: list[Ignore] = []
    raw = getattr(type(migration), "gates_ignore", None)
    if raw is not None:
        if not isinstance(raw, dict):
            raise ConfigError(
                f"{where}: gates_ignore must be a dict of {{code: reason}}, "
                f"got {type(raw).__name__}"
            )
        for code, reason in raw.items():
            if code not in RULES:
                raise ConfigError(f"{where}: gates_ignore has an unknown code {code!r}")
            if not isinstance(reason, str) or not reason.strip():
                raise ConfigError(f"{where}: gates_ignore[{code!r}] needs a non-empty reason")
            found.append(
                Ignore(
                    reason,
                    where,
                    label,
                    path,
                    attribute_line,
                    migration=label,
                    code=code,
                    from_file=True,
                )
            )
    for i, op in enumerate(migration.operations):
        if isinstance(op, IgnoreRule):
            line = op_lines[i] if i < len(op_lines) else None
            op_where = f"{path or label}:{line}" if line else (path or label)
            for code in op.codes:
                found.append(
                    Ignore(
                        op.reason,
                        op_where,
                        label,
                        path,
                        line,
                        migration=label,
                        code=code,
                        from_file=True,
                    )
                )
    return found


def config_ignores(
    entries: tuple[dict[str, Any], ...], pyproject: str | None, rel_pyproject: str | None
) -> list[Ignore]:
    found: list[Ignore] = []
    for i, entry in enumerate(entries):
        where = f"{pyproject or 'pyproject.toml'}: [[tool.django-gates.migrations.ignore]] #{i + 1}"
        found.append(
            Ignore(
                reason=entry["reason"],
                where=where,
                object=f"tool.django-gates.migrations.ignore[{i}]",
                path=rel_pyproject,
                line=None,
                migration=entry.get("migration"),
                code=entry.get("code"),
                app=entry.get("app"),
            )
        )
    return found
