"""``django-gates run``: selection, progress, the summary table, exit codes, the ``tests`` gate."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from pytest_django_gates.cli import main
from pytest_django_gates.report import Finding, GateResult, Report
from pytest_django_gates.runner import gate_from_suite
from tests.cli.cli_support import OsvServer

MINI_SETTINGS = """
SECRET_KEY = "tests-only-not-a-secret"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
"""

PYPROJECT = """
[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "mini_settings"
pythonpath = ["."]
testpaths = ["tests"]

[tool.ruff.lint]
select = ["F"]
"""


def project(root: Path, files: dict[str, str]) -> Path:
    base = {
        "pyproject.toml": PYPROJECT,
        "mini_settings.py": MINI_SETTINGS,
        "tests/__init__.py": "",
        "tests/test_ok.py": "def test_ok() -> None:\n    assert True\n",
    }
    base.update(files)
    for name, text in base.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def run(root: Path, *args: str) -> int:
    return main(["--project", str(root), "run", *args])


def test_run_selected_tools_prints_progress_and_the_summary_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project(tmp_path, {"app.py": "import os\n"})
    code = run(tmp_path, "--only", "ruff", "--report", str(tmp_path / "r.json"))
    out, err = capsys.readouterr()
    assert code == 1
    assert "[1/1] ruff ..." in err
    assert "[1/1] ruff: failed in" in err
    assert "ruff: FAILED - ruff 0." in out
    assert "ruff:F401 [error] app.py:1:8 (app.py:1)" in out
    table = out[out.index("gate ") :].splitlines()
    assert table[0].split() == ["gate", "status", "errors", "warnings", "time"]
    assert table[1].split()[:4] == ["ruff", "failed", "1", "0"]
    assert table[-1].split()[:4] == ["overall", "failed", "1", "0"]
    report = Report.load(tmp_path / "r.json")
    assert [g.name for g in report.gates] == ["ruff"]


def test_run_json_format_keeps_stdout_pure_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project(tmp_path, {})
    assert run(tmp_path, "--only", "ruff", "--format", "json") == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["gates"][0]["status"] == "passed"
    assert "overall" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "ruff,nope"], "--only: unknown gate(s) 'nope'"),
        (["--skip", "tests"], "'tests' runs whenever a test-time gate does"),
        (["--only", "ruff", "--skip", "ruff"], "no gate selected"),
    ],
)
def test_run_bad_selection_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    project(tmp_path, {})
    assert run(tmp_path, *args) == 2
    assert message in capsys.readouterr().err


def test_run_gates_come_from_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project(tmp_path, {})
    with (tmp_path / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.django-gates]\ngates = ["ruff"]\n')
    assert run(tmp_path) == 0
    assert "django-gates run: ruff in" in capsys.readouterr().err


def test_run_fail_on_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], osv_server: OsvServer
) -> None:
    project(
        tmp_path,
        {
            "requirements.txt": "Django==4.2.1\n",
            "pyproject.toml": PYPROJECT
            + f"""
[tool.django-gates.pip-audit]
service = "osv"
osv_url = "{osv_server.url}"

[[tool.django-gates.pip-audit.ignore]]
id = "PYSEC-0000-0000"
reason = "kept from an old audit"
""",
        },
    )
    assert run(tmp_path, "--only", "pip-audit") == 0
    capsys.readouterr()
    assert run(tmp_path, "--only", "pip-audit", "--fail-on-warnings") == 1
    assert "warnings fail: fail_on_warnings" in capsys.readouterr().out


def test_run_test_suite_failures_are_the_tests_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project(
        tmp_path,
        {
            "tests/test_bad.py": """
                import pytest


                def test_arithmetic() -> None:
                    assert 1 + 1 == 3


                @pytest.fixture
                def broken() -> None:
                    raise RuntimeError("fixture exploded")


                def test_uses_broken(broken: None) -> None:
                    pass
            """,
        },
    )
    report_path = tmp_path / "report.json"
    assert run(tmp_path, "--only", "queries", "--report", str(report_path)) == 1
    err = capsys.readouterr().err
    assert "[1/1] tests (queries): python -m pytest --django-gates" in err
    report = Report.load(report_path)
    assert [g.name for g in report.gates] == ["tests", "queries"]
    tests, queries = report.gates
    assert queries.status == "passed"
    assert tests.status == "failed"
    assert tests.summary.startswith("3 tests: 2 errors")
    failed = {f.code: f for f in tests.findings}
    assert failed["tests:failed"].object == "tests/test_bad.py::test_arithmetic"
    assert (failed["tests:failed"].path, failed["tests:failed"].line) == ("tests/test_bad.py", 4)
    assert "assert (1 + 1) == 3" in failed["tests:failed"].message
    assert "fixture exploded (in setup)" in failed["tests:error"].message


def test_run_test_suite_that_cannot_start_fails_closed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project(tmp_path, {"tests/conftest.py": "import this_module_does_not_exist\n"})
    report_path = tmp_path / "report.json"
    assert run(tmp_path, "--only", "queries", "--report", str(report_path)) == 3
    report = Report.load(report_path)
    assert {g.name: g.status for g in report.gates} == {"tests": "error", "queries": "error"}
    assert "this_module_does_not_exist" in report.gates[0].summary


def test_tests_gate_does_not_count_a_failure_a_gate_reports() -> None:
    n_plus_one = Finding(
        code="DJG101",
        severity="error",
        message="N+1",
        object="tests/test_views.py::test_list",
        path="app/views.py",
        line=9,
    )
    gates = [GateResult.from_findings("queries", [n_plus_one])]
    outcomes = {
        "collected": 4,
        "failures": [
            {"nodeid": "tests/test_views.py::test_list", "when": "call", "path": "t", "line": 1}
        ],
    }
    result = gate_from_suite(1, outcomes, gates, "")
    assert result.status == "passed"
    assert result.summary == (
        "4 tests; 1 failed only by a gate's finding (counted by that gate above), no other failure"
    )


def test_tests_gate_without_tests_or_outcomes() -> None:
    empty = gate_from_suite(5, {"collected": 0, "failures": []}, [], "")
    assert (empty.status, empty.findings[0].code) == ("failed", "tests:no-tests")
    lost = gate_from_suite(0, None, [], "boom")
    assert lost.status == "error"
    silent = gate_from_suite(1, {"collected": 3, "failures": []}, [], "out")
    assert silent.status == "error"
    assert "no test and no gate failed" in silent.summary


def test_run_since_reaches_the_gates_run_outside_the_suite(tmp_path: Path) -> None:
    """The migrations gate runs outside the suite when it traces; ``--since`` reaches it
    with the precedence the suite's environment gives it: over pyproject.toml, under a
    DJANGO_GATES_MIGRATIONS_SINCE of the caller's environment."""
    from pytest_django_gates import config, options
    from pytest_django_gates.runner import _with_run_since

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.django-gates.migrations]\nsince = "origin/dev"\n', "utf-8")
    cfg = config.load(options.OPTIONS, cli={"run.since": "abc123"}, environ={}, pyproject=pyproject)
    given = _with_run_since(cfg, {})
    assert (given["migrations.since"], given["coverage.since"]) == ("abc123", "abc123")
    assert given.source("migrations.since").startswith("environment (")
    assert cfg["migrations.since"] == "origin/dev"  # the original is left alone

    environ = {"DJANGO_GATES_MIGRATIONS_SINCE": "origin/release"}
    cfg = config.load(
        options.OPTIONS, cli={"run.since": "abc123"}, environ=environ, pyproject=pyproject
    )
    assert _with_run_since(cfg, environ)["migrations.since"] == "origin/release"

    cfg = config.load(options.OPTIONS, cli={}, environ={}, pyproject=pyproject)
    assert _with_run_since(cfg, {})["migrations.since"] == "origin/dev"  # no --since


