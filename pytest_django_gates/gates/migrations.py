"""Check migrations for zero-downtime safety on PostgreSQL (locks, rewrites, old code).

Gate ``migrations``, codes ``DJG2xx``; ``object`` is ``app_label.migration_name``,
``path``/``line`` the migration file and the operation's line in it.

Under ``pytest --django-gates`` (``ctx.in_pytest``) Django is already set up by
pytest-django and the analysis runs in-process. From ``django-gates
migrations`` it runs in a subprocess set up with the project's settings (see
:mod:`pytest_django_gates.migrations.worker` for why), found as documented in
:mod:`pytest_django_gates.migrations.project`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pytest_django_gates.config import ConfigError
from pytest_django_gates.gates import GateContext
from pytest_django_gates.report import GateResult

NAME = "migrations"


def run(ctx: GateContext) -> GateResult:
    """Where the analysis runs:

    * under pytest, with Django set up by pytest-django: in-process;
    * otherwise, when Django is not set up in this process yet (``django-gates
      migrations``): Django is set up here with the project's settings and the
      analysis runs in-process (one interpreter start: the fast path);
    * when this process already set Django up with other settings (a host
      running several gates): in a fresh subprocess, for isolation.
    """
    from pytest_django_gates.gitbase import BaseUnreachable
    from pytest_django_gates.migrations.analysis import settings_configured
    from pytest_django_gates.migrations.request import build_request

    try:
        request = build_request(ctx.config, ctx.rootdir, in_pytest=ctx.in_pytest)
    except BaseUnreachable as exc:  # could not look: an error (exit 3), never a pass
        return GateResult(name="migrations", status="error", summary=f"gate could not run: {exc}")
    if ctx.in_pytest and settings_configured():
        return _analyze(request)
    from pytest_django_gates.migrations.project import (
        configured_settings_module,
        resolve_project,
        setup_django,
    )

    project = resolve_project(ctx.config, ctx.rootdir, os.environ)
    current = configured_settings_module()
    if current is None:
        setup_django(project.settings, project.paths)
        return _analyze(request)
    if current == project.settings:
        return _analyze(request)
    from pytest_django_gates.migrations.worker import run_in_subprocess

    return run_in_subprocess(request.to_json(), project.settings, project.paths, ctx.rootdir)


def _analyze(request: Any) -> GateResult:
    from pytest_django_gates.migrations.analysis import AnalysisError, analyze

    try:
        return analyze(request)
    except AnalysisError as exc:
        return GateResult(NAME, "error", f"gate could not run: {exc}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings",
        metavar="MODULE",
        help="Django settings module (default: DJANGO_SETTINGS_MODULE, pytest's, manage.py's).",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--since",
        metavar="REF",
        help="Check only migrations added since the merge-base with REF (in GitHub pull "
        "requests the default is origin/$GITHUB_BASE_REF).",
    )
    which.add_argument(
        "--all",
        action="store_true",
        default=None,
        help="Check every migration of the project's apps.",
    )
    which.add_argument(
        "--unapplied",
        action="store_true",
        default=None,
        help="Check the migrations not applied to the database yet.",
    )
    parser.add_argument("--database", metavar="ALIAS", help="Database alias (default: default).")
    parser.add_argument(
        "--pg-version",
        metavar="N",
        help="PostgreSQL major version in production (default: the oldest your Django supports).",
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "postgresql"),
        help="Apply the PostgreSQL rules even when the settings use another database.",
    )
    parser.add_argument(
        "--third-party",
        action="store_true",
        default=None,
        help="Also check the migrations of apps installed outside the project.",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        default=None,
        help="Also apply the checked migrations to a scratch PostgreSQL database and report "
        "the locks, rewrites and blocked reads/writes each operation really caused.",
    )
    parser.add_argument(
        "--trace-database",
        metavar="URL",
        help="PostgreSQL server for --trace (default: DATABASE_URL, else the checked "
        "database's server when it is PostgreSQL).",
    )
    parser.add_argument(
        "--trace-rows", metavar="N", help="Rows put in each of the project's tables first."
    )
    parser.add_argument(
        "--trace-output", metavar="PATH", help="Write the whole trace to this JSON file."
    )
    parser.add_argument("--baseline", metavar="PATH", help="Baseline file of accepted migrations.")
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        default=None,
        help="Rewrite the baseline with every migration that has findings today.",
    )


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    baseline = getattr(args, "baseline", None)
    return {
        "migrations.settings": getattr(args, "settings", None),
        "migrations.since": getattr(args, "since", None),
        "migrations.all": getattr(args, "all", None),
        "migrations.unapplied": getattr(args, "unapplied", None),
        "migrations.database": getattr(args, "database", None),
        "migrations.pg_version": getattr(args, "pg_version", None),
        "migrations.backend": getattr(args, "backend", None),
        "migrations.third_party": getattr(args, "third_party", None),
        "migrations.baseline": str(Path(baseline).resolve()) if baseline else None,
        "migrations.update_baseline": getattr(args, "update_baseline", None),
        "migrations.trace": getattr(args, "trace", None),
        "migrations.trace_database": getattr(args, "trace_database", None),
        "migrations.trace_rows": getattr(args, "trace_rows", None),
        "migrations.trace_output": (
            str(Path(args.trace_output).resolve()) if getattr(args, "trace_output", None) else None
        ),
    }


__all__ = ["NAME", "ConfigError", "add_arguments", "cli_overrides", "run"]
