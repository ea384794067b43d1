"""End to end: ``pytest --django-gates --cov`` (with and without xdist), and the demo project."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.coverage.conftest import (
    BILLING_LOGIC,
    DJANGO_SETTINGS,
    ORDERS_LOGIC,
    REFUNDS_LOGIC,
    child_env,
    commit_all,
    git,
)

pytestmark = pytest.mark.slow

PYPROJECT = """
[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "site_conf.settings"
pythonpath = ["src"]

[tool.coverage.run]
branch = true
source = ["src"]
omit = ["*/settings.py", "*/apps.py"]

[tool.django-gates]
gates = ["coverage"]
report = "gates-report.json"

[tool.django-gates.coverage]
line = 75
patch = 100

[[tool.django-gates.coverage.apps]]
app = "*"
line = 100
"""

TESTS = {
    "tests/test_orders.py": """
        import pytest

        from orders.logic import cancel, place


        def test_place():
            assert place([1, 2]) == 3


        def test_place_empty():
            with pytest.raises(ValueError):
                place([])


        def test_cancel():
            assert cancel(None) is False
            assert cancel(1) is True
    """,
    "tests/test_billing.py": """
        from billing.logic import invoice
        from billing.refunds.logic import refund


        def test_invoice():
            assert invoice(10) == 12.0
            assert invoice(-1) is None


        def test_refund():
            assert refund(2) == -2
    """,
}


@pytest.fixture
def site(pytester: pytest.Pytester) -> pytest.Pytester:
    """A Django project whose tests cover everything but ``orders.archive``."""
    files = {
        "pyproject.toml": PYPROJECT,
        "src/site_conf/__init__.py": "",
        "src/site_conf/settings.py": DJANGO_SETTINGS,
        **TESTS,
    }
    for name, label, logic in (
        ("orders", "orders", ORDERS_LOGIC),
        ("billing", "billing", BILLING_LOGIC),
        ("billing.refunds", "refunds", REFUNDS_LOGIC),
    ):
        folder = "src/" + name.replace(".", "/")
        files[f"{folder}/__init__.py"] = ""
        files[f"{folder}/logic.py"] = logic
        files[f"{folder}/apps.py"] = (
            "from django.apps import AppConfig\n\n\n"
            f"class Config(AppConfig):\n    name = {name!r}\n    label = {label!r}\n"
        )
    for rel, text in files.items():
        path = pytester.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return pytester


def coverage_gate(root: Path) -> dict[str, Any]:
    report = json.loads((root / "gates-report.json").read_text())
    (gate,) = [g for g in report["gates"] if g["name"] == "coverage"]
    result: dict[str, Any] = gate
    return result


def test_pytest_cov_with_and_without_xdist_checks_once_after_combining(
    site: pytest.Pytester,
) -> None:
    (site.path / ".gitignore").write_text(".coverage*\ngates-report.json\n__pycache__/\n")
    git(site.path, "init", "-q", "-b", "main")
    commit_all(site.path, "base")
    git(site.path, "checkout", "-q", "-b", "feature")
    logic = site.path / "src" / "orders" / "logic.py"
    logic.write_text(logic.read_text() + "\n\ndef unused(x):\n    return x\n")
    commit_all(site.path, "unused")
    args = ("--django-gates", "--cov", "--gates-coverage-since", "main", "-p", "no:cacheprovider")

    serial = site.runpytest_subprocess(*args)
    serial.assert_outcomes(passed=5)
    assert serial.ret == pytest.ExitCode.TESTS_FAILED  # the tests pass; the gate does not
    serial.stdout.fnmatch_lines(["coverage: FAILED - *", "*DJG403 ?error? orders*"])
    alone = coverage_gate(site.path)
    assert [f["object"] for f in alone["findings"]] == ["orders", "patch"]
    assert "3 more lines needed in orders" in alone["findings"][0]["message"]
    assert "50.00% < 100.00% (1/2 lines)" in alone["findings"][1]["message"]
    assert "app floors: orders, billing, refunds" in alone["summary"]
    assert "patch 50.00% (1/2 lines) since main" in alone["summary"]

    (site.path / "gates-report.json").unlink()
    parallel = site.runpytest_subprocess(*args, "-n", "2")
    parallel.assert_outcomes(passed=5)
    assert parallel.ret == pytest.ExitCode.TESTS_FAILED
    assert parallel.stdout.str().count("coverage: FAILED") == 1  # once, on the controller
    assert coverage_gate(site.path) == alone  # the workers' data was combined first


def test_gate_is_skipped_when_coverage_is_not_measured(site: pytest.Pytester) -> None:
    result = site.runpytest_subprocess("--django-gates", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    assert result.ret == pytest.ExitCode.OK
    gate = coverage_gate(site.path)
    assert gate["status"] == "skipped"
    assert "--cov" in gate["summary"]
    result.stdout.fnmatch_lines(["coverage: SKIPPED - *--cov*"])


def test_demo_project_session_and_cli_agree(demo_copy: Path, tmp_path: Path) -> None:
    services = demo_copy / "apps" / "catalog" / "services.py"
    services.write_text(
        services.read_text()
        + "\n\ndef _never_called(flag):\n    if flag:\n        return 1\n    return 2\n"
    )
    # This test's floors replace the demo's own (between its coverage table and
    # [tool.coverage.run]).
    pyproject = demo_copy / "pyproject.toml"
    text = pyproject.read_text()
    start, end = text.index("[tool.django-gates.coverage]"), text.index("[tool.coverage.run]")
    pyproject.write_text(
        text[:start] + "[tool.django-gates.coverage]\n"
        "[[tool.django-gates.coverage.apps]]\n"
        'app = "catalog"\nline = 100\n\n'
        "[[tool.django-gates.coverage.apps]]\n"
        'app = "*"\nline = 50\n\n'
        "[[tool.django-gates.coverage.paths]]\n"
        'glob = "apps/*/models.py"\nline = 0\n\n' + text[end:]
    )
    env = child_env(DJANGO_GATES_GATES="coverage", DJANGO_GATES_REPORT=str(tmp_path / "r.json"))
    env.pop("DATABASE_URL", None)
    django_gates = str(Path(sys.executable).with_name("django-gates"))

    pytest_args = ["-q", "-p", "no:cacheprovider", "--cov=apps", "--cov-branch", "--django-gates"]
    session = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        cwd=demo_copy,
        env=env,
        capture_output=True,
        text=True,
    )
    assert session.returncode == 1, session.stdout[-3000:]
    (gate,) = json.loads((tmp_path / "r.json").read_text())["gates"]
    assert gate["status"] == "failed"
    (finding,) = [f for f in gate["findings"] if f["object"] == "catalog"]
    assert finding["code"] == "DJG403"
    assert "needed in catalog" in finding["message"]
    assert finding["path"].startswith("apps/catalog/")
    assert "app floors: catalog, core, accounts" in gate["summary"]

    # the data pytest-cov left behind gives the same verdict from the command line
    cli = subprocess.run(
        [django_gates, "coverage", "--format", "json"],
        cwd=demo_copy,
        env=env,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1, cli.stderr
    (cli_gate,) = json.loads(cli.stdout)["gates"]
    assert cli_gate == gate

    created = subprocess.run(
        [django_gates, "coverage", "--update-baseline", "--baseline", "coverage-baseline.json"],
        cwd=demo_copy,
        env=env,
        capture_output=True,
        text=True,
    )
    assert created.returncode == 1, created.stderr  # the catalog floor still fails
    baseline = json.loads((demo_copy / "coverage-baseline.json").read_text())
    assert {"accounts", "catalog", "core"} <= set(baseline["apps"])
    assert (
        baseline["apps"]["catalog"]["line"]["covered"]
        < baseline["apps"]["catalog"]["line"]["total"]
    )
