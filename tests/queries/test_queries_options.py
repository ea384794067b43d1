"""Budgets, allows, the baseline ratchet, report-only mode and configuration, end to end."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.helpers import gate, load_report

SETTINGS = """
SECRET_KEY = "x"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

PYPROJECT = """
[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "gates_settings"
pythonpath = ["."]
"""

# The code under test (not a test module): the N+1 loops are here.
GROUP_CODE = """
from django.contrib.auth.models import Group


def permissions_per_group():
    return [list(group.permissions.all()) for group in Group.objects.all()]


async def permission_names_per_group():
    names = []
    async for group in Group.objects.all():
        names.append([p.name async for p in group.permissions.all()])
    return names
"""

N_PLUS_ONE = """
import pytest
from django.contrib.auth.models import Group, Permission
from group_code import permissions_per_group

@pytest.fixture
def groups(db):
    perms = list(Permission.objects.all()[:2])
    for i in range(3):
        Group.objects.create(name=f"g{i}").permissions.set(perms)

def test_loop(groups):
    assert all(permissions_per_group())
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("DJANGO_GATES_GATES", "queries")
    pytester.makepyfile(gates_settings=SETTINGS, group_code=GROUP_CODE)
    pytester.makefile(".toml", pyproject=PYPROJECT)
    return pytester


def _pyproject(p: pytest.Pytester, extra: str) -> None:
    p.makefile(".toml", pyproject=PYPROJECT + textwrap.dedent(extra))


def _report(p: pytest.Pytester) -> dict[str, object]:
    return load_report(p.path / "report.json")


def test_budget_marker_fails_with_expected_vs_actual(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_budget="""
        import pytest
        from django.contrib.auth.models import Group

        @pytest.mark.query_budget(1)
        @pytest.mark.django_db
        def test_over():
            Group.objects.create(name="a")
            assert Group.objects.count() == 1

        @pytest.mark.query_budget(2)
        @pytest.mark.django_db
        def test_within():
            Group.objects.create(name="a")
            assert Group.objects.count() == 1
        """
    )
    result = project.runpytest_subprocess("--django-gates", "--gates-report", "report.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*query budget exceeded in test body: expected at most 1 query on all databases,"
            " ran 2 (+1)*",
            '*1. INSERT INTO "auth_group"*(test_budget.py:7)*',
            "*2. SELECT COUNT(*)*(test_budget.py:8)*",
            "*next step:*",
        ]
    )
    findings = gate(_report(project), "queries")["findings"]
    assert [(f["code"], f["object"], f["line"]) for f in findings] == [
        ("DJG102", "test_budget.py::test_over", 4)
    ]


def test_budget_ignores_savepoints_and_counts_only_using(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_budget="""
        import pytest
        from django.db import transaction
        from django.contrib.auth.models import Group

        @pytest.mark.query_budget(1)
        @pytest.mark.django_db
        def test_savepoints():
            for _ in range(5):
                with transaction.atomic():
                    pass
            assert Group.objects.count() == 0

        @pytest.mark.query_budget(0, using="other")
        @pytest.mark.django_db(databases=["default", "other"])
        def test_default_not_counted():
            assert Group.objects.count() == 0
            assert Group.objects.count() == 0

        @pytest.mark.query_budget(0, using=["other"])
        @pytest.mark.django_db(databases=["default", "other"])
        def test_other_counted():
            assert Group.objects.using("other").count() == 0
        """
    )
    result = project.runpytest_subprocess("--django-gates")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_other_counted*", "*expected at most 0 queries on other*"])


def test_query_budget_fixture(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_fixture="""
        import pytest
        from django.contrib.auth.models import Group

        @pytest.mark.django_db
        def test_block(query_budget):
            with query_budget(1) as block:
                Group.objects.count()
            assert block.count == 1
            with query_budget(1):
                Group.objects.count()
                Group.objects.count()
        """
    )
    # The fixture works without --django-gates too: using it is opting in.
    result = project.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*QueryBudgetExceeded: query budget exceeded in block: expected at most 1 query*ran 2*"]
    )


def test_bad_marker_argument_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.query_budget("three")
        def test_x():
            pass
        """
    )
    result = project.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*test_bad.py::test_x: @pytest.mark.query_budget: the budget must be a whole number"
            " >= 0,"
            " got 'three'*"
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("allow_n_plus_one()", "*allow_n_plus_one: give a non-empty reason*"),
        ("query_budget(1, usin='x')", "*unknown argument(s) usin*"),
        ("query_budget(1, using=3)", "*using=3 is not allowed*"),
        (
            "query_budget(1, using='nosuchdb')",
            "*test_x: @pytest.mark.query_budget: using='nosuchdb': no such database alias;"
            " allowed: 'default'*",
        ),
        ("query_budget()", "*expected exactly one budget*"),
    ],
)
def test_marker_validation(project: pytest.Pytester, marker: str, message: str) -> None:
    project.makepyfile(test_bad=f"import pytest\n@pytest.mark.{marker}\ndef test_x():\n    pass\n")
    result = project.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_report_only_mode_passes_with_warnings(project: pytest.Pytester) -> None:
    project.makepyfile(test_loop=N_PLUS_ONE)
    result = project.runpytest_subprocess(
        "--django-gates", "--gates-n-plus-one=report", "--gates-report", "report.json"
    )
    result.assert_outcomes(passed=1)
    queries = gate(_report(project), "queries")
    assert queries["status"] == "passed"
    assert [f["severity"] for f in queries["findings"]] == ["warning"]
    result.stdout.fnmatch_lines(["*queries: PASSED*1 warning*", "*DJG101 [[]warning[]]*"])


