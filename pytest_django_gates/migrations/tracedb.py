"""The lock tracer's scratch PostgreSQL database: where it comes from, and its lifetime.

The server is, first match wins: ``migrations.trace_database`` (command line
``--trace-database``, environment, pyproject), then ``DATABASE_URL``, then the
server of the checked database alias when its engine is PostgreSQL. The
database named in the URL is used only to create the scratch database
(``djg_trace_<pid>_<random>``) and to drop it afterwards: on success, on a
failure and on Ctrl-C or SIGTERM alike (``WITH (FORCE)`` from PostgreSQL 13,
after terminating its sessions before that).

Connections go through Django's own PostgreSQL backend, under aliases added to
``django.db.connections`` for the trace and removed afterwards: no second
driver, and the project's ``OPTIONS`` (SSL, search path...) are kept when its
database is PostgreSQL too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from pytest_django_gates.config import ConfigError

PROBE_ALIAS = "djg_trace_probe"
ADMIN_ALIAS = "djg_trace_admin"
POSTGRESQL_ENGINES = ("postgresql", "postgis")


class TraceError(Exception):
    """The trace could not be made (unreachable server, no CREATEDB, a migration that
    fails to apply): the gate is an ``error`` (exit 3)."""


@dataclass(frozen=True)
class Server:
    settings: dict[str, Any]
    """Django ``DATABASES`` entry for the maintenance database."""
    where: str
    """Where the server came from, for messages (never the password)."""

    @property
    def display(self) -> str:
        s = self.settings
        user = f"{s.get('USER')}@" if s.get("USER") else ""
        return f"postgresql://{user}{s.get('HOST') or 'localhost'}:{s.get('PORT') or 5432}"


def parse_url(url: str, where: str) -> dict[str, Any]:
    """A ``postgres://`` URL as a Django ``DATABASES`` entry."""
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql", "postgis", "pgsql"):
        raise ConfigError(
            f"{where}: {parts.scheme or 'no'} scheme in {_redact(url)!r}: the trace needs a "
            "PostgreSQL server, postgres://user:password@host:port/dbname"
        )
    options = dict(parse_qsl(parts.query))
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{where}: bad port in {_redact(url)!r}: {exc}") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(port or ""),
        "OPTIONS": options,
    }


def _redact(url: str) -> str:
    parts = urlparse(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def find_server(
    option: str | None, option_source: str, environ: Mapping[str, str], alias: str
) -> Server:
    from django.conf import settings

    if option:
        return Server(parse_url(option, f"migrations.trace_database (from {option_source})"), "")
    url = environ.get("DATABASE_URL", "").strip()
    if url:
        return Server(parse_url(url, "DATABASE_URL"), "DATABASE_URL")
    entry = dict((getattr(settings, "DATABASES", {}) or {}).get(alias) or {})
    if any(word in str(entry.get("ENGINE", "")) for word in POSTGRESQL_ENGINES):
        entry["NAME"] = "postgres"
        return Server(entry, f"DATABASES[{alias!r}]")
    raise ConfigError(
        "migrations.trace needs a PostgreSQL server: pass --trace-database "
        "postgres://user@host:port/postgres, set [tool.django-gates.migrations] "
        f"trace_database or DATABASE_URL (database {alias!r} is not PostgreSQL)"
    )


def _add_alias(alias: str, entry: Mapping[str, Any]) -> Any:
    from django.db import connections

    # configure_settings fills Django's defaults (and insists on a "default" entry)
    configured = connections.configure_settings({"default": dict(entry), alias: dict(entry)})[alias]
    connections.settings[alias] = configured
    return connections[alias]


def _remove_alias(alias: str) -> None:
    from django.db import connections

    if alias in connections.settings:
        try:
            connections[alias].close()
        finally:
            del connections.settings[alias]
            with contextlib.suppress(AttributeError):  # never opened in this thread
                del connections[alias]


@contextmanager
def _swapped(alias: str, entry: Mapping[str, Any]) -> Iterator[Any]:
    """Point ``alias`` at the scratch database for the trace, and back afterwards.

    The migrations run under the alias they are checked for (``default``): a
    ``RunPython`` that forgets ``.using(schema_editor.connection.alias)`` writes to
    the scratch database, as it would write to the migrated one in production."""
    from django.db import connections

    saved_settings = connections.settings[alias]
    saved = connections[alias]  # a wrapper object; it connects only when used
    del connections[alias]
    connections.settings[alias] = connections.configure_settings(
        {"default": dict(entry), alias: dict(entry)}
    )[alias]
    try:
        yield connections[alias]
    finally:
        try:
            connections[alias].close()
        finally:
            del connections[alias]
            connections.settings[alias] = saved_settings
            connections[alias] = saved


@contextmanager
def scratch_database(server: Server, alias: str, created: list[str]) -> Iterator[Any]:
    """Create the scratch database (its name is appended to ``created``) and yield the
    migrating connection: ``alias`` pointed at it; drop it whatever happens."""
    from django.db import DatabaseError

    name = f"djg_trace_{os.getpid()}_{secrets.token_hex(4)}"
    admin = _add_alias(ADMIN_ALIAS, server.settings)
    try:
        try:
            with admin.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
            created.append(name)
        except DatabaseError as exc:
            raise TraceError(_create_failure(server, exc)) from exc
        except Exception as exc:  # the driver's connection errors are not DatabaseError
            raise TraceError(_create_failure(server, exc)) from exc
        entry = {**server.settings, "NAME": name}
        with _swapped(alias, entry) as connection:
            _add_alias(PROBE_ALIAS, entry)
            try:
                yield connection
            finally:
                _remove_alias(PROBE_ALIAS)
    finally:
        try:
            if name in created:
                _drop(admin, name)
        finally:
            _remove_alias(ADMIN_ALIAS)


def _drop(admin: Any, name: str) -> None:
    with admin.cursor() as cursor:
        if admin.pg_version >= 130000:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _create_failure(server: Server, exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    source = f" (from {server.where})" if server.where else ""
    if "permission denied to create database" in text:
        user = server.settings.get("USER") or "the current user"
        return (
            f"the trace cannot create its scratch database on {server.display}{source}: "
            f"role {user!r} lacks CREATEDB; grant it (ALTER ROLE {user} CREATEDB) or point "
            "--trace-database at a server where it can"
        )
    return (
        f"the trace cannot reach PostgreSQL at {server.display}{source}: "
        f"{type(exc).__name__}: {text}; start the server or fix --trace-database / DATABASE_URL"
    )


def database_exists(server: Server, name: str) -> bool:
    """Whether ``name`` exists on the server (for tests and the benchmark)."""
    admin = _add_alias(ADMIN_ALIAS, server.settings)
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        _remove_alias(ADMIN_ALIAS)
