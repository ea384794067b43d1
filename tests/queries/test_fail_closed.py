"""Never a pass that did not look: install failures, incomplete sessions, crashes.

Each case runs a real pytest process on a small Django project and reads the
JSON report it wrote; ``django-gates report`` must exit 3 on every one.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates.gates import GateContext, run_gate
from pytest_django_gates.queries.capture import Patches
from pytest_django_gates.report import GateResult
from tests.helpers import gate, load_report, run

SETTINGS = """
SECRET_KEY = "x"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

PYPROJECT = """
[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "gates_settings"
pythonpath = ["."]

[tool.django-gates]
gates = ["queries"]
"""

THREE_TESTS = """
import pytest
from django.contrib.auth.models import Group

@pytest.mark.django_db
def test_one():
    assert Group.objects.count() == 0

@pytest.mark.django_db
def test_two():
    assert Group.objects.count() == 0

def test_three():
    assert True
"""

# Injected into the project's conftest: one more patch whose setattr fails, after
# the real ones were set, so the install must undo them all.
FAILING_INSTALL = """
from django.db.backends.utils import CursorWrapper
from django.db.models.query import QuerySet

from pytest_django_gates.queries import capture

ORIGINALS = (vars(CursorWrapper)["_execute_with_wrappers"], vars(QuerySet)["_fetch_all"])


class Frozen:
    def __setattr__(self, name, value):
        raise TypeError(f"cannot set {name}")


def _failing_plan(patches):
    patches.add(Frozen(), "boom", 1)


capture._PLANS = (*capture._PLANS, _failing_plan)


def pytest_sessionfinish(session):
    unpatched = (
        vars(CursorWrapper)["_execute_with_wrappers"] is ORIGINALS[0]
        and vars(QuerySet)["_fetch_all"] is ORIGINALS[1]
    )
    with open("unpatched.txt", "w") as out:
        out.write(str(unpatched))
"""


def _project(tmp_path: Path, tests: str, conftest: str = "") -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "gates_settings.py").write_text(SETTINGS)
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "test_things.py").write_text(textwrap.dedent(tests))
    if conftest:
        (project / "conftest.py").write_text(textwrap.dedent(conftest))
    return project


def _pytest(project: Path, *args: str) -> tuple[Any, dict[str, Any]]:
    result = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--django-gates",
            "--gates-report=report.json",
            *args,
        ],
        project,
    )
    assert (project / "report.json").is_file(), result.stdout + result.stderr
    return result, load_report(project / "report.json")


def _report_exit(project: Path) -> int:
    proc = run([sys.executable, "-m", "pytest_django_gates", "report", "report.json"], project)
    return proc.returncode


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_install_failure_leaves_django_unpatched_and_the_gate_errors(
    tmp_path: Path, workers: list[str]
) -> None:
    project = _project(tmp_path, THREE_TESTS, FAILING_INSTALL)
    result, report = _pytest(project, *workers)
    queries = gate(report, "queries")
    assert queries["status"] == "error", queries
    assert queries["summary"].startswith(
        "0 of 3 tests checked: query capture could not be installed"
    )
    assert "TypeError: cannot set boom (nothing was patched)" in queries["summary"]
    assert "3 passed" in result.stdout
    assert result.returncode == 1
    if not workers:  # the conftest's check runs in the process that ran the tests
        assert (project / "unpatched.txt").read_text() == "True"
    assert _report_exit(project) == 3


def test_patches_undo_everything_set_before_a_failure() -> None:
    class Owner:
        a = 1
        b = 2

    class Frozen:
        def __setattr__(self, name: str, value: object) -> None:
            raise TypeError(name)

    undone: list[str] = []
    patches = Patches()
    patches.add(Owner, "a", 10)
    patches.add(Owner, "c", 30)  # did not exist: deleted again
    patches.add(Frozen(), "x", 0)
    patches.on_undo(lambda: undone.append("signals"))
    with pytest.raises(TypeError):
        patches.apply()
    assert (Owner.a, Owner.b, hasattr(Owner, "c")) == (1, 2, False)
    assert undone == ["signals"]


@pytest.mark.parametrize(
    ("tests", "args", "reason"),
    [
        (
            THREE_TESTS.replace(
                "assert Group.objects.count() == 0\n\n@", "raise KeyboardInterrupt\n\n@", 1
            ),
            [],
            "the run was interrupted",
        ),
        (THREE_TESTS.replace("== 0", "== 1", 1), ["-x"], "stopping after 1 failures"),
        (THREE_TESTS.replace("== 0", "== 1", 1), ["--maxfail=1"], "stopping after 1 failures"),
    ],
    ids=["ctrl-c", "-x", "--maxfail"],
)
def test_an_incomplete_session_never_passes(
    tmp_path: Path, tests: str, args: list[str], reason: str
) -> None:
    project = _project(tmp_path, tests)
    _, report = _pytest(project, *args)
    queries = gate(report, "queries")
    assert queries["status"] == "error"
    ran = 0 if reason == "the run was interrupted" else 1  # Ctrl-C in the first test
    assert queries["summary"].startswith(f"incomplete: {ran} of 3 tests ran ({reason})"), queries
    assert _report_exit(project) == 3


