"""``--gates-report PATH`` as two words: what pytest really does with it, end to end.

pytest looks for its configuration before it knows this plugin's options and so
takes PATH for a test path then. Inside the project that changes nothing; outside
it, once the report exists (the second run), the project's pyproject.toml would
silently not be used: the plugin stops with a usage error naming the ``=`` form.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.queries.test_queries_options import PYPROJECT, SETTINGS

ONE_TEST = """
import pytest
from django.contrib.auth.models import Group

@pytest.mark.django_db
def test_a():
    assert Group.objects.count() == 0
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("DJANGO_GATES_GATES", "queries")
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makepyfile(gates_settings=SETTINGS, test_one=ONE_TEST)
    pytester.makefile(".toml", pyproject=PYPROJECT)
    return pytester


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report path in a directory outside the project (like $RUNNER_TEMP)."""
    return tmp_path_factory.mktemp("reports") / "report.json"


def test_two_words_inside_the_project_work_on_every_run(project: pytest.Pytester) -> None:
    for _ in range(2):
        result = project.runpytest_subprocess("--django-gates", "--gates-report", "report.json")
        # report.json is the option's value, never collected as a test.
        result.assert_outcomes(passed=1)
        assert result.ret == pytest.ExitCode.OK
        assert (project.path / "report.json").is_file()


def test_two_words_outside_the_project_are_a_usage_error_once_the_report_exists(
    project: pytest.Pytester, outside: Path
) -> None:
    first = project.runpytest_subprocess("--django-gates", "--gates-report", str(outside))
    first.assert_outcomes(passed=1)
    written = outside.read_bytes()

    second = project.runpytest_subprocess("--django-gates", "--gates-report", str(outside))
    assert second.ret == pytest.ExitCode.USAGE_ERROR
    second.stderr.fnmatch_lines(
        [
            f"ERROR: django-gates: pytest took the value of '--gates-report {outside}' for a "
            f"test path too, *it looked from {outside.parent} instead of {project.path}, and "
            f"{project.path / 'pyproject.toml'} was not used. Write the value in one word: "
            f"--gates-report={outside}"
        ]
    )
    assert "Traceback" not in second.stderr.str()
    assert outside.read_bytes() == written  # nothing was run, nothing rewritten

    fixed = project.runpytest_subprocess("--django-gates", f"--gates-report={outside}")
    fixed.assert_outcomes(passed=1)
    fixed.stdout.fnmatch_lines(["configfile: pyproject.toml", "*queries: PASSED*"])


def test_pytest_addopts_is_checked_but_the_ini_addopts_are_not_needed(
    project: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("PYTEST_ADDOPTS", f"--gates-report {outside}")
    from_env = project.runpytest_subprocess("--django-gates")
    assert from_env.ret == pytest.ExitCode.USAGE_ERROR
    from_env.stderr.fnmatch_lines([f"*Write the value in one word: --gates-report={outside}"])

    monkeypatch.delenv("PYTEST_ADDOPTS")
    # The ini file's addopts are read once the configuration was found: two words are fine.
    project.makefile(
        ".toml",
        pyproject=PYPROJECT + f'addopts = "--django-gates --gates-report {outside}"\n',
    )
    from_ini = project.runpytest_subprocess()
    from_ini.assert_outcomes(passed=1)
    assert from_ini.ret == pytest.ExitCode.OK
    assert '"format": 1' in outside.read_text(encoding="utf-8")
