"""The gate under pytest, in-process: session data, skips, incomplete data; settings lookup."""

from __future__ import annotations

import os
from pathlib import Path

import coverage
import pytest

from pytest_django_gates import options
from pytest_django_gates.config import ConfigError, GatesConfig, load
from pytest_django_gates.coverage import baseline
from pytest_django_gates.coverage.apps import resolve_settings
from pytest_django_gates.coverage.data import FileCoverage
from pytest_django_gates.coverage.figures import Figure
from pytest_django_gates.coverage.pytest_support import EXTRA_KEY, SessionCoverage
from pytest_django_gates.gates import GateContext, run_gate
from tests.coverage.conftest import Project


def config_for(project: Project) -> GatesConfig:
    return load(options.OPTIONS, environ={}, pyproject=project.root / "pyproject.toml")


def session_of(project: Project, **kwargs: object) -> SessionCoverage:
    """What pytest-cov hands over: a Coverage object holding combined data."""
    before = os.getcwd()
    os.chdir(project.root)
    try:
        cov = coverage.Coverage(data_file=str(project.root / ".coverage"))
        cov.load()
    finally:
        os.chdir(before)
    return SessionCoverage(True, "measured by pytest-cov", cov=cov, workdir=project.root, **kwargs)  # type: ignore[arg-type]


def run_in_pytest(project: Project, session: SessionCoverage | None) -> tuple[str, str, list[str]]:
    extra = {} if session is None else {EXTRA_KEY: session}
    ctx = GateContext(config=config_for(project), rootdir=project.root, in_pytest=True, extra=extra)
    result, _ = run_gate("coverage", ctx)
    return result.status, result.summary, [f.code for f in result.findings]


def test_session_data_is_checked_like_the_data_file(shop: Project) -> None:
    shop.configure("[tool.django-gates.coverage]\nline = 80\n")
    shop.measure()
    status, summary, codes = run_in_pytest(shop, session_of(shop))
    assert (status, codes) == ("failed", ["DJG401"])
    assert summary == shop.gates().gate["summary"]


def test_not_measured_is_skipped_with_the_reason(shop: Project) -> None:
    shop.configure("[tool.django-gates.coverage]\nline = 80\n")
    status, summary, _ = run_in_pytest(shop, None)
    assert status == "skipped"
    assert "--cov" in summary
    status, summary, _ = run_in_pytest(shop, SessionCoverage(False, "--no-cov given"))
    assert (status, summary) == ("skipped", "--no-cov given")


def test_lost_xdist_workers_make_the_gate_an_error_not_a_pass(shop: Project) -> None:
    shop.configure("[tool.django-gates.coverage]\nline = 10\n")
    shop.measure()
    status, summary, codes = run_in_pytest(shop, session_of(shop, lost_workers=("gw1",)))
    assert status == "error"
    assert codes == ["DJG413"]
    assert summary.startswith("1 coverage check failed")


def test_empty_session_data_is_an_error(shop: Project) -> None:
    coverage.CoverageData(basename=str(shop.root / ".coverage")).write()
    status, summary, _ = run_in_pytest(shop, session_of(shop))
    assert status == "error"
    assert "no measured files" in summary


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pytest.ini", "[pytest]\nDJANGO_SETTINGS_MODULE = conf.a\npythonpath = src lib\n"),
        ("tox.ini", "[tox]\n[pytest]\nDJANGO_SETTINGS_MODULE = conf.a\npythonpath = src lib\n"),
        ("setup.cfg", "[tool:pytest]\nDJANGO_SETTINGS_MODULE = conf.a\npythonpath = src lib\n"),
        (
            "pyproject.toml",
            '[tool.pytest]\nDJANGO_SETTINGS_MODULE = "conf.a"\npythonpath = ["src", "lib"]\n',
        ),
    ],
)
def test_settings_from_every_pytest_configuration_file(
    tmp_path: Path, name: str, text: str
) -> None:
    (tmp_path / name).write_text(text)
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "manage.py").write_text("")
    cfg = load(options.OPTIONS, environ={}, pyproject=None)
    found = resolve_settings(cfg, tmp_path, {})
    assert found.module == "conf.a"
    assert name in found.source
    assert found.pythonpath == tuple(
        str(p) for p in (tmp_path / "src", tmp_path / "lib", tmp_path, tmp_path / "web")
    )
    env = resolve_settings(cfg, tmp_path, {"DJANGO_SETTINGS_MODULE": "conf.env"})
    assert (env.module, env.source) == ("conf.env", "environment (DJANGO_SETTINGS_MODULE)")


def test_no_settings_anywhere_is_a_configuration_error(tmp_path: Path) -> None:
    cfg = load(options.OPTIONS, environ={}, pyproject=None)
    with pytest.raises(ConfigError, match="--settings MODULE"):
        resolve_settings(cfg, tmp_path, {})


def _file(path: str, line: Figure, branch: Figure) -> FileCoverage:
    return FileCoverage(path=path, abspath="/p/" + path, lines=line, branches=branch)


def test_baseline_app_without_figures_cannot_pass() -> None:
    held = baseline.Baseline(
        apps={
            "orders": {"line": Figure(5, 10), "branch": Figure(1, 2, "branch")},
            "billing": {"line": Figure(1, 2)},
        }
    )
    current = baseline.current_figures(
        {"orders": [_file("o.py", Figure(6, 10), Figure(0, 0, "branch"))]},
        ["orders", "billing"],
        has_branches=False,
    )
    findings, _ = baseline.compare(
        held, current, {}, installed={"orders", "billing"}, has_branches=False
    )
    by_object = {(f.object, f.code): f.message for f in findings}
    assert "this run measured none of its files" in by_object[("billing", "DJG408")]
    assert "did not measure branches" in by_object[("orders", "DJG409")]
    assert all(f.severity == "error" for f in findings)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "expected a JSON object"),
        ({"format": 1, "apps": {"a": {}}}, "with 'line' and/or 'branch'"),
        ({"format": 1, "apps": {"a": {"line": 3}}}, "must be an object"),
        ({"format": 1, "apps": {"a": {"line": {"covered": -1, "total": 2}}}}, "whole number"),
        ({"format": 1, "apps": {"a": {"line": {"covered": True, "total": 2}}}}, "whole number"),
        ({"format": 1, "apps": {}, "lowered": {}}, "'lowered' must be a list"),
    ],
)
def test_baseline_structure_is_validated(data: object, expected: str) -> None:
    with pytest.raises(ConfigError, match=r"baseline\.json: not a valid coverage baseline") as exc:
        baseline.parse(data, "baseline.json")
    assert expected in str(exc.value)