def test_without_the_flag_nothing_is_judged(project: pytest.Pytester) -> None:
    project.makepyfile(test_loop=N_PLUS_ONE)
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert "django-gates:" not in result.stdout.str()
    assert "DJG101" not in result.stdout.str()


def test_allow_marker_and_stale_marker(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_loop=N_PLUS_ONE.replace(
            "def test_loop", "@pytest.mark.allow_n_plus_one(reason='admin only')\ndef test_loop"
        )
        + """
@pytest.mark.allow_n_plus_one(reason="was slow once")
def test_clean(groups):
    assert Group.objects.count() == 3
"""
    )
    result = project.runpytest_subprocess("--django-gates", "--gates-report", "report.json")
    result.assert_outcomes(passed=2)
    findings = gate(_report(project), "queries")["findings"]
    assert [(f["code"], f["severity"], f["object"]) for f in findings] == [
        ("DJG104", "warning", "test_loop.py::test_clean")
    ]


def test_config_allow_entries_and_unused_entry(project: pytest.Pytester) -> None:
    _pyproject(
        project,
        """
        [[tool.django-gates.queries.allow]]
        test = "test_loop.py::*"
        sql = "auth_permission"
        reason = "permissions are cached in production"

        [[tool.django-gates.queries.allow]]
        location = "nowhere/*.py:*"
        reason = "stale"
        """,
    )
    project.makepyfile(test_loop=N_PLUS_ONE)
    result = project.runpytest_subprocess("--django-gates", "--gates-report", "report.json")
    result.assert_outcomes(passed=1)
    findings = gate(_report(project), "queries")["findings"]
    assert [(f["code"], f["object"], f["path"]) for f in findings] == [
        ("DJG104", "queries.allow[1]", "pyproject.toml")
    ]
    assert "matched nothing" in findings[0]["message"]


