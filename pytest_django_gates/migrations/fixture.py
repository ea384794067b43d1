"""The ``migration_safety`` fixture: the findings of one migration, in a test.

::

    def test_backfill_is_safe(migration_safety):
        assert migration_safety("shop", "0007_backfill_totals") == []
        assert migration_safety.codes("shop", "0008") == {"DJG220"}

Django must be set up (pytest-django with ``DJANGO_SETTINGS_MODULE``). The
migration name may be a unique prefix, as with ``manage.py migrate``.
Ignores (in the migration file and in ``pyproject.toml``) apply, so the test
agrees with the gate; the baseline does not. Options (``pg_version``,
``backend``, ``database``) default to ``[tool.django-gates.migrations]``.

This module does not import Django at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_django_gates import config as gates_config
from pytest_django_gates.options import OPTIONS
from pytest_django_gates.report import Finding

if TYPE_CHECKING:
    from pytest_django_gates.config import GatesConfig


class MigrationSafety:
    """Callable helper returned by the ``migration_safety`` fixture."""

    def __init__(self, config: GatesConfig | None = None, rootdir: Path | None = None) -> None:
        self._config = config
        self._rootdir = rootdir

    @property
    def config(self) -> GatesConfig:
        if self._config is None:
            pyproject = gates_config.find_pyproject(self._rootdir or Path.cwd())
            self._config = gates_config.load(OPTIONS, environ=os.environ, pyproject=pyproject)
        return self._config

    @property
    def rootdir(self) -> Path:
        if self._rootdir is not None:
            return self._rootdir
        pyproject = self.config.pyproject
        return pyproject.parent if pyproject else Path.cwd()

    def __call__(
        self,
        app_label: str,
        migration_name: str,
        *,
        pg_version: int | None = None,
        backend: str | None = None,
        database: str | None = None,
        apply_ignores: bool = True,
    ) -> list[Finding]:
        from pytest_django_gates.migrations.analysis import analyze_migrations, settings_configured
        from pytest_django_gates.migrations.request import Request

        if not settings_configured():
            raise RuntimeError(
                "migration_safety needs Django set up: run the test with pytest-django and "
                "DJANGO_SETTINGS_MODULE (or --ds)"
            )
        name = self._resolve(app_label, migration_name)
        cfg = self.config
        request = Request(
            rootdir=str(self.rootdir.resolve()),
            mode="keys",
            mode_label=f"{app_label}.{name}",
            pyproject=str(cfg.pyproject) if cfg.pyproject else None,
            keys=((app_label, name),),
            database=database or cfg["migrations.database"],
            pg_version=pg_version if pg_version is not None else cfg["migrations.pg_version"],
            backend=backend or cfg["migrations.backend"],
            ignores=tuple(dict(e) for e in cfg["migrations.ignore"]),
            project_rules=False,
            apply_baseline=False,
            in_pytest=True,
        )
        return analyze_migrations(request, apply_ignores=apply_ignores)

    def codes(
        self,
        app_label: str,
        migration_name: str,
        *,
        pg_version: int | None = None,
        backend: str | None = None,
        database: str | None = None,
        apply_ignores: bool = True,
    ) -> set[str]:
        """The codes of :meth:`__call__`'s findings."""
        findings = self(
            app_label,
            migration_name,
            pg_version=pg_version,
            backend=backend,
            database=database,
            apply_ignores=apply_ignores,
        )
        return {f.code for f in findings}

    @staticmethod
    def _resolve(app_label: str, prefix: str) -> str:
        from django.db.migrations.exceptions import AmbiguityError
        from django.db.migrations.loader import MigrationLoader

        loader = MigrationLoader(None, ignore_no_migrations=True)
        if app_label not in loader.migrated_apps:
            raise LookupError(f"app {app_label!r} has no migrations (or is not installed)")
        try:
            migration = loader.get_migration_by_prefix(app_label, prefix)
        except KeyError:
            raise LookupError(f"no migration of {app_label!r} starts with {prefix!r}") from None
        except AmbiguityError as exc:
            raise LookupError(str(exc)) from None
        return str(migration.name)


def migration_safety_fixture(
    config: GatesConfig | None = None, rootdir: Path | None = None
) -> MigrationSafety:
    """What the ``migration_safety`` fixture returns (the plugin passes its config)."""
    return MigrationSafety(config, rootdir)
