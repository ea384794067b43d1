"""Proving a fix: the gate no longer reports it, reports nothing new, and the
migrations still apply.

For a migration fix, after the edit is written:

1. the migration gate runs again in a fresh interpreter, with the same request (the
   same selection of migrations, baseline and ignores): the finding fixed must be
   gone, no finding may appear that was not there before (a new migration with a
   finding of its own, ``DJG230`` when the model and the migrations disagree), and
   the gate must have run (an error is not a proof);
2. every migration is applied to a new, empty test database of the checked alias
   (:mod:`pytest_django_gates.fix.apply_worker`).

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


def apply_migrations(project: Project) -> tuple[str | None, str]:
    """(None, vendor) when every migration applied to a new test database; else
    (why not, "")."""
    from pytest_django_gates.migrations.worker import project_env

    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest_django_gates.fix.apply_worker", project.database],
            cwd=project.root,
            env=project_env(project.settings, project.paths),
            capture_output=True,
            text=True,
            timeout=APPLY_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"applying the migrations took more than {APPLY_TIMEOUT:.0f} s", ""
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return (lines[-1] if lines else f"the migrate process exited with {proc.returncode}"), ""
    return None, proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
