"""action.yml and the workflows: schema-valid, zizmor-clean, pinned, least privilege."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ACTION = REPO / "action.yml"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
EXAMPLE = REPO / "github-action" / "example-workflow.yml"
ALL_FILES = [ACTION, *WORKFLOWS, EXAMPLE]
SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name), *args], capture_output=True, text=True, check=False, cwd=REPO
    )


def test_the_expected_files_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "gates.yml"]
    assert EXAMPLE.is_file()


def test_action_matches_the_github_actions_schema() -> None:
    proc = tool("check-jsonschema", "--builtin-schema", "vendor.github-actions", str(ACTION))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_match_the_github_workflows_schema() -> None:
    proc = tool(
        "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, [*WORKFLOWS, EXAMPLE]),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_offline_is_clean() -> None:
    proc = tool("zizmor", "--offline", "--no-progress", *map(str, ALL_FILES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_zizmor_would_catch_an_injection(tmp_path: Path) -> None:
    """The check above means something: the same file with an expression in run: fails."""
    bad = ACTION.read_text(encoding="utf-8").replace(
        'run: python3 "$GITHUB_ACTION_PATH/github-action/gates_action.py" enforce',
        'run: echo "${{ inputs.gates }}"',
    )
    (tmp_path / "action.yml").write_text(bad, encoding="utf-8")
    proc = tool("zizmor", "--offline", "--no-progress", str(tmp_path / "action.yml"))
    assert proc.returncode != 0
    assert "template-injection" in proc.stdout + proc.stderr


def _steps(doc: Any) -> list[dict[str, Any]]:
    if "runs" in doc:
        return list(doc["runs"]["steps"])
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_no_expression_inside_run_and_every_uses_pinned(path: Path) -> None:
    doc = load(path)
    for step in _steps(doc):
        if "run" in step:
            assert "${{" not in step["run"], f"{path.name}: {step.get('name')}"
        if "uses" in step:
            uses = step["uses"]
            assert uses.startswith("./") or SHA_PIN.match(uses), f"{path.name}: {uses}"


@pytest.mark.parametrize("path", [*WORKFLOWS, EXAMPLE], ids=lambda p: p.name)
def test_workflows_grant_nothing_by_default(path: Path) -> None:
    doc = load(path)
    assert doc["permissions"] == {}
    for name, job in doc["jobs"].items():
        granted = job.get("permissions")
        if "uses" in job:  # a call to the reusable workflow
            continue
        assert granted is not None, f"{path.name}: job {name} must say what it needs"
        assert set(granted.values()) <= {"read", "write"}
        writes = {k for k, v in granted.items() if v == "write"}
        assert writes <= {"security-events"}, f"{path.name}: {name} writes {writes}"
        if writes:  # only the job that uploads SARIF may write security events
            assert any("upload-sarif@" in s.get("uses", "") for s in job["steps"]), name


def test_checkouts_do_not_persist_credentials() -> None:
    for path in [*WORKFLOWS, EXAMPLE]:
        for step in _steps(load(path)):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name


def test_action_inputs_are_documented_and_outputs_come_from_steps() -> None:
    doc = load(ACTION)
    expected = {
        "gates",
        "working-directory",
        "settings",
        "deploy-settings",
        "python-version",
        "base-ref",
        "fail-on-warnings",
        "report-dir",
        "ruff-version",
        "mypy-version",
        "pip-audit-version",
        "gitleaks-version",
        "gitleaks-sha256",
        "gitleaks-url",
    }
    assert expected <= set(doc["inputs"])
    for name, spec in doc["inputs"].items():
        assert spec["description"].strip(), name
    assert {"status", "report", "sarif", "errors", "warnings", "findings"} <= set(doc["outputs"])
    for spec in doc["outputs"].values():
        assert spec["value"].startswith("${{ steps.")


def test_ci_matrix_covers_python_and_django_versions() -> None:
    job = load(REPO / ".github" / "workflows" / "ci.yml")["jobs"]["tests"]
    matrix = job["strategy"]["matrix"]
    assert matrix["python"] == ["3.10", "3.11", "3.12", "3.13"]
    assert matrix["django"] == ["4.2", "5.2", "6.0"]
    combos = {
        (p, d)
        for p in matrix["python"]
        for d in matrix["django"]
        if {"python": p, "django": d} not in matrix["exclude"]
    }
    assert all(p in ("3.12", "3.13") for p, d in combos if d == "6.0")
    assert "postgres" in job["services"]


def test_reusable_workflow_has_one_job_per_gate() -> None:
    doc = load(REPO / ".github" / "workflows" / "gates.yml")
    assert "workflow_call" in doc["on"]
    gate = doc["jobs"]["gate"]
    assert gate["name"] == "${{ matrix.gate }}"
    assert gate["strategy"]["fail-fast"] is False
    assert gate["permissions"] == {"contents": "read"}
    assert doc["jobs"]["code-scanning"]["permissions"] == {
        "contents": "read",
        "security-events": "write",
    }


def test_example_workflow_triggers() -> None:
    doc = load(EXAMPLE)
    assert {"pull_request", "push", "merge_group"} <= set(doc["on"])


def test_reusable_workflow_passes_the_tool_inputs_with_the_actions_defaults() -> None:
    """The pins of the tools (and gitleaks' download) are the caller's to choose, as with
    the action: each is a workflow input, with the action's default, given to the action."""
    action = load(ACTION)["inputs"]
    workflow = load(REPO / ".github" / "workflows" / "gates.yml")
    inputs = workflow["on"]["workflow_call"]["inputs"]
    (step,) = [s for s in workflow["jobs"]["gate"]["steps"] if s.get("uses", "").startswith("./")]
    tools = (
        "ruff-version",
        "mypy-version",
        "pip-audit-version",
        "gitleaks-version",
        "gitleaks-sha256",
        "gitleaks-url",
    )
    for name in tools:
        assert str(inputs[name]["default"]) == str(action[name]["default"]), name
        assert step["with"][name] == f"${{{{ inputs.{name} }}}}", name


def test_every_remote_action_has_an_act_stand_in() -> None:
    """The act tests map each remote `uses:` of the action and of the reusable workflow to
    a stand-in (act fetches even a skipped one)."""
    from tests.action.act_support import STANDIN_FOR, STANDINS, remote_uses

    named = {repo for repo, _ in remote_uses(ACTION, REPO / ".github" / "workflows" / "gates.yml")}
    assert named <= set(STANDIN_FOR), named - set(STANDIN_FOR)
    for directory in STANDIN_FOR.values():
        found = list((STANDINS / directory).rglob("action.yml"))
        assert found, directory
        for path in found:
            proc = tool("check-jsonschema", "--builtin-schema", "vendor.github-actions", str(path))
            assert proc.returncode == 0, proc.stdout + proc.stderr
