"""DJG306: persistent connections off on PostgreSQL (``CONN_MAX_AGE`` 0 and no pool).

Only PostgreSQL databases are looked at (``vendor == "postgresql"``, PostGIS
included). ``CONN_MAX_AGE = None`` (unlimited) and a Django 5.1+ connection pool
(``OPTIONS["pool"]``) both count as persistent. A project behind PgBouncer in
transaction mode that wants ``CONN_MAX_AGE = 0`` allows this rule with a reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule


def _vendor(engine: str) -> str:
    """The backend's vendor: its ``DatabaseWrapper`` class attribute (imported, never built)."""
    from django.db.utils import load_backend

    try:
        return str(load_backend(engine).DatabaseWrapper.vendor)
    except Exception:  # backend not importable here: judge by the engine's name
        lowered = engine.lower()
        return "postgresql" if "postgres" in lowered or "postgis" in lowered else ""


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.db import connections

    for alias in connections:
        config = connections.settings[alias]
        engine = str(config.get("ENGINE") or "")
        if _vendor(engine) != "postgresql":
            continue
        options = config.get("OPTIONS") or {}
        if config.get("CONN_MAX_AGE", 0) == 0 and not options.get("pool"):
            yield RULE.issue(
                f"DATABASES[{alias!r}] is PostgreSQL with CONN_MAX_AGE = 0 and no connection "
                "pool: every request opens (and TLS-handshakes) a new connection."
            )


RULE = SettingsRule(
    code="DJG306",
    setting="DATABASES",
    level="warning",
    title="persistent connections off on PostgreSQL",
    fix='set "CONN_MAX_AGE": 60 with "CONN_HEALTH_CHECKS": True, or (Django 5.1+) '
    '"OPTIONS": {"pool": True}; behind PgBouncer, allow this rule with a reason',
    check=check,
)
