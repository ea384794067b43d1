"""The reusable workflow .github/workflows/gates.yml run by a real engine (act).

A caller workflow in a copy of demo_project (under ``backend/``) calls it in its
published form, ``uses: pytest-django-gates/pytest-django-gates/.github/workflows/
gates.yml@<sha>`` (act maps that repository to this checkout's files), on a pull
request that breaks all seven gates it runs (pip-audit is left out: its service is out
of reach). act runs every job on this machine:

* ``plan``: checks the inputs, lists the gate jobs;
* ``gate``, one job per gate (the matrix): the project checked out by act itself into
  ``project/``, pytest-django-gates at ``gates-ref`` by the checkout stand-in, the
  action (``uses: ./.django-gates-action``) for that one gate, the report kept by the
  upload-artifact stand-in. The migrations job traces the migrations
  (``trace-migrations: true``) on the local PostgreSQL at localhost:5432, the URL the
  workflow gives its service container (act starts no service container without
  Docker; the server of this machine answers instead);
* ``code scanning``: the reports collected by the download-artifact stand-in, merged
  into one SARIF file by the workflow's own step, kept by the upload-sarif stand-in
  instead of being uploaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.action.act_support import (
    GATES_REPOSITORY,
    REPO,
    ActEnv,
    ActRun,
    assert_one_annotation_per_finding,
    assert_planted,
    break_queries_migrations_deploy_gitleaks,
    break_ruff_mypy_coverage,
    planted_queries_migrations_deploy_gitleaks,
    planted_ruff_mypy_coverage,
    pull_request,
    run_act,
)
from tests.cli.cli_support import DATA, _missing, fake_github_token

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
GATES = ["ruff", "mypy", "gitleaks", "queries", "migrations", "deploy", "coverage"]
# The jobs that run the test suite (the migrations gate traces, so it runs outside it).
SUITE_GATES = {"queries", "deploy", "coverage"}
DOCUMENTS = [REPO / "action.yml", REPO / ".github" / "workflows" / "gates.yml"]

CALLER = """\
name: django-gates
on:
  pull_request:
permissions: {{}}
jobs:
  gates:
    permissions:
      contents: read
      security-events: write
    uses: {repository}/.github/workflows/gates.yml@{sha}
    with:
      gates-ref: {sha}
      gates: {gates}
      working-directory: backend
      python-version: ""
      ruff-version: installed
      mypy-version: installed
      gitleaks-version: "8.30.1"
      gitleaks-url: {gitleaks_url}
      gitleaks-sha256: {gitleaks_sha256}
      trace-migrations: true
      upload-sarif: true
