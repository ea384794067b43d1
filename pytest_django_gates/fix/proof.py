"""Proving a fix: the gate no longer reports it, reports nothing new, and the
migrations still apply.

For a migration fix, after the edit is written:

1. the migration gate runs again in a fresh interpreter, with the same request (the
   same selection of migrations, baseline and ignores): the finding fixed must be
   gone, no finding may appear that was not there before (a new migration with a
   finding of its own, ``DJG230`` when the model and the migrations disagree), and
   the gate must have run (an error is not a proof);
2. every migration is applied to a new, empty test database of the checked alias
   (:mod:`pytest_django_gates.fix.apply_worker`), and the structure it leaves (every
   column, index and constraint, by name, with its definition) must be the one the
   migrations left before the edit: a fix changes how the database gets there (an
   index built ``CONCURRENTLY``, a constraint added ``NOT VALID`` and validated
   later), never where it ends, bar what the recipe declares (``db_default`` gives a
   column a database default).

A fix that fails either step is reverted byte for byte by the caller.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_django_gates.report import Finding, GateResult

APPLY_TIMEOUT = 900.0

Key = tuple[str, str, str]  # (code, object, message)


def key(finding: Finding) -> Key:
    return (finding.code, finding.object, finding.message)


@dataclass(frozen=True)
class Project:
    """What a proof needs to run the project's Django."""

    root: Path
    settings: str
    paths: tuple[str, ...]
    request: dict[str, Any]  # the migration gate's request, as JSON
    database: str


def run_gate(project: Project) -> GateResult:
    from pytest_django_gates.migrations.worker import run_in_subprocess

    return run_in_subprocess(project.request, project.settings, project.paths, project.root)


def judge_gate(before: GateResult, after: GateResult, fixed: Key) -> str | None:
    """None when ``after`` proves the fix of ``fixed``; else why not."""
    if after.status == "error":
        return f"the migration gate could not run after the edit: {after.summary}"
    now = {key(f): f for f in after.findings}
    if fixed in now:
        return "the migration gate still reports it after the edit"
    earlier = {key(f) for f in before.findings}
    new = [f for k, f in now.items() if k not in earlier]
    if new:
        first = new[0]
        return (
            f"the edit makes the migration gate report {first.code} on {first.object}: "
            f"{first.message}"
        )
    return None


@dataclass(frozen=True)
class Applied:
    """What applying every migration to a new test database gave."""

    why: str | None  # None: every migration applied
    vendor: str = ""
    schema: dict[str, Any] | None = None


class _WorkerFailed(Exception):
    """A worker that timed out, exited non-zero or printed no JSON: the sentence why."""


def _worker(project: Project, what: str, module: str, *args: str) -> dict[str, Any]:
    """The JSON object the last line of ``python -m module ARGS`` prints, run with the
    project's settings; :class:`_WorkerFailed` naming ``what`` and why otherwise."""
    import json

    from pytest_django_gates.migrations.worker import project_env

    try:
        proc = subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=project.root,
            env=project_env(project.settings, project.paths),
            capture_output=True,
            text=True,
            timeout=APPLY_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _WorkerFailed(f"{what} took more than {APPLY_TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise _WorkerFailed(lines[-1] if lines else f"{what} exited with {proc.returncode}")
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise _WorkerFailed(f"{what} printed no result") from None
    if not isinstance(data, dict):
        raise _WorkerFailed(f"{what} printed no result")
    return data


def apply_migrations(project: Project) -> Applied:
    """Every migration applied to a new test database, and the schema they left."""
    try:
        data = _worker(
            project,
            "applying the migrations",
            "pytest_django_gates.fix.apply_worker",
            project.database,
        )
        return Applied(None, str(data["vendor"]), dict(data["schema"]))
    except _WorkerFailed as exc:
        return Applied(str(exc))
    except (KeyError, TypeError, ValueError):
        return Applied("applying the migrations printed no schema")


def judge_schema(
    before: dict[str, Any], after: dict[str, Any], allowed: frozenset[str]
) -> str | None:
    """None when the schema is the same (bar ``allowed`` column properties); else why not."""
    from pytest_django_gates.fix.apply_worker import differences

    found = differences(before, after, allowed)
    if not found:
        return None
    more = f" (and {len(found) - 1} more difference(s))" if len(found) > 1 else ""
    return f"the database the migrations leave is not the same: {found[0]}{more}"


def migration_sql(project: Project, app: str, name: str) -> tuple[str, list[dict[str, Any]]]:
    """(vendor, Django's SQL of each operation of ``app.name``), read on a new database of
    the project's alias (:mod:`pytest_django_gates.fix.sql_worker`); raises
    :class:`~pytest_django_gates.fix.plan.NotFixable` with the reason when it cannot be."""
    from pytest_django_gates.fix.plan import NotFixable

    what = f"reading Django's SQL of {app}.{name}"
    try:
        data = _worker(
            project, what, "pytest_django_gates.fix.sql_worker", project.database, app, name
        )
        return str(data["vendor"]), list(data["operations"])
    except _WorkerFailed as exc:
        raise NotFixable(f"Django's SQL of {app}.{name} could not be read: {exc}") from None
    except (KeyError, TypeError, ValueError):
        raise NotFixable(f"Django's SQL of {app}.{name} could not be read") from None
