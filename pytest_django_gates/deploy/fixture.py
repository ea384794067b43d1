"""The ``deploy_checks`` fixture: run the deploy gate from a test and assert on its findings.

::

    def test_production_settings_are_deployable(deploy_checks):
        assert deploy_checks("config.settings.production") == []

    def test_no_wildcard_hosts(deploy_checks):
        codes = {f.code for f in deploy_checks()}   # deploy_settings from pyproject
        assert "DJG302" not in codes

``deploy_checks(settings=None, *, fail_level=None, project_dir=None, environ=None)``
returns the list of :class:`~pytest_django_gates.report.Finding` the gate
reports (after allows and ``SILENCED_SYSTEM_CHECKS``; warnings included, each
with the severity the fail level gives it). Configuration is read like the gate
reads it: ``pyproject.toml`` at or above pytest's rootdir, ``DJANGO_GATES_*``
environment variables, then these arguments. The probe runs in its own
subprocess, so the test's own Django settings are not touched.
``deploy_checks.last`` is the :class:`~pytest_django_gates.report.GateResult`
of the last call (its ``summary`` says what was supplied or silenced).

A settings module that does not import raises
:class:`~pytest_django_gates.config.ConfigError`; a probe that cannot run raises
:class:`~pytest_django_gates.deploy.runner.DeployGateError`. Nothing here imports
Django: the module is safe to import from the pytest plugin.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from pytest_django_gates import config, options
from pytest_django_gates.report import Finding, GateResult


class DeployChecks:
    """Callable returned by the ``deploy_checks`` fixture."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self.last: GateResult | None = None

    def __call__(
        self,
        settings: str | None = None,
        *,
        fail_level: str | None = None,
        project_dir: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> list[Finding]:
        from pytest_django_gates.deploy.runner import run_deploy

        env = dict(os.environ if environ is None else environ)
        cfg = config.load(
            options.OPTIONS,
            cli={
                "deploy_settings": settings,
                "deploy.fail_level": fail_level,
                "deploy.project_dir": None if project_dir is None else str(project_dir),
            },
            environ=env,
            pyproject=config.find_pyproject(self.rootdir),
        )
        outcome = run_deploy(cfg, self.rootdir, environ=env)
        self.last = outcome.result
        return list(outcome.findings)


@pytest.fixture
def deploy_checks(request: pytest.FixtureRequest) -> DeployChecks:
    """Run the deploy gate: ``deploy_checks("config.settings.production")`` -> findings."""
    return DeployChecks(Path(request.config.rootpath))
