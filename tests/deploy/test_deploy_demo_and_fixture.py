"""The demo project's production settings pass clean; the gate interface; the fixture."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from pytest_django_gates.config import ConfigError
from pytest_django_gates.deploy.fixture import DeployChecks
from pytest_django_gates.deploy.runner import DeployGateError
from pytest_django_gates.gates import GateContext, run_gate
from tests.deploy.deploy_support import (
    SETTINGSRULES,
    deploy_environ,
    load_config,
    run_settings,
    scrub_environment,
)


def test_demo_project_production_settings_pass_clean(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found the way a user's project is: manage.py + config/settings/production.py.
    scrub_environment(monkeypatch)
    ctx = GateContext(config=load_config(), rootdir=demo_copy.parent, in_pytest=True)
    result, _ = run_gate("deploy", ctx)
    assert result.status == "passed", [
        (f.code, f.object, f.path, f.line, f.message) for f in result.findings
    ]
    assert result.findings == ()
    assert result.summary.startswith(
        "config.settings.production (found automatically): no findings"
    )


def test_a_settings_package_outside_the_project_is_read_where_python_found_it() -> None:
    elsewhere = SETTINGSRULES.parent / "elsewhere"
    run = run_settings("sharedsettings.production", environ={"PYTHONPATH": str(elsewhere)})
    (finding,) = run.findings
    assert (finding.code, finding.object, finding.line) == ("DJG305", "USE_TZ", 5)
    assert finding.path == (elsewhere / "sharedsettings" / "production.py").as_posix()


def test_run_gate_turns_an_import_failure_into_a_config_error() -> None:
    cfg = load_config({"deploy_settings": "prodsettings.broken_import"})
    with pytest.raises(ConfigError, match="does not import"):
        run_gate("deploy", GateContext(config=cfg, rootdir=SETTINGSRULES))


def test_run_gate_reports_a_crash_as_error_not_pass() -> None:
    cfg = load_config({"deploy_settings": "prodsettings.broken_urlconf"})
    result, _ = run_gate("deploy", GateContext(config=cfg, rootdir=SETTINGSRULES))
    assert result.status == "error"
    assert "could not look: DJG308, DJG323 and Django's checks" in result.summary
    (finding,) = result.findings
    assert finding.code == "DJG393"
    assert "this URLconf is broken on purpose" in finding.message


def test_the_fixture_object_returns_findings_and_keeps_the_result() -> None:
    checks = DeployChecks(SETTINGSRULES)
    findings = checks("prodsettings.djg318_md5_hasher", environ=deploy_environ())
    assert [(f.code, f.object) for f in findings] == [("DJG318", "PASSWORD_HASHERS")]
    assert checks.last is not None
    assert checks.last.status == "failed"
    assert checks("prodsettings.clean", environ=deploy_environ()) == []
    with pytest.raises(ConfigError):
        checks("prodsettings.broken_import", environ=deploy_environ())
    # rules that could not look are a DJG393 finding (the gate's status is error)
    findings = checks("prodsettings.broken_urlconf", environ=deploy_environ())
    assert [(f.code, f.object) for f in findings] == [("DJG393", "ROOT_URLCONF")]
    assert checks.last.status == "error"
    with pytest.raises(DeployGateError):
        checks("prodsettings.broken_exit", environ=deploy_environ())


def test_the_deploy_checks_fixture_in_a_users_test_suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    scrub_environment(monkeypatch)
    shutil.copytree(
        SETTINGSRULES,
        pytester.path,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    pytester.makepyfile(
        conftest="from pytest_django_gates.deploy.fixture import deploy_checks  # noqa: F401\n",
        test_production=textwrap.dedent(
            """
            def test_clean(deploy_checks):
                assert deploy_checks("prodsettings.clean") == []
                assert "supplied for the check" in deploy_checks.last.summary

            def test_wildcard_hosts(deploy_checks):
                findings = deploy_checks("prodsettings.djg302_allowed_hosts_star")
                assert [(f.code, f.object, f.line) for f in findings] == [
                    ("DJG302", "ALLOWED_HOSTS", 5)
                ]

            def test_fail_level(deploy_checks):
                (finding,) = deploy_checks("prodsettings.djg313_locmem_cache", fail_level="error")
                assert finding.severity == "warning"
            """
        ),
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
