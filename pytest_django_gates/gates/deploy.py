"""Check production settings: Django's deployment checks plus production rules it lacks.

``django-gates deploy-check [--settings MODULE] [--fail-level error|warning]``
runs this gate alone; under ``pytest --django-gates`` it runs once per session.
Codes: Django's own check ids (``security.W004``) unchanged, ``DJG3xx`` for the
rules of :mod:`pytest_django_gates.deploy.rules`. The machinery lives in
:mod:`pytest_django_gates.deploy.runner`; this module only adapts it to the gate
interface (and stays import-light: no Django here).
"""

from __future__ import annotations

import argparse
from typing import Any

from pytest_django_gates.gates import GateContext
from pytest_django_gates.report import GateResult

NAME = "deploy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings",
        metavar="MODULE",
        default=None,
        help="Production settings module to check (default: [tool.django-gates] "
        "deploy_settings, else a single settings/production.py found in the project).",
    )
    parser.add_argument(
        "--fail-level",
        choices=("error", "warning"),
        default=None,
        help="Lowest level that fails the gate (default: warning).",
    )


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"deploy_settings": args.settings, "deploy.fail_level": args.fail_level}


def run(ctx: GateContext) -> GateResult:
    """Run the deploy gate; a probe that cannot run is an ``error`` result, never a pass."""
    from pytest_django_gates.deploy.runner import DeployGateError, run_deploy

    environ = None
    if ctx.in_pytest:  # the environment before the test settings could change it
        from pytest_django_gates.environ_at_start import ENVIRON

        environ = ENVIRON
    try:
        return run_deploy(ctx.config, ctx.rootdir, environ=environ).result
    except DeployGateError as exc:
        return GateResult(name=NAME, status="error", summary=f"gate could not run: {exc}")
