"""The deploy baseline, allows pinned to their line, deploy.env, and test modules.

Adopting the gates on a project whose settings already have findings must not
need hand-written allows, and what accepts today's findings must not hide a new
one a few lines below: the baseline fingerprints the text of each finding's line,
and an allow without ``line`` never covers a line the change under review edited.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from pytest_django_gates import config, options
from pytest_django_gates.config import ConfigError
from pytest_django_gates.deploy.runner import DeployRun, run_deploy
from tests.deploy.deploy_support import (
    SETTINGSRULES,
    SOURCERULES,
    deploy_environ,
    line_of,
    run_settings,
)

ENV_DEBUG = '''\
"""DEBUG from the environment, true when it is unset (a development default)."""

import os

from .base import *  # noqa: F403

DEBUG = os.environ.get("APP_DEBUG", "true") == "true"
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "shop"
    shutil.copytree(SETTINGSRULES, dest, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "prodsettings" / "envdebug.py").write_text(ENV_DEBUG)
    return dest


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _run(project: Path, toml: str, **cli: object) -> DeployRun:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(textwrap.dedent(toml))
    cfg = config.load(options.OPTIONS, cli=dict(cli), environ={}, pyproject=pyproject)
    return run_deploy(cfg, project, environ=deploy_environ())


SETTINGS = '[tool.django-gates]\ndeploy_settings = "prodsettings.envdebug"\n'


def _where(run: DeployRun) -> set[tuple[str, str | None, int | None]]:
    return {(f.code, f.path, f.line) for f in run.findings}


def test_the_baseline_holds_todays_findings_and_an_edited_line_is_new(project: Path) -> None:
    settings = project / "prodsettings" / "envdebug.py"
    line = line_of(settings, "DEBUG =")
    before = _run(project, SETTINGS)
    assert ("security.W018", "prodsettings/envdebug.py", line) in _where(before)
    written = _run(project, SETTINGS, **{"run.update_baselines": True})
    assert written.result.status == "passed"
    assert "baseline .django-gates/deploy-baseline.json written with" in written.result.summary
    data = json.loads((project / ".django-gates" / "deploy-baseline.json").read_text())
    assert data["gate"] == "deploy"
    assert ("security.W018", line) in {(e["code"], e["line"]) for e in data["findings"]}

    held = _run(project, SETTINGS)
    assert held.result.status == "passed", held.result.summary
    assert held.findings == ()
    assert "1 old finding held back by the baseline .django-gates/deploy-baseline.json" in (
        held.result.summary
    )
    # Lines moving do not matter.
    settings.write_text(settings.read_text().replace("import os\n", "import os\n\n\n"))
    assert _run(project, SETTINGS).findings == ()
    # A new DEBUG = True a few lines below: its own line, its own finding.
    settings.write_text(settings.read_text() + "\nDEBUG = True\n")
    new = _run(project, SETTINGS)
    assert new.result.status == "failed"
    new_line = len(settings.read_text().splitlines())
    assert {(path, line) for _, path, line in _where(new)} == {
        ("prodsettings/envdebug.py", new_line)
    }
    # --all and hold = "off" show everything; "baseline" without the file is an error.
    assert ("security.W018", "prodsettings/envdebug.py", new_line) in _where(
        _run(project, SETTINGS, **{"run.all": True})
    )
    (project / ".django-gates" / "deploy-baseline.json").unlink()
    with pytest.raises(ConfigError, match="django-gates run --only deploy --update-baselines"):
        _run(project, SETTINGS + '\n[tool.django-gates.deploy]\nhold = "baseline"\n')


def test_deploy_env_is_set_only_for_the_production_settings(project: Path) -> None:
    assert "security.W018" in {f.code for f in _run(project, SETTINGS).findings}
    run = _run(project, SETTINGS + '\n[tool.django-gates.deploy]\nenv = { APP_DEBUG = "false" }\n')
    assert "security.W018" not in {f.code for f in run.findings}
    with pytest.raises(ConfigError, match=r"deploy\] env.*must be a string"):
        _run(project, SETTINGS + "\n[tool.django-gates.deploy]\nenv = { APP_DEBUG = [1] }\n")


def test_deploy_env_never_reaches_the_process_that_runs_the_suite(project: Path) -> None:
    """The probe gets deploy.env; the process the gate runs in (pytest's, or
    ``django-gates run``'s, which starts the suite) never does."""
    import os

    _run(project, SETTINGS + '\n[tool.django-gates.deploy]\nenv = { APP_DEBUG = "false" }\n')
    assert "APP_DEBUG" not in os.environ


def test_an_allow_pinned_to_its_line_covers_that_line_only(project: Path) -> None:
    allow = """
        [tool.django-gates]
        deploy_settings = "prodsettings.envdebug"

        [[tool.django-gates.deploy.allow]]
        check = "security.W018"
        reason = "production sets APP_DEBUG"
        line = '{line}'
        """
    pinned = _run(project, allow.format(line='DEBUG = os.environ.get("APP_DEBUG", *'))
    assert "security.W018" not in {f.code for f in pinned.findings}
    other = _run(project, allow.format(line="DEBUG = False"))
    assert "security.W018" in {f.code for f in other.findings}


def test_an_allow_without_line_does_not_cover_a_line_the_change_edited(project: Path) -> None:
    allow = """
        [tool.django-gates]
        deploy_settings = "prodsettings.envdebug"

        [[tool.django-gates.deploy.allow]]
        check = "security.W018"
        reason = "production sets APP_DEBUG"
        {line}
        """
    _git(project, "init", "-q", "-b", "main")
    (project / "pyproject.toml").write_text(textwrap.dedent(allow.format(line="")))
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "base")
    # Without a base, and on the base, the allow covers the finding wherever it is.
    assert "security.W018" not in {f.code for f in _run(project, allow.format(line="")).findings}
    _git(project, "checkout", "-q", "-b", "change")
    settings = project / "prodsettings" / "envdebug.py"
    settings.write_text(settings.read_text() + "DEBUG = True\n")
    _git(project, "commit", "-q", "-am", "debug on")
    since = {"run.since": "main"}
    edited = _run(project, allow.format(line=""), **since)
    (w018,) = [f for f in edited.findings if f.code == "security.W018"]
    assert w018.line == len(settings.read_text().splitlines())
    assert "allow #1 for check 'security.W018' does not cover this line" in w018.message
    assert 'line = "DEBUG = True"' in w018.message
    # The user asks for any line: it covers it.
    anywhere = _run(project, allow.format(line='line = "*"'), **since)
    assert "security.W018" not in {f.code for f in anywhere.findings}