"""


def _run_pull_request(
    act_env: ActEnv, repo: Path, caller: str, change: dict[str, str | None], tmp_path: Path
) -> tuple[str, ActRun]:
    """The caller workflow committed as the base, ``change`` as the pull request on top,
    run by act (which must fail: every change breaks a gate); its base commit and run."""
    event = pull_request(
        repo,
        base_files={".github/workflows/django-gates.yml": caller},
        change=change,
        message="a change that breaks gates",
    )
    result = run_act(act_env, repo, event, tmp_path / "act", documents=DOCUMENTS)
    assert result.returncode != 0
    return str(event["pull_request"]["base"]["sha"]), result


def located(report: dict[str, Any], gate: str | None = None) -> set[tuple[str, str, int]]:
    return {
        (f["code"], f["path"], f["line"])
        for g in report["gates"]
        if gate is None or g["name"] == gate
        for f in g["findings"]
    }


def test_act_reusable_workflow_one_job_per_gate_and_the_merged_sarif(
    act_env: ActEnv,
    demo_copy: Path,
    tmp_path: Path,
    gitleaks_tarball: tuple[Path, str],
    postgres_server: dict[str, object],
) -> None:
    if (
        str(postgres_server["host"]) not in ("127.0.0.1", "localhost", "::1")
        or int(str(postgres_server["port"])) != 5432
    ):
        _missing("the workflow traces on localhost:5432, and PostgreSQL is elsewhere here")
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.move(str(demo_copy), str(repo / "backend"))
    project = repo / "backend"
    archive, digest = gitleaks_tarball
    caller = CALLER.format(
        repository=GATES_REPOSITORY,
        sha=act_env.source.sha,
        gates=",".join(GATES),
        gitleaks_url=json.dumps(archive.as_uri()),
        gitleaks_sha256=json.dumps(digest),
    )
    token = fake_github_token(str(tmp_path))
    change = {
        **break_queries_migrations_deploy_gitleaks(project, token, "backend/"),
        **break_ruff_mypy_coverage("backend/"),
    }
    base, result = _run_pull_request(act_env, repo, caller, change, tmp_path)
    # The caller's job "gates", and the reusable workflow's: plan, a gate each, code scanning.
    assert result.jobs() == {"gates", "plan", *GATES, "code-scanning"}, result.describe()

    # plan: the inputs checked, one job per gate listed.
    assert result.job_result("plan") == "success", result.describe()
    assert result.outputs("plan", ["plan"]) == {
        "gates": json.dumps(GATES, separators=(",", ":")),
        "suite": "",  # shards: 1, no split
        "shards": "[]",
    }

    planted = {
        (code, path.removeprefix("backend/"), line)
        for code, path, line in planted_queries_migrations_deploy_gitleaks(project, "backend/")
        | planted_ruff_mypy_coverage(project, "backend/")
    }
    gate_of = {
        "DJG101": "queries",
        "DJG201": "migrations",
        "security.W018": "deploy",
        "gitleaks:github-pat": "gitleaks",
        "ruff:F401": "ruff",
        "mypy:assignment": "mypy",
        "DJG407": "coverage",
    }
    reports = {}
    for gate in GATES:
        # The job ran the action for its gate alone, which failed it after publishing.
        steps = result.step_results(gate)
        assert steps[("gates",)] == "failure", (gate, result.describe())
        assert steps[("gates", "publish")] == "success"
        assert ("gates", "1") not in result.started(gate)  # setup-python: skipped
        assert any(
            line.startswith(f"::group::django-gates run ({gate})") for line in result.raw(gate)
        )
        # Its report, kept as the artifact django-gates-report-<gate>.
        report = json.loads(
            (result.artifacts / f"django-gates-report-{gate}" / "gates-report.json").read_text()
        )
        reports[gate] = report
        names = [g["name"] for g in report["gates"]]
        assert names == (["tests", gate] if gate in SUITE_GATES else [gate])
        # Annotations: one per finding, at backend/<path>:<line>; the planted ones there.
        annotations = assert_one_annotation_per_finding(result, gate, report, prefix="backend/")
        assert_planted(
            annotations,
            {(c, f"backend/{p}", n) for c, p, n in planted if gate_of[c] == gate},
        )
        summary = result.summary(gate)
        assert summary.startswith("## :x: pytest-django-gates: failed\n")
        assert f"| {gate} | :x: failed |" in summary

    # The migrations job traced on PostgreSQL the migration added since the pull
    # request's base (not origin/main: the traced gate gets `--since` too).
    (migrations,) = [g for g in reports["migrations"]["gates"] if g["name"] == "migrations"]
    assert f"1 of 3 migrations checked (added since {base}" in migrations["summary"]
    assert "traced 1 operations of 1 migrations on PostgreSQL" in migrations["summary"]
    assert "(postgresql://postgres@localhost:5432)" in migrations["summary"]

    # code scanning: the reports merged into one SARIF file, one run per gate.
    job = "code-scanning"
    assert result.job_result(job) == "success", result.describe()
    started = result.started(job)
    assert ("1",) not in started  # setup-python: skipped (python-version '')
    assert any("pytest-django-gates 0.1.0 is installed" in line for line in result.raw(job))
    assert result.annotations(job) == []
    sarif = json.loads((result.uploads / "django-gates.sarif").read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    runs = {r["automationDetails"]["id"]: r for r in sarif["runs"]}
    assert sorted(runs) == sorted(f"django-gates/{g}/" for g in ["tests", *GATES])
    merged = {
        (
            res["ruleId"],
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            res["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for run_ in sarif["runs"]
        for res in run_["results"]
    }
    every = set().union(*(located(r) for r in reports.values()))
    assert merged == {(c, f"backend/{p}", n) for c, p, n in every}
    assert {(c, f"backend/{p}", n) for c, p, n in planted} <= merged


SHARDED_CALLER = """\
name: django-gates
on:
  pull_request:
