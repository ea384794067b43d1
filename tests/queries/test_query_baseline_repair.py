"""A corrupt query baseline: the error names the file, the problem and a command that works.

Each case runs pytest as a real subprocess (pytester): the corrupt file is a usage
error (exit 4), the command the message suggests is then run word for word and
rewrites the file from the run's counts, and a normal run passes against it.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

from tests.queries.test_queries_options import PYPROJECT, SETTINGS

COUNTING_TESTS = """
import pytest
from django.contrib.auth.models import Group

@pytest.mark.django_db
def test_a():
    assert Group.objects.count() == 0

@pytest.mark.django_db
def test_b():
    assert not Group.objects.exists()
    assert Group.objects.count() == 0
"""

COMMAND = re.compile(r"rebuild it from the query counts of a full run with: (.+)$")


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("DJANGO_GATES_GATES", "queries")
    pytester.makepyfile(gates_settings=SETTINGS, test_counts=COUNTING_TESTS)
    return pytester


def suggested_command(result: pytest.RunResult) -> list[str]:
    """The command the usage error suggests, split as a shell would."""
    errors = [line for line in result.stderr.lines if "query baseline" in line]
    assert len(errors) == 1, result.stderr.str()
    match = COMMAND.search(errors[0])
    assert match, errors[0]
    return shlex.split(match.group(1))


def check_repair(project: pytest.Pytester, run_args: list[str], expected: list[str]) -> None:
    """The corrupt q.json is an error suggesting ``expected``; that command repairs it."""
    broken = project.runpytest_subprocess(*run_args)
    assert broken.ret == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in broken.stderr.str()
    command = suggested_command(broken)
    assert command == expected
    assert command[0] == "pytest"
    rebuilt = project.runpytest_subprocess(*command[1:])
    assert rebuilt.ret == pytest.ExitCode.OK, rebuilt.stdout.str()
    rebuilt.stdout.fnmatch_lines(
        ["query baseline rebuilt from this run's counts: *q.json (the old file was unusable: *)"]
    )
    assert json.loads((project.path / "q.json").read_text(encoding="utf-8")) == {
        "format": 1,
        "tests": {"test_counts.py::test_a": 1, "test_counts.py::test_b": 2},
        "repeated": {"test_counts.py::test_a": 0, "test_counts.py::test_b": 0},
    }
    checked = project.runpytest_subprocess(*run_args)
    checked.assert_outcomes(passed=2)
    assert checked.ret == pytest.ExitCode.OK


def test_baseline_that_is_not_json_is_rebuilt_by_the_command_the_error_gives(
    project: pytest.Pytester,
) -> None:
    project.makefile(".toml", pyproject=PYPROJECT)
    (project.path / "q.json").write_text('{"format": 1,\n "tests": {', encoding="utf-8")
    args = ["--django-gates", "--gates-query-baseline=q.json"]
    broken = project.runpytest_subprocess(*args)
    broken.stderr.fnmatch_lines(
        ["ERROR: django-gates: query baseline *q.json:2:*: not valid JSON (*); rebuild it*"]
    )
    check_repair(
        project,
        args,
        ["pytest", "--django-gates", "--gates-query-baseline=q.json", "--gates-update-baseline"],
    )


def test_baseline_of_the_wrong_shape_from_pyproject_is_rebuilt_too(
    project: pytest.Pytester,
) -> None:
    project.makefile(
        ".toml", pyproject=PYPROJECT + '\n[tool.django-gates.queries]\nbaseline = "q.json"\n'
    )
    (project.path / "q.json").write_text('{"tests": {"test_counts.py::test_a": 1}}\n')
    broken = project.runpytest_subprocess("--django-gates")
    broken.stderr.fnmatch_lines(
        ['*query baseline *q.json: expected a JSON object with "format": 1, got {"tests": *']
    )
    check_repair(
        project, ["--django-gates"], ["pytest", "--django-gates", "--gates-update-baseline"]
    )


def test_a_bad_count_names_the_entry(project: pytest.Pytester) -> None:
    project.makefile(".toml", pyproject=PYPROJECT)
    (project.path / "q.json").write_text('{"format": 1, "tests": {"x": -1}}')
    args = ["--django-gates", "--gates-query-baseline=q.json"]
    broken = project.runpytest_subprocess(*args)
    broken.stderr.fnmatch_lines(["*q.json: count for 'x' must be a whole number >= 0, got -1;*"])
    check_repair(project, args, ["pytest", *args, "--gates-update-baseline"])
