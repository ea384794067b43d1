"""Scoped allows, SILENCED_SYSTEM_CHECKS, and the deploy options (sources and errors)."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest

from pytest_django_gates import config, options
from pytest_django_gates.config import ConfigError
from pytest_django_gates.deploy.allows import parse_allows
from pytest_django_gates.deploy.runner import DeployRun, resolve_target, run_deploy
from tests.deploy.deploy_support import SETTINGSRULES, codes, deploy_environ, load_config

TODAY = dt.date(2025, 6, 1)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "shop"
    shutil.copytree(SETTINGSRULES, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _run(project: Path, toml: str, today: dt.date = TODAY) -> DeployRun:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(textwrap.dedent(toml))
    cfg = config.load(options.OPTIONS, cli={}, environ={}, pyproject=pyproject)
    return run_deploy(cfg, project, environ=deploy_environ(), today=today)


def test_an_active_allow_hides_the_finding_and_the_summary_counts_it(project: Path) -> None:
    run = _run(
        project,
        """
        [tool.django-gates]
        deploy_settings = "prodsettings.django_w004_no_hsts"

        [[tool.django-gates.deploy.allow]]
        check = "security.W004"
        reason = "HSTS is set by the CDN"
        until = "2025-06-01"
        """,
    )
    assert run.result.status == "passed"
    assert run.findings == ()
    assert "1 allowed (security.W004)" in run.result.summary


def test_an_expired_allow_stops_allowing_and_says_so(project: Path) -> None:
    run = _run(
        project,
        """
        [tool.django-gates]
        deploy_settings = "prodsettings.django_w004_no_hsts"

        [[tool.django-gates.deploy.allow]]
        check = "security.W004"
        reason = "HSTS is set by the CDN"
        until = 2025-05-31
        """,
    )
    assert run.result.status == "failed"
    w004, expired = sorted(run.findings, key=lambda f: f.code, reverse=True)
    assert (w004.code, w004.severity) == ("security.W004", "error")
    assert "the allow for security.W004 expired on 2025-05-31" in w004.message
    assert "HSTS is set by the CDN" in w004.message
    assert (expired.code, expired.severity, expired.object) == (
        "DJG391",
        "warning",
        "security.W004",
    )
    assert (expired.path, expired.line) == ("pyproject.toml", 6)
    assert "matches 1 finding, reported again" in expired.message


def test_an_allow_that_matches_nothing_is_reported_but_does_not_fail(project: Path) -> None:
    run = _run(
        project,
        """
        [tool.django-gates]
        deploy_settings = "prodsettings.clean"

        [[tool.django-gates.deploy.allow]]
        check = "DJG313"
        reason = "cache moved to Redis"

        [[tool.django-gates.deploy.allow]]
        reason = "old"
        check = "security.W004"
        until = "2020-01-01"
        """,
    )
    assert run.result.status == "passed"
    unused, expired = sorted(run.findings, key=lambda f: f.code)
    assert (unused.code, unused.severity, unused.line) == ("DJG390", "warning", 6)
    assert "matches no finding" in unused.message
    assert "cache moved to Redis" in unused.message
    assert (expired.code, expired.line) == ("DJG391", 11)
    assert "matches nothing now" in expired.message


def test_allow_scope_object_and_path_globs(project: Path) -> None:
    toml = """
        [tool.django-gates]
        deploy_settings = "prodsettings.djg313_locmem_cache"

        [[tool.django-gates.deploy.allow]]
        check = "DJG313"
        reason = "single-process worker"
        object = "{obj}"
        path = "{path}"
        """
    hidden = _run(project, toml.format(obj="CACH*", path="prodsettings/djg313_*.py"))
    assert hidden.findings == ()
    shown = _run(project, toml.format(obj="CACHES", path="elsewhere/*.py"))
    assert codes(shown.findings) == ["DJG313", "DJG390"]


def test_silenced_system_checks_are_honoured_and_shown(project: Path) -> None:
    run = _run(
        project, '[tool.django-gates]\ndeploy_settings = "prodsettings.django_w004_silenced"\n'
    )
    assert run.result.status == "passed"
    assert sorted((f.code, f.severity) for f in run.findings) == [
        ("DJG313", "warning"),
        ("security.W004", "warning"),
    ]
    for finding in run.findings:
        assert finding.message.startswith("silenced by SILENCED_SYSTEM_CHECKS: ")
    assert "2 silenced by SILENCED_SYSTEM_CHECKS (DJG313, security.W004)" in run.result.summary


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ('check = "security.W004"', "needs a non-empty 'reason'"),
        ('check = "security.W004"\nreason = "  "', "needs a non-empty 'reason'"),
        ('reason = "x"', "needs 'check'"),
        (
            'check = "DJG306"\nreason = "x"\nuntil = "next year"',
            "'until' must be a date YYYY-MM-DD",
        ),
        ('check = "DJG306"\nreason = "x"\nwhen = "always"', "unknown key(s) when"),
        ('check = "DJG306"\nreason = "x"\npath = 3', "path: expected a non-empty string"),
    ],
)
def test_bad_allow_entries_are_config_errors_naming_the_entry(
    tmp_path: Path, entry: str, error: str
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f"[[tool.django-gates.deploy.allow]]\n{entry}\n")
    with pytest.raises(ConfigError) as info:
        config.load(options.OPTIONS, cli={}, environ={}, pyproject=pyproject)
    assert error in str(info.value)
    assert "[tool.django-gates.deploy] allow[0]" in str(info.value)


def test_options_come_from_pyproject_environment_and_command_line(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.django-gates]\ndeploy_settings = "a.b"\n[tool.django-gates.deploy]\n'
        'fail_level = "error"\nexclude = ["scripts"]\ntimeout = 30\n'
    )
    cfg = config.load(options.OPTIONS, cli={}, environ={}, pyproject=pyproject)
    assert (cfg["deploy_settings"], cfg["deploy.fail_level"]) == ("a.b", "error")
    assert (cfg["deploy.exclude"], cfg["deploy.timeout"]) == (["scripts"], 30)
    env = {"DJANGO_GATES_DEPLOY_SETTINGS": "c.d", "DJANGO_GATES_DEPLOY_FAIL_LEVEL": "warning"}
    cfg = config.load(options.OPTIONS, cli={}, environ=env, pyproject=pyproject)
    assert (cfg["deploy_settings"], cfg["deploy.fail_level"]) == ("c.d", "warning")
    cfg = config.load(
        options.OPTIONS, cli={"deploy_settings": "e.f"}, environ=env, pyproject=pyproject
    )
    assert cfg["deploy_settings"] == "e.f"
    with pytest.raises(ConfigError, match="'info' is not allowed; choose one of: error, warning"):
        config.load(options.OPTIONS, cli={"deploy.fail_level": "info"}, environ={})


def test_parse_allows_accepts_toml_dates() -> None:
    (allow,) = parse_allows(
        [{"check": "DJG306", "reason": "pgbouncer", "until": dt.date(2030, 1, 2)}]
    )
    assert allow.until == dt.date(2030, 1, 2)
    assert not allow.expired(dt.date(2030, 1, 2))
    assert allow.expired(dt.date(2030, 1, 3))


# -- where the gate looks ---------------------------------------------------------------


def _tree(root: Path, files: list[str]) -> Path:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    return root


def test_the_production_settings_are_found_next_to_manage_py(tmp_path: Path) -> None:
    root = _tree(tmp_path, ["site/manage.py", "site/config/settings/production.py", "docs/x.py"])
    module, project_dir, discovered = resolve_target(load_config(), root)
    assert (module, project_dir, discovered) == ("config.settings.production", root / "site", True)


def test_several_candidates_are_a_config_error_listing_them(tmp_path: Path) -> None:
    root = _tree(tmp_path, ["a/settings/prod.py", "b/settings/production.py"])
    with pytest.raises(
        ConfigError,
        match=r"several production settings modules .*a\.settings\.prod, b\.settings\.production",
    ):
        resolve_target(load_config(), root)


def test_no_candidate_is_a_config_error_saying_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_target(load_config(), _tree(tmp_path, ["app/models.py"]))
    message = str(raised.value)
    # the pyproject key, pytest's own option (not the CLI's --settings alone), and init
    assert 'set deploy_settings = "config.settings.production" under [tool.django-gates]' in message
    assert "--gates-deploy-settings=MODULE to pytest" in message
    assert "run django-gates init" in message


def test_a_module_beside_a_flat_settings_py_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, ["mysite/__init__.py", "mysite/settings.py", "mysite/production.py"])
    assert resolve_target(load_config(), root)[0] == "mysite.production"


def test_an_explicit_module_is_found_in_a_manage_py_directory(tmp_path: Path) -> None:
    root = _tree(tmp_path, ["src/manage.py", "src/shop/prod_settings.py"])
    assert resolve_target(load_config({"deploy_settings": "shop.prod_settings"}), root)[:2] == (
        "shop.prod_settings",
        root / "src",
    )


def test_bad_module_names_and_project_dirs_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a dotted module name"):
        resolve_target(load_config({"deploy_settings": "config/settings.py"}), tmp_path)
    with pytest.raises(ConfigError, match=r"deploy\.project_dir 'nowhere' .* is not a directory"):
        resolve_target(load_config({"deploy.project_dir": "nowhere"}), tmp_path)
