"""Helpers for the deploy-gate tests: the test projects and a clean environment."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates import config, options
from pytest_django_gates.deploy.runner import DeployRun, run_deploy
from pytest_django_gates.report import Finding

PROJECTS = Path(__file__).resolve().parent / "projects"
SETTINGSRULES = PROJECTS / "settingsrules"
SOURCERULES = PROJECTS / "sourcerules"


def deploy_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without anything Django or django-gates reads."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SHOP_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(extra or {})
    return env


def scrub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """For one test, remove what :func:`deploy_environ` leaves out, and DJANGO_GATES_*."""
    keep = deploy_environ()
    for name in list(os.environ):
        if name not in keep or name.startswith("DJANGO_GATES_"):
            monkeypatch.delenv(name)


def load_config(
    cli: Mapping[str, Any] | None = None,
    pyproject: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> config.GatesConfig:
    return config.load(
        options.OPTIONS, cli=dict(cli or {}), environ=environ or {}, pyproject=pyproject
    )


def run_settings(
    module: str,
    project: Path = SETTINGSRULES,
    *,
    environ: Mapping[str, str] | None = None,
    today: dt.date | None = None,
    **cli: Any,
) -> DeployRun:
    """Run the deploy gate on ``module`` of ``project`` (the project is the root)."""
    cli = {"deploy_settings": module, **{k.replace("__", "."): v for k, v in cli.items()}}
    return run_deploy(load_config(cli), project, environ=deploy_environ(environ), today=today)


def line_of(path: Path, text: str) -> int:
    """The first line of ``path`` starting with ``text`` (indentation ignored)."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.lstrip().startswith(text):
            return number
    raise AssertionError(f"{text!r} is not in {path}")


def located(
    findings: tuple[Finding, ...] | list[Finding],
) -> set[tuple[str, str, str | None, int | None]]:
    return {(f.code, f.object, f.path, f.line) for f in findings}


def codes(findings: tuple[Finding, ...] | list[Finding]) -> list[str]:
    return sorted(f.code for f in findings)


def first_line(message: str) -> str:
    return re.split(r"\n", message, maxsplit=1)[0]