permissions: {{}}
jobs:
  gates:
    permissions:
      contents: read
    uses: {repository}/.github/workflows/gates.yml@{sha}
    with:
      gates-ref: {sha}
      gates: queries,coverage,deploy
      shards: 3
      working-directory: backend
      python-version: ""
"""


def _gate(report: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [g for g in report["gates"] if g["name"] == name]
    return found


def test_act_reusable_workflow_shards_merge_into_the_unsharded_verdict(
    act_env: ActEnv, demo_copy: Path, tmp_path: Path
) -> None:
    """``shards: 3``: three shard jobs run the suite's gates on a third of the tests each;
    the ``tests`` job merges their reports and coverage data into the verdict one
    unsharded run gives on the same commit (issue 20, section 2); deploy runs once."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.move(str(demo_copy), str(repo / "backend"))
    project = repo / "backend"
    caller = SHARDED_CALLER.format(repository=GATES_REPOSITORY, sha=act_env.source.sha)
    change = break_queries_migrations_deploy_gitleaks(
        project, fake_github_token(str(tmp_path)), "backend/"
    )
    base, result = _run_pull_request(act_env, repo, caller, change, tmp_path)
    assert result.jobs() == {"gates", "plan", "deploy", "1", "2", "3", "tests"}, result.describe()
    assert result.outputs("plan", ["plan"]) == {
        "gates": '["deploy"]',
        "suite": "queries,coverage",
        "shards": "[1,2,3]",
    }
    stamps = []
    for k in ("1", "2", "3"):
        # Each shard ran (its findings are judged by the merge, so the job goes on) and
        # kept its report and its coverage data.
        assert result.job_result(k) == "success", result.describe()
        kept = result.artifacts / f"django-gates-shard-{k}"
        shard_report = json.loads((kept / "django-gates-report" / "gates-report.json").read_text())
        stamps.append(shard_report["shard"])
        assert (kept / "project" / "backend" / ".coverage").is_file()
    assert [s["index"] for s in stamps] == [1, 2, 3]
    assert all(s["total"] == 3 for s in stamps)

    assert result.job_result("tests") == "failure", result.describe()
    merged_path = result.artifacts / "django-gates-report-tests" / "gates-report.json"
    assert merged_path.is_file(), result.describe()
    merged = json.loads(merged_path.read_text())
    assert "shard" not in merged
    assert [g["name"] for g in merged["gates"]] == ["tests", "queries", "coverage"]

    # The same commit, unsharded, on this machine: the same verdict.
    one = project.parent.parent / "unsharded.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_django_gates",
            "--project",
            str(project),
            "run",
            "--only",
            "queries,coverage",
            "--since",
            base,
            "--report",
            str(one),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    unsharded = json.loads(one.read_text())
    for name in ("queries", "coverage"):
        got, expected = _gate(merged, name), _gate(unsharded, name)
        assert got["status"] == expected["status"], name
        assert got["findings"] == expected["findings"], name
        if name == "queries":
            assert got["summary"] == expected["summary"]
    assert sum(s["tests"] for s in stamps) == int(_gate(unsharded, "tests")["summary"].split()[0])
    # The planted N+1, annotated by the merge job at its repository path.
    annotations = result.annotations("tests")
    assert any(a.file.startswith("backend/apps/catalog/") for a in annotations), annotations