def test_an_allow_with_source_follows_its_line_and_hides_no_other(
    project: pytest.Pytester,
) -> None:
    """``source`` (what ``django-gates init --baselines`` writes): the allow matches the
    line with that text wherever it moves in the file, and not a new N+1 on the same table
    on another line of the same file (seen on EvaP: a file-wide allow hid a new one)."""
    _pyproject(
        project,
        """
        [[tool.django-gates.queries.allow]]
        location = "group_code.py:*"
        source = "return [list(group.permissions.all())   for group in Group.objects.all()]"
        sql = "auth_permission"
        reason = "an N+1 of today"
        """,
    )
    project.makepyfile(test_loop=N_PLUS_ONE)
    project.runpytest_subprocess("--django-gates").assert_outcomes(passed=1)
    # Lines above it move: still allowed.
    moved = "# a comment\n# another\n" + GROUP_CODE
    project.makepyfile(group_code=moved)
    project.runpytest_subprocess("--django-gates").assert_outcomes(passed=1)
    # A new N+1 on the same table, on another line of the file: reported.
    project.makepyfile(
        group_code=moved
        + "\n\ndef permission_ids_per_group():\n"
        + "    return [[p.id for p in g.permissions.all()] for g in Group.objects.all()]\n"
    )
    project.makepyfile(
        test_loop=N_PLUS_ONE
        + "\nfrom group_code import permission_ids_per_group\n\n"
        + "def test_new(groups):\n    assert all(permission_ids_per_group())\n"
    )
    result = project.runpytest_subprocess("--django-gates", "--gates-report", "report.json")
    result.assert_outcomes(passed=1, failed=1)
    (finding,) = [f for f in gate(_report(project), "queries")["findings"] if f["code"] == "DJG101"]
    assert finding["object"] == "test_loop.py::test_new"
    assert finding["path"] == "group_code.py"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[tool.django-gates]\nreprot = "x"\n', "*unknown key 'reprot'; allowed keys:*report*"),
        (
            '[tool.django-gates.queries]\nn_plus_one = "warn"\n',
            "*[[]tool.django-gates.queries[]] n_plus_one: 'warn' is not allowed;"
            " choose one of: fail,"
            " report, off*",
        ),
        ("[tool.django-gates.queries]\nthreshold = 1\n", "*threshold: must be at least 2*"),
        (
            '[[tool.django-gates.queries.allow]]\ntest = "x"\n',
            "*every allow entry needs a non-empty 'reason'*",
        ),
    ],
)
def test_bad_configuration_is_a_usage_error(
    project: pytest.Pytester, table: str, message: str
) -> None:
    project.makefile(".toml", pyproject=PYPROJECT + table)
    project.makepyfile(test_x="def test_x():\n    pass\n")
    result = project.runpytest_subprocess("--django-gates")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines([message])


def test_bad_command_line_value_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makepyfile(test_x="def test_x():\n    pass\n")
    result = project.runpytest_subprocess("--django-gates", "--gates-n-plus-one=maybe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*command line --gates-n-plus-one: 'maybe' is not allowed; choose one of: fail, report,"
            " off*"
        ]
    )