def test_run_shard_runs_its_group_of_tests_and_stamps_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tests = "\n\n".join(f"def test_{i}() -> None:\n    assert {i} >= 0" for i in range(5))
    project(tmp_path, {"tests/test_many.py": tests})
    stamps = []
    for k in (1, 2):
        report_path = tmp_path / f"shard-{k}.json"
        code = run(
            tmp_path, "--only", "queries,deploy", "--shard", f"{k}/2", "--report", str(report_path)
        )
        assert code == 0
        err = capsys.readouterr().err
        assert "shard " + f"{k}/2: deploy left out (they run once, not per shard)" in err
        report = Report.load(report_path)
        assert [g.name for g in report.gates] == ["tests", "queries"]
        stamps.append(report.shard)
    assert [(s or {}).get("index") for s in stamps] == [1, 2]
    assert [(s or {}).get("tests") for s in stamps] == [3, 3]  # 5 tests + test_ok: 3 + 3

    # A shard that could not start still says which shard it is.
    (tmp_path / "tests" / "conftest.py").write_text("import this_module_does_not_exist\n")
    broken = tmp_path / "broken.json"
    assert run(tmp_path, "--only", "queries", "--shard", "2/2", "--report", str(broken)) == 3
    assert Report.load(broken).shard == {"index": 2, "total": 2}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ("--only", "deploy", "--shard", "1/2"),
            "none of the selected gates (deploy) needs the tests",
        ),
        (("--only", "queries", "--shard", "3/2"), "shard 3/2: K must be between 1 and N"),
    ],
)
def test_run_shard_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], words: str
) -> None:
    project(tmp_path, {"tests/test_one.py": "def test_one() -> None:\n    pass\n"})
    assert run(tmp_path, *args) == 2
    assert words in capsys.readouterr().err


