"""``django-gates run`` on a project that has coverage.py but not pytest-cov.

Such projects measure as ``coverage run -m pytest`` in their CI. ``django-gates run``
does the same (in one process, ``-n 0``). The coverage gate then reads the data file
after the suite. It does not report "not measured".

The interpreter here is a real virtualenv that sees this environment's packages except
pytest-cov (a directory of links, added with ``site.addsitedir``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from tests.cli.test_cli_run import MINI_SETTINGS as SETTINGS
from tests.migrations.migrations_support import clean_env

pytest.importorskip("pytest_django")
pytest.importorskip("xdist")

CALC = """
def double(value):
    return value * 2


def triple(value):
    return value * 3


def halve(value):
    return value / 2
"""


def python_without(tmp: Path, *names: str) -> Path:
    """A virtualenv's interpreter that sees this environment's site-packages except the
    entries whose name starts with one of ``names`` (their modules, .pth files and
    dist-info, so that pytest's entry points do not load them either)."""
    view = tmp / "site"
    view.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().replace("-", "_").startswith(names):
            (view / entry.name).symlink_to(entry)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    own = Path(
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (own / "zz_view.pth").write_text(f"import site; site.addsitedir({str(view)!r})\n")
    return venv / "bin" / "python"


def _project(root: Path, floor: int, addopts: str = "") -> Path:
    files = {
        "pyproject.toml": f"""
            [tool.pytest.ini_options]
            DJANGO_SETTINGS_MODULE = "settings"
            pythonpath = ["."]
            testpaths = ["tests"]
            addopts = "{addopts}"

            [tool.django-gates]
            gates = ["coverage"]

            [tool.django-gates.coverage]
            line = {floor}
        """,
        "settings.py": SETTINGS,
        "calc.py": CALC,
        "tests/__init__.py": "",
        "tests/test_calc.py": """
            from calc import double


            def test_double():
                assert double(2) == 4
        """,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    interpreter = python_without(tmp_path_factory.mktemp("no-pytest-cov"), "pytest_cov")
    probe = subprocess.run(
        [str(interpreter), "-c", "import coverage, pytest_django_gates, xdist; import pytest_cov"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "No module named 'pytest_cov'" in probe.stderr, probe.stderr
    return interpreter


def _run(python: Path, root: Path) -> tuple[int, dict[str, object]]:
    proc = subprocess.run(
        [str(python), "-m", "pytest_django_gates", "run", "--format", "json"],
        cwd=root,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.returncode, json.loads(proc.stdout)


def _gate(report: dict[str, object], name: str) -> dict[str, object]:
    gates = report["gates"]
    assert isinstance(gates, list)
    return next(g for g in gates if g["name"] == name)


@pytest.mark.parametrize("addopts", ["", "-n 2"], ids=["serial", "xdist-in-addopts"])
def test_coverage_is_measured_by_coverage_run_and_judged(
    python: Path, tmp_path: Path, addopts: str
) -> None:
    # 1 of 3 functions of calc.py tested; its tests and settings count too (--source=.)
    code, report = _run(python, _project(tmp_path / "low", 90, addopts))
    gate = _gate(report, "coverage")
    assert code == 1, report
    assert gate["status"] == "failed", gate
    assert "measured by coverage run" in str(gate["summary"]), gate
    assert "calc.py: uncovered lines 6, 10" in json.dumps(gate), gate
    assert _gate(report, "tests")["status"] == "passed"

    code, report = _run(python, _project(tmp_path / "ok", 60, addopts))
    assert code == 0, report
    assert _gate(report, "coverage")["status"] == "passed"


def test_a_suite_that_did_not_finish_is_a_coverage_error_not_a_verdict(
    python: Path, tmp_path: Path
) -> None:
    root = _project(tmp_path / "broken", 10)
    (root / "tests" / "conftest.py").write_text("raise SystemExit(3)\n")
    code, report = _run(python, root)
    assert code == 3, report
    assert _gate(report, "coverage")["status"] == "error", report


def _src_layout(root: Path) -> Path:
    """A src/ layout: ``src/`` is not a package, the code is ``src/app``; one module of it
    no test imports."""
    _project(root, 99)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            'pythonpath = ["."]', 'pythonpath = ["src", "."]'
        ),
        encoding="utf-8",
    )
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "calc.py").rename(root / "src" / "app" / "calc.py")
    (root / "src" / "app" / "untested.py").write_text("def never():\n    return 1\n")
    test = root / "tests" / "test_calc.py"
    test.write_text(test.read_text().replace("from calc", "from app.calc"))
    return root


@pytest.mark.parametrize("measure", ["coverage run", "pytest-cov"])
def test_a_module_no_test_imports_counts_in_a_src_layout(
    python: Path, tmp_path: Path, measure: str
) -> None:
    """coverage.py finds never-imported files only in packages below a source directory:
    with ``--source=.`` alone, ``src/`` (not a package) hides ``src/app/untested.py``.
    pytest's ``pythonpath`` entries are measured too."""
    interpreter = python if measure == "coverage run" else Path(sys.executable)
    code, report = _run(interpreter, _src_layout(tmp_path / "src-layout"))
    gate = _gate(report, "coverage")
    assert code == 1, report
    assert f"measured by {measure}" in str(gate["summary"]) or measure == "pytest-cov", gate
    assert "src/app/untested.py" in json.dumps(gate), gate


def test_a_coverage_run_that_left_no_data_is_a_gate_error_not_a_usage_error(
    tmp_path: Path,
) -> None:
    from pytest_django_gates import config, options
    from pytest_django_gates.runner import _coverage_after_run

    root = _project(tmp_path / "p", 10)
    cfg = config.load(options.OPTIONS, cli={}, environ={}, pyproject=root / "pyproject.toml")
    measured = tmp_path / "coverage-run"
    measured.mkdir()
    gate = _coverage_after_run(cfg, root, measured, 0, {})
    assert gate.status == "error", gate
    assert "coverage run left no usable data" in gate.summary