def test_header_counts_options_and_lists_each_value_and_its_source_with_v(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pyproject(project, '[tool.django-gates.queries]\nthreshold = 3\nn_plus_one = "report"\n')
    project.makepyfile(test_x="def test_x():\n    pass\n")
    monkeypatch.setenv("DJANGO_GATES_QUERIES_N_PLUS_ONE", "off")
    quiet = project.runpytest_subprocess("--django-gates", "--gates-report=r.json")
    quiet.stdout.fnmatch_lines(
        ["django-gates: on (config: *pyproject.toml); 4 option(s) set, -v lists every one"]
    )
    quiet.stdout.no_fnmatch_line("*queries.update_baseline = False*")
    result = project.runpytest_subprocess("--django-gates", "--gates-report=r.json", "-v")
    result.stdout.fnmatch_lines(
        [
            "django-gates: on (config: *pyproject.toml)",
            "  report = 'r.json'  [[]command line (--gates-report)[]]",
            "  queries.n_plus_one = 'off'  [[]environment (DJANGO_GATES_QUERIES_N_PLUS_ONE)[]]",
            "  queries.threshold = 3  "
            "[[]pyproject.toml ([[]tool.django-gates.queries[]] threshold)[]]",
            "  queries.update_baseline = False  [[]default[]]",
        ]
    )


def test_baseline_ratchet(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_counts="""
        import pytest
        from django.contrib.auth.models import Group

        @pytest.mark.django_db
        def test_a():
            assert Group.objects.count() == 0
        """
    )
    missing = project.runpytest_subprocess("--django-gates", "--gates-query-baseline=q.json")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(
        ["*q.json does not exist; create it with --gates-update-baseline*"]
    )

    created = project.runpytest_subprocess(
        "--django-gates", "--gates-query-baseline=q.json", "--gates-update-baseline"
    )
    created.assert_outcomes(passed=1)
    assert json.loads((project.path / "q.json").read_text()) == {
        "format": 1,
        "tests": {"test_counts.py::test_a": 1},
        "repeated": {"test_counts.py::test_a": 0},
    }
    project.makepyfile(
        test_counts="""
        import pytest
        from django.contrib.auth.models import Group

        @pytest.mark.django_db
        def test_a():
            assert Group.objects.count() == 0
            assert not Group.objects.exists()
        """
    )
    grew = project.runpytest_subprocess(
        "--django-gates", "--gates-query-baseline=q.json", "--gates-report=report.json"
    )
    grew.assert_outcomes(failed=1)
    grew.stdout.fnmatch_lines(
        ["*query count grew beyond the baseline: expected at most 1 (baseline), ran 2 (+1)*"]
    )
    assert [f["code"] for f in gate(_report(project), "queries")["findings"]] == ["DJG103"]

    (project.path / "q.json").write_text('{"format": 1, "tests": {"x": -1}}')
    broken = project.runpytest_subprocess("--django-gates", "--gates-query-baseline=q.json")
    assert broken.ret == pytest.ExitCode.USAGE_ERROR
    broken.stderr.fnmatch_lines(["*q.json: count for 'x' must be a whole number >= 0, got -1*"])

    (project.path / "q.json").write_text('{"format": 1,\n "tests": {')
    corrupt = project.runpytest_subprocess("--django-gates", "--gates-query-baseline=q.json")
    assert corrupt.ret == pytest.ExitCode.USAGE_ERROR
    corrupt.stderr.fnmatch_lines(["*q.json:2:*: not valid JSON*"])


def test_a_baseline_growth_from_the_tests_own_n_plus_one_is_one_finding(
    project: pytest.Pytester,
) -> None:
    """The count grew because a new N+1 runs per row: the N+1 says so, and there is no
    second DJG103 whose fix (rewrite the baseline) would keep the N+1."""
    before = """
        import pytest
        from django.contrib.auth.models import Group, Permission

        @pytest.fixture
        def groups(db):
            perms = list(Permission.objects.all()[:2])
            for i in range(3):
                Group.objects.create(name=f"g{i}").permissions.set(perms)

        def test_groups(groups):
            from group_code import permissions_per_group
            assert len(list(Group.objects.all())) == 3
        """
    project.makepyfile(test_grow=before)
    created = project.runpytest_subprocess(
        "--django-gates", "--gates-query-baseline=q.json", "--gates-update-baseline"
    )
    created.assert_outcomes(passed=1)
    project.makepyfile(
        test_grow=before.replace("len(list(Group.objects.all()))", "len(permissions_per_group())")
    )
    grew = project.runpytest_subprocess(
        "--django-gates", "--gates-query-baseline=q.json", "--gates-report=report.json"
    )
    grew.assert_outcomes(failed=1)
    (finding,) = gate(_report(project), "queries")["findings"]
    assert finding["code"] == "DJG101"
    assert (
        "this is why the test's query count grew beyond the baseline: expected at most 1 "
        "(baseline), ran 4 (+3)"
    ) in finding["message"]
    # In report mode the N+1 is a warning: the growth stays an error of its own.
    project.runpytest_subprocess(
        "--django-gates",
        "--gates-query-baseline=q.json",
        "--gates-report=report.json",
        "--gates-n-plus-one=report",
    )
    found = {(f["code"], f["severity"]) for f in gate(_report(project), "queries")["findings"]}
    assert found == {("DJG101", "warning"), ("DJG103", "error")}
    # Growth beyond what the N+1 explains (its 3 queries and the one that fetched its
    # rows) is still its own finding.
    project.makepyfile(
        test_grow=before.replace(
            "assert len(list(Group.objects.all())) == 3",
            "assert len(permissions_per_group()) == 3\n"
            "            assert Group.objects.count() == 3\n"
            "            assert Group.objects.exists()",
        )
    )
    project.runpytest_subprocess(
        "--django-gates", "--gates-query-baseline=q.json", "--gates-report=report.json"
    )
    codes = sorted(f["code"] for f in gate(_report(project), "queries")["findings"])
    assert codes == ["DJG101", "DJG103"]


# How many groups the fixture makes comes from the environment, as a test whose data is
# made up to the current time gets more rows later in the day.
ROWS_FROM_OUTSIDE = """
import os

import pytest
from django.contrib.auth.models import Group, Permission
from group_code import permissions_per_group

@pytest.fixture
def groups(db):
    perms = list(Permission.objects.all()[:2])
    for i in range(int(os.environ["GROUPS"])):
        Group.objects.create(name=f"g{i}").permissions.set(perms)

def test_loop(groups):
    assert all(permissions_per_group())
"""


def test_growth_made_only_of_an_allowed_n_plus_ones_repetitions_is_a_warning(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An allowed N+1 repeats once per row: when the test's data has more rows than in the
    baseline run (babybuddy's data is made up to the current time), its count grows by
    those repetitions alone. That is a DJG103 warning that says so; a new query beside
    it, or a baseline that did not record its repeated queries, is still an error."""
    _pyproject(
        project,
        """
        [[tool.django-gates.queries.allow]]
        location = "group_code.py:*"
        reason = "predates the gates"
        """,
    )
    project.makepyfile(test_loop=ROWS_FROM_OUTSIDE)
    args = ("--django-gates", "--gates-query-baseline=q.json", "--gates-report=report.json")
    monkeypatch.setenv("GROUPS", "3")
    project.runpytest_subprocess(*args, "--gates-update-baseline").assert_outcomes(passed=1)
    written = json.loads((project.path / "q.json").read_text())
    # 1 query for the groups, 3 for their permissions: the 3 are the repeated ones
    assert written["tests"] == {"test_loop.py::test_loop": 4}
    assert written["repeated"] == {"test_loop.py::test_loop": 3}

    monkeypatch.setenv("GROUPS", "5")
    for extra in ((), ("-n", "2")):
        more_rows = project.runpytest_subprocess(*args, *extra)
        more_rows.assert_outcomes(passed=1)
        (finding,) = gate(_report(project), "queries")["findings"]
        assert (finding["code"], finding["severity"]) == ("DJG103", "warning")
        assert finding["message"] == (
            "query count grew beyond the baseline: expected at most 4 (baseline), ran 6 (+2), "
            "all of it more repetitions of the allowed N+1s or write loops: 3 -> 5 repeated "
            "queries, the other 1 not grown"
        )

    # One new query beside the allowed N+1: the rest grew, an error.
    project.makepyfile(
        test_loop=ROWS_FROM_OUTSIDE.replace(
            "assert all(permissions_per_group())",
            "assert all(permissions_per_group())\n    assert Group.objects.exists()",
        )
    )
    new_query = project.runpytest_subprocess(*args)
    new_query.assert_outcomes(failed=1)
    new_query.stdout.fnmatch_lines(
        ["*query count grew beyond the baseline: expected at most 4 (baseline), ran 7 (+3)"]
    )
    assert [(f["code"], f["severity"]) for f in gate(_report(project), "queries")["findings"]] == [
        ("DJG103", "error")
    ]

    # Without the allow the N+1 is not accepted: its growth is not either.
    project.makepyfile(test_loop=ROWS_FROM_OUTSIDE)
    project.makefile(".toml", pyproject=PYPROJECT)
    project.runpytest_subprocess(*args, "--gates-n-plus-one=report").assert_outcomes(failed=1)
    found = {(f["code"], f["severity"]) for f in gate(_report(project), "queries")["findings"]}
    assert found == {("DJG101", "warning"), ("DJG103", "error")}

    # A baseline written before "repeated" existed cannot tell: the growth is an error.
    _pyproject(
        project,
        """
        [[tool.django-gates.queries.allow]]
        location = "group_code.py:*"
        reason = "predates the gates"
        """,
    )
    (project.path / "q.json").write_text(json.dumps({"format": 1, "tests": written["tests"]}))
    project.runpytest_subprocess(*args).assert_outcomes(failed=1)
    assert [(f["code"], f["severity"]) for f in gate(_report(project), "queries")["findings"]] == [
        ("DJG103", "error")
    ]


def test_a_test_on_the_baselines_clock_list_grows_with_a_warning_and_the_list_is_kept(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """init's clock probe lists the tests whose count follows the time of day; their
    growth is a warning naming the two counts, and an update keeps the list."""
    project.makepyfile(test_loop=ROWS_FROM_OUTSIDE)
    args = ("--django-gates", "--gates-query-baseline=q.json", "--gates-report=report.json")
    monkeypatch.setenv("GROUPS", "1")
    monkeypatch.setenv("DJANGO_GATES_QUERIES_N_PLUS_ONE", "report")  # no allow: warnings
    project.runpytest_subprocess(*args, "--gates-update-baseline").assert_outcomes(passed=1)
    written = json.loads((project.path / "q.json").read_text())
    written["clock"] = {"test_loop.py::test_loop": [2, 4]}
    (project.path / "q.json").write_text(json.dumps(written))

    monkeypatch.setenv("GROUPS", "3")
    grew = project.runpytest_subprocess(*args)
    grew.assert_outcomes(passed=1)
    (n_plus_one, growth) = gate(_report(project), "queries")["findings"]
    assert (n_plus_one["code"], n_plus_one["severity"]) == ("DJG101", "warning")
    assert (growth["code"], growth["severity"]) == ("DJG103", "warning")
    assert growth["message"] == (
        "query count grew beyond the baseline: expected at most 2 (baseline), ran 4 (+2); "
        "this test's count follows the clock: 2 and 4 queries in two runs at different "
        "times of day (the baseline's clock list)"
    )
    project.runpytest_subprocess(*args, "--gates-update-baseline").assert_outcomes(passed=1)
    kept = json.loads((project.path / "q.json").read_text())
    assert kept["clock"] == {"test_loop.py::test_loop": [2, 4]}

    kept["clock"] = {"test_loop.py::test_loop": [2]}
    (project.path / "q.json").write_text(json.dumps(kept))
    broken = project.runpytest_subprocess(*args)
    assert broken.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        'q.json: "clock" must be an object of node id -> [count, count with the clock moved]'
        in broken.stderr.str()
    )


def test_async_test_is_counted_at_the_user_line(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_async="""
        import pytest
        from django.contrib.auth.models import Group, Permission
        from group_code import permission_names_per_group

        @pytest.mark.asyncio
        @pytest.mark.django_db(transaction=True)
        async def test_async_loop():
            perms = [p async for p in Permission.objects.all()[:2]]
            groups = await Group.objects.abulk_create([Group(name=f"g{i}") for i in range(3)])
            through = Group.permissions.through
            await through.objects.abulk_create(
                [through(group=g, permission=p) for g in groups for p in perms]
            )
            assert all(await permission_names_per_group())
        """
    )
    result = project.runpytest_subprocess(
        "--django-gates", "--gates-report", "report.json", "-p", "asyncio"
    )
    result.assert_outcomes(failed=1)
    findings = gate(_report(project), "queries")["findings"]
    assert [(f["code"], f["path"], f["line"]) for f in findings] == [
        ("DJG101", "group_code.py", 11)
    ], findings


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    from pytest_django_gates import config, options

    bad = tmp_path / "pyproject.toml"
    bad.write_text("[tool.django-gates\n")
    with pytest.raises(config.ConfigError, match=r"pyproject.toml: not valid TOML"):
        config.load(options.OPTIONS, pyproject=bad, environ={})


def test_one_n_plus_one_in_many_tests_is_one_finding(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_loop=N_PLUS_ONE
        + """
@pytest.mark.parametrize("n", range(25))
def test_many(groups, n):
    assert all(permissions_per_group())
"""
    )
    result = project.runpytest_subprocess(
        "--django-gates", "--gates-n-plus-one=report", "--gates-report=report.json"
    )
    result.assert_outcomes(passed=26)
    findings = gate(_report(project), "queries")["findings"]
    assert len(findings) == 1, findings
    assert findings[0]["object"] == "test_loop.py::test_loop"
    # Sorted as plain strings: "test_many[10]" comes before "test_many[1]".
    assert findings[0]["message"].endswith(
        "in 26 tests: test_loop.py::test_loop, test_loop.py::test_many[0], "
        "test_loop.py::test_many[10] (+23 more)"
    )


def test_terminal_summary_of_many_findings_is_counts_and_top_locations() -> None:
    from pytest_django_gates import render
    from pytest_django_gates.report import Finding, GateResult

    findings = [
        Finding(
            code="DJG101",
            severity="error",
            message=f"N+1 number {i}",
            object=f"t.py::test_{i}",
            path="app/views.py" if i < 20 else f"app/m{i}.py",
            line=7 if i < 20 else i,
        )
        for i in range(30)
    ]
    gate_result = GateResult(name="queries", status="failed", summary="s", findings=tuple(findings))
    lines = render.terminal_findings(gate_result, "report.json")
    assert lines[0] == "  by code: DJG101 30"
    assert lines[1] == "  top locations (of 11):"
    assert lines[2] == "      20 x DJG101 app/views.py:7"
    assert lines[-1] == "  ... 20 more in the JSON report (report.json)"
    assert len(lines) < 40
    few = GateResult(name="queries", status="failed", summary="s", findings=tuple(findings[:3]))
    assert len(render.terminal_findings(few, None)) == 3


def test_a_configuration_without_the_queries_gate_never_fails_a_test_on_queries(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``gates`` without ``queries``: an N+1 and an exceeded budget marker fail nothing,
    and the report has no queries gate (it was not asked for)."""
    monkeypatch.setenv("DJANGO_GATES_GATES", "migrations")
    project.makepyfile(
        test_loop=N_PLUS_ONE,
        test_budget="""
        import pytest
        from django.contrib.auth.models import Group

        @pytest.mark.query_budget(1)
        @pytest.mark.django_db
        def test_over():
            Group.objects.create(name="a")
            assert Group.objects.count() == 1
        """,
    )
    result = project.runpytest_subprocess("--django-gates", "--gates-report=report.json")
    result.assert_outcomes(passed=2)
    assert result.ret == 0, result.stdout.str()
    names = [g["name"] for g in load_report(project.path / "report.json")["gates"]]
    assert "queries" not in names
    assert "migrations" in names


# A loop over the input (names handed in), beside a loop over rows (issue 21 §2).
INPUT_CODE = """
from django.contrib.auth.models import Group


def groups_named(names):
    return [Group.objects.get(name=name) for name in names]
"""

INPUT_TESTS = """
from django.contrib.auth.models import Group
from input_code import groups_named
from group_code import permissions_per_group

def test_names(groups):
    assert len(groups_named(["g0", "g1", "g2"])) == 3

def test_rows(groups):
    assert all(permissions_per_group())
"""


@pytest.mark.parametrize(
    ("args", "expected", "outcomes"),
    [
        ((), {("DJG110", "warning", "test_names"), ("DJG101", "error", "test_rows")}, (1, 1)),
        (
            ("--gates-input-loops=fail",),
            {("DJG110", "error", "test_names"), ("DJG101", "error", "test_rows")},
            (0, 2),
        ),
        (("--gates-input-loops=off",), {("DJG101", "error", "test_rows")}, (1, 1)),
        (
            ("--gates-input-loops=fail", "--gates-n-plus-one=report"),
            {("DJG110", "warning", "test_names"), ("DJG101", "warning", "test_rows")},
            (2, 0),
        ),
    ],
)
def test_input_loops_option(
    project: pytest.Pytester,
    args: tuple[str, ...],
    expected: set[tuple[str, str, str]],
    outcomes: tuple[int, int],
) -> None:
    project.makepyfile(input_code=INPUT_CODE)
    project.makepyfile(test_input=N_PLUS_ONE.split("def test_loop")[0] + INPUT_TESTS)
    result = project.runpytest_subprocess("--django-gates", "--gates-report", "report.json", *args)
    result.assert_outcomes(passed=outcomes[0], failed=outcomes[1])
    findings = gate(_report(project), "queries")["findings"]
    assert {(f["code"], f["severity"], f["object"].split("::")[-1]) for f in findings} == expected
    for names in (f for f in findings if f["code"] == "DJG110"):
        assert names["message"].startswith("query per input item: 3 x SELECT")
        assert "walks str values, not rows of a query" in names["message"]
        assert "in_bulk" in names["hint"]
        assert "name__in=" in names["hint"]


def test_input_loops_allowed_by_code(project: pytest.Pytester) -> None:
    _pyproject(
        project,
        """
        [[tool.django-gates.queries.allow]]
        code = "DJG110"
        location = "input_code.py:*"
        reason = "an import of a handful of names"
        """,
    )
    project.makepyfile(input_code=INPUT_CODE)
    project.makepyfile(test_input=N_PLUS_ONE.split("def test_loop")[0] + INPUT_TESTS)
    result = project.runpytest_subprocess(
        "--django-gates", "--gates-report", "report.json", "--gates-input-loops=fail"
    )
    result.assert_outcomes(passed=1, failed=1)
    findings = gate(_report(project), "queries")["findings"]
    assert [(f["code"], f["object"].split("::")[-1]) for f in findings] == [("DJG101", "test_rows")]


def test_the_package_is_imported_without_assertion_rewriting(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest would rewrite (and, with PYTHONDONTWRITEBYTECODE, re-parse and re-compile on
    every run) every module of the plugin's package: the package opts out."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    project.makepyfile(
        test_loaders="""
import sys


def test_loaders():
    names = ["pytest_django_gates.plugin", "pytest_django_gates.session",
             "pytest_django_gates.queries.capture"]
    kinds = {type(sys.modules[n].__loader__).__name__ for n in names}
    assert "AssertionRewritingHook" not in kinds, kinds
"""
    )
    result = project.runpytest_subprocess("--django-gates")
    result.assert_outcomes(passed=1)