def test_test_modules_are_not_judged_by_the_source_rules(tmp_path: Path) -> None:
    project = tmp_path / "src"
    shutil.copytree(SOURCERULES, project, ignore=shutil.ignore_patterns("__pycache__"))
    user_import = "from django.contrib.auth.models import User\n"
    (project / "shop" / "tests").mkdir()
    (project / "shop" / "tests" / "__init__.py").write_text("")
    (project / "shop" / "tests" / "helpers.py").write_text(user_import)
    for name in ("test_views.py", "tests.py", "conftest.py", "views_test.py"):
        (project / "shop" / name).write_text(user_import)
    (project / "shop" / "testing_tools.py").write_text(user_import)  # not a test module
    run = run_settings("conf.production", project)
    paths = {f.path for f in run.findings if f.code == "DJG304"}
    assert paths == {"shop/legacy.py", "shop/testing_tools.py"}


def test_under_pytest_the_check_ignores_what_the_test_settings_put_in_the_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Test settings that load a .env into os.environ (django-environ's read_env) must
    not change what the production settings are judged with: under pytest the probe gets
    the environment as it was when pytest configured the plugin."""
    from pytest_django_gates import environ_at_start
    from pytest_django_gates.gates import GateContext, run_gate

    monkeypatch.delenv("APP_DEBUG", raising=False)
    environ_at_start.snapshot()  # what pytest_addoption does when a run starts
    monkeypatch.setenv("APP_DEBUG", "false")  # the test settings' .env, loaded later
    (project / "pyproject.toml").write_text(SETTINGS)
    cfg = config.load(options.OPTIONS, cli={}, environ={}, pyproject=project / "pyproject.toml")
    in_pytest, _ = run_gate("deploy", GateContext(config=cfg, rootdir=project, in_pytest=True))
    assert "security.W018" in {f.code for f in in_pytest.findings}
    # django-gates deploy-check / run: the environment of the command, as it is
    outside, _ = run_gate("deploy", GateContext(config=cfg, rootdir=project))
    assert "security.W018" not in {f.code for f in outside.findings}