def test_a_collection_error_makes_the_session_incomplete(tmp_path: Path) -> None:
    project = _project(tmp_path, THREE_TESTS)
    (project / "test_broken.py").write_text("def test_x(:\n")
    _, report = _pytest(project, "--continue-on-collection-errors")
    queries = gate(report, "queries")
    assert queries["status"] == "error"
    assert queries["summary"].startswith("incomplete: 3 of 3 tests ran (1 collection error)")
    assert _report_exit(project) == 3


def test_a_usage_error_after_collection_makes_the_session_incomplete(tmp_path: Path) -> None:
    tests = THREE_TESTS + textwrap.dedent(
        """
        @pytest.mark.query_budget("many")
        def test_bad_marker():
            pass
        """
    )
    project = _project(tmp_path, tests)
    result, report = _pytest(project)
    assert result.returncode == 4, result.stdout + result.stderr
    queries = gate(report, "queries")
    assert queries["status"] == "error"
    assert queries["summary"].startswith("incomplete: 0 of 4 tests ran (a usage error stopped")


def test_a_crashed_worker_makes_the_session_incomplete(tmp_path: Path) -> None:
    tests = THREE_TESTS + textwrap.dedent(
        """
        def test_crash():
            import os
            os._exit(1)
        """
    )
    project = _project(tmp_path, tests)
    _, report = _pytest(project, "-n", "2")
    queries = gate(report, "queries")
    assert queries["status"] == "error"
    assert queries["summary"].startswith(
        "incomplete: 3 of 4 tests ran (a worker crashed while running test_things.py::test_crash)"
    ), queries
    assert _report_exit(project) == 3


def test_a_complete_session_still_passes(tmp_path: Path) -> None:
    project = _project(tmp_path, THREE_TESTS)
    _, report = _pytest(project, "-n", "2")
    queries = gate(report, "queries")
    assert (queries["status"], queries["summary"]) == (
        "passed",
        "3 tests checked, 2 queries; no findings",
    )
    assert _report_exit(project) == 0


def test_a_gate_that_crashes_is_an_error_naming_where(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_django_gates.config import GatesConfig
    from pytest_django_gates.gates import queries

    def broken(ctx: GateContext) -> GateResult:
        raise ValueError("bad data")

    monkeypatch.setattr(queries, "run", broken)
    ctx = GateContext(config=GatesConfig(values={}, sources={}, pyproject=None), rootdir=Path.cwd())
    result, _ = run_gate("queries", ctx)
    assert result.status == "error"
    assert result.summary.startswith("gate could not run: ValueError: bad data (at ")
    assert f"{Path(__file__).name}:" in result.summary
    assert result.summary.endswith(" in broken)")


def test_without_django_settings_the_query_gate_says_it_could_not_look(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.django-gates]\ngates = ["queries"]\n')
    (project / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    result, report = _pytest(project)
    queries = gate(report, "queries")
    assert queries["status"] == "error"
    assert queries["summary"].startswith(
        "0 of 1 tests checked: Django settings are not configured in the test process"
    )
    assert "leave 'queries' out of [tool.django-gates] gates" in queries["summary"]
    assert result.returncode == 1


def test_subtest_reports_are_not_unchecked_tests(tmp_path: Path) -> None:
    tests = """
    import unittest


    class Sub(unittest.TestCase):
        def test_sub(self):
            for i in range(3):
                with self.subTest(i=i):
                    self.assertLess(i, 2)

        def test_plain(self):
            self.assertTrue(True)
    """
    project = _project(tmp_path, tests)
    _, report = _pytest(project, "-n", "2")
    queries = gate(report, "queries")
    assert (queries["status"], queries["summary"]) == (
        "passed",
        "2 tests checked, 0 queries; no findings",
    ), queries


def test_without_the_queries_gate_no_test_fails_on_queries(tmp_path: Path) -> None:
    tests = THREE_TESTS + textwrap.dedent(
        """
        @pytest.mark.query_budget(0)
        @pytest.mark.django_db
        def test_over_budget():
            assert Group.objects.count() == 0
        """
    )
    project = _project(tmp_path, tests)
    (project / "pyproject.toml").write_text(PYPROJECT.replace('["queries"]', '["coverage"]'))
    result, report = _pytest(project)
    assert "4 passed" in result.stdout, result.stdout[-2000:]
    assert [g["name"] for g in report["gates"]] == ["coverage"]