def test_run_shard_hands_the_split_to_pytest_split_with_a_durations_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With pytest-split installed and its .test_durations committed, the shards follow
    the recorded durations: the one slow test (the first collected) is a shard of its own."""
    tests = "\n\n".join(f"def test_{n}() -> None:\n    pass" for n in ("a", "b", "c"))
    project(tmp_path, {"tests/test_timed.py": tests})
    durations = {
        "tests/test_ok.py::test_ok": 100.0,
        "tests/test_timed.py::test_a": 1.0,
        "tests/test_timed.py::test_b": 1.0,
        "tests/test_timed.py::test_c": 1.0,
    }
    (tmp_path / ".test_durations").write_text(json.dumps(durations))
    sizes = []
    for k in (1, 2):
        report_path = tmp_path / f"shard-{k}.json"
        assert (
            run(tmp_path, "--only", "queries", "--shard", f"{k}/2", "--report", str(report_path))
            == 0
        )
        sizes.append((Report.load(report_path).shard or {}).get("tests"))
    capsys.readouterr()
    assert sorted(sizes) == [1, 3]  # an even split by test id would give 2 and 2


# The number of lookups depends on the order a set of strings is walked in: without a
# fixed PYTHONHASHSEED it changes from process to process.
SET_ORDER_CODE = """
from django.contrib.auth.models import User


def lookups_until_x(names):
    count = 0
    for name in set(names):
        if name.startswith("x"):
            break
        User.objects.filter(username=name).exists()
        count += 1
    return count
"""

SET_ORDER_TEST = """
import pytest

from set_order import lookups_until_x


@pytest.mark.django_db
def test_set_order():
    assert lookups_until_x(["alpha", "bravo", "charlie", "delta", "x-ray", "echo", "fox"]) >= 0
"""


def test_run_gives_the_suite_a_fixed_hash_seed_so_counts_do_not_move(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    project(tmp_path, {"set_order.py": SET_ORDER_CODE, "tests/test_set_order.py": SET_ORDER_TEST})
    counts = set()
    for i in range(4):
        path = tmp_path / f"q{i}.json"
        args = ["--only", "queries", "--report", str(tmp_path / "r.json")]
        monkeypatch.setenv("DJANGO_GATES_QUERIES_BASELINE", str(path))
        monkeypatch.setenv("DJANGO_GATES_QUERIES_UPDATE_BASELINE", "true")
        # (A lookup per name is an N+1 by the gate's rules: reported, not failing.)
        monkeypatch.setenv("DJANGO_GATES_QUERIES_N_PLUS_ONE", "report")
        assert run(tmp_path, *args) == 0
        tests = json.loads(path.read_text())["tests"]
        counts.add(tests.get("tests/test_set_order.py::test_set_order", 0))  # 0: not written
    capsys.readouterr()
    assert len(counts) == 1, counts
