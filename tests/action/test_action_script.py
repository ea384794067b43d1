"""github-action/gates_action.py, step by step, as real processes with the runner's files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.action.action_harness import parse_file_commands
from tests.helpers import runs_once

pytestmark = runs_once()

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "github-action" / "gates_action.py"
OFFICIAL_LINUX_X64 = "551f6fc83ea457d62a0d98237cbad105af8d557003051f41f3e7ca7b3f2470eb"


def step(
    tmp_path: Path, command: str, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], dict[str, str]]:
    output = tmp_path / "output"
    github_env = tmp_path / "env"
    output.write_text("")
    github_env.write_text("")
    full = {
        "PATH": os.environ["PATH"],
        "GITHUB_OUTPUT": str(output),
        "GITHUB_ENV": str(github_env),
        "GITHUB_WORKSPACE": str(tmp_path),
        "RUNNER_TEMP": str(tmp_path / "runner-temp"),
        "GITHUB_ACTION_PATH": str(REPO),
        **env,
    }
    (tmp_path / "runner-temp").mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), command], env=full, capture_output=True, text=True
    )
    return (
        proc,
        parse_file_commands(output.read_text()),
        parse_file_commands(github_env.read_text()),
    )


def test_validate_normalises_the_inputs(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    proc, out, _ = step(
        tmp_path,
        "validate",
        {"DJG_GATES": "mypy, ruff,queries", "DJG_WORKING_DIRECTORY": "backend", **versions()},
    )
    assert proc.returncode == 0, proc.stdout
    assert out["gates"] == "ruff,mypy,queries"
    assert out["gitleaks"] == "false"
    assert out["working-directory"] == str(tmp_path / "backend")
    assert out["report-dir"] == str(tmp_path / "django-gates-report")
    assert out["path-prefix"] == "backend"
    assert out["base-ref"] == ""
    assert (out["fail-on-warnings"], out["annotations"], out["install"], out["fixes"]) == (
        "false",
        "true",
        "true",
        "true",
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJG_GATES": "ruff,lint"}, "input gates: unknown gate(s) lint"),
        ({"DJG_WORKING_DIRECTORY": "missing"}, "input working-directory 'missing'"),
        ({"DJG_SETTINGS": "config/settings.py"}, "input settings must be a dotted"),
        ({"DJG_FAIL_ON_WARNINGS": "yes"}, "input fail-on-warnings must be true or false"),
        ({"DJG_FIXES": "on"}, "input fixes must be true or false"),
        ({"DJG_RUFF_VERSION": ">=0.6"}, "input ruff-version must be an exact version"),
        ({"DJG_BASE_REF": "--output=/etc/x"}, "input base-ref"),
        ({"DJG_GITLEAKS_URL": "http://mirror.invalid/x"}, "https:// or file://"),
        ({"DJG_GITLEAKS_SHA256": "abc"}, "64 hexadecimal"),
        ({"DJG_PYTHON_VERSION": "latest"}, "python-version must look like 3.12"),
        (
            {"DJG_GITLEAKS_VERSION": "8.29.0"},
            "no sha256 is known for gitleaks 8.29.0 (linux_x64.tar.gz)",
        ),
    ],
)
def test_validate_rejects_bad_inputs_with_an_annotation(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    base = {"DJG_GITLEAKS_VERSION": "8.30.1", "DJG_RUFF_VERSION": "0.17.5"}
    base.update({"DJG_MYPY_VERSION": "2.4.1", "DJG_PIP_AUDIT_VERSION": "2.10.1"})
    proc, out, _ = step(tmp_path, "validate", {**base, **env})
    assert proc.returncode == 2
    assert proc.stdout.startswith("::error title=django-gates action::")
    assert message in proc.stdout
    assert out == {}


def versions() -> dict[str, str]:
    return {
        "DJG_RUFF_VERSION": "0.17.5",
        "DJG_MYPY_VERSION": "2.4.1",
        "DJG_PIP_AUDIT_VERSION": "2.10.1",
        "DJG_GITLEAKS_VERSION": "8.30.1",
    }


@pytest.mark.parametrize(
    ("event_name", "event", "expected"),
    [
        ("pull_request", {"pull_request": {"base": {"sha": "a" * 40}}}, "a" * 40),
        ("merge_group", {"merge_group": {"base_sha": "b" * 40, "head_sha": "c" * 40}}, "b" * 40),
        ("push", {"before": "d" * 40, "created": False}, "d" * 40),
        ("push", {"before": "0" * 40, "created": True}, ""),
        ("workflow_dispatch", {}, ""),
    ],
)
def test_the_base_of_the_change_comes_from_the_event(
    tmp_path: Path, event_name: str, event: dict[str, object], expected: str
) -> None:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event))
    env = {"GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path), **versions()}
    proc, out, _ = step(tmp_path, "validate", env)
    assert proc.returncode == 0, proc.stdout
    assert out["base-ref"] == expected


def test_base_ref_input_wins_over_the_event(tmp_path: Path) -> None:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps({"pull_request": {"base": {"sha": "a" * 40}}}))
    env = {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path),
        "DJG_BASE_REF": "origin/main",
        **versions(),
    }
    _, out, _ = step(tmp_path, "validate", env)
    assert out["base-ref"] == "origin/main"


def test_install_plan_skips_what_is_in_place(tmp_path: Path) -> None:
    # The test environment's own ruff is the one "in place"; its version depends on
    # what the resolver picked for this run, so read it rather than assume it.
    ruff = metadata.version("ruff")
    pip_audit = metadata.version("pip-audit")
    other = "2.9.0" if pip_audit != "2.9.0" else "2.8.0"
    (tmp_path / "requirements-dev.txt").write_text(f"ruff=={ruff}\n")
    env = {
        "DJG_DRY_RUN": "1",
        "DJG_GATES": "ruff,mypy,pip-audit",
        "DJG_WORKING_DIRECTORY": str(tmp_path),
        "DJG_REQUIREMENTS": "requirements-dev.txt",
        "DJG_RUFF_VERSION": ruff,  # installed here: nothing to do
        "DJG_MYPY_VERSION": "installed",  # the project's own
        "DJG_PIP_AUDIT_VERSION": other,  # differs: pinned install
    }
    proc, _, _ = step(tmp_path, "install", env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    commands = json.loads(proc.stdout)
    tails = [c[6:] for c in commands]
    assert tails == [
        ["--requirement", str(tmp_path / "requirements-dev.txt")],
        [f"pip-audit=={other}"],
    ]
    assert all(c[:6] == [sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
                         "--no-input"] for c in commands)  # fmt: skip


def test_install_package_installs_the_checkout_unless_its_version_is_there(
    tmp_path: Path,
) -> None:
    """The reusable workflow's code-scanning job: pytest-django-gates from its checkout
    at gates-ref, skipped (like the action's install step) when that version is installed."""
    proc, _, _ = step(tmp_path, "install-package", {"GITHUB_ACTION_PATH": ""})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = metadata.version("pytest-django-gates")
    assert proc.stdout == f"django-gates: pytest-django-gates {installed} is installed\n"
    other = tmp_path / "checkout"
    (other / "pytest_django_gates").mkdir(parents=True)
    (other / "pytest_django_gates" / "__init__.py").write_text('__version__ = "99.0"\n')
    env = {"GITHUB_ACTION_PATH": str(other), "DJG_DRY_RUN": "1"}
    proc, _, _ = step(tmp_path, "install-package", env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == [
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
         str(other)]
    ]  # fmt: skip


def test_install_gitleaks_checks_the_sha256_then_installs(
    tmp_path: Path, gitleaks_binary: Path, gitleaks_tarball: tuple[Path, str]
) -> None:
    archive, digest = gitleaks_tarball
    env = {
        "DJG_GITLEAKS_VERSION": "8.30.1",
        "DJG_GITLEAKS_URL": archive.as_uri(),
        "DJG_GITLEAKS_SHA256": digest,
    }
    proc, out, github_env = step(tmp_path, "install-gitleaks", env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = Path(out["path"])
    assert installed == tmp_path / "runner-temp" / "django-gates-gitleaks-8.30.1" / "gitleaks"
    assert (
        hashlib.sha256(installed.read_bytes()).hexdigest()
        == hashlib.sha256(gitleaks_binary.read_bytes()).hexdigest()
    )
    assert github_env == {
        "DJANGO_GATES_GITLEAKS_COMMAND": str(installed),
        "DJANGO_GATES_GITLEAKS_VERSION": "8.30.1",
    }
    assert f"sha256 verified: {digest}" in proc.stdout


def test_install_gitleaks_refuses_a_wrong_checksum(
    tmp_path: Path, gitleaks_tarball: tuple[Path, str]
) -> None:
    archive, _digest = gitleaks_tarball
    env = {"DJG_GITLEAKS_VERSION": "8.30.1", "DJG_GITLEAKS_URL": archive.as_uri()}
    # No sha256 input: the known checksum of the OFFICIAL archive applies, and this
    # locally built archive does not match it.
    proc, out, github_env = step(tmp_path, "install-gitleaks", env)
    assert proc.returncode == 2
    assert f"expected {OFFICIAL_LINUX_X64}" in proc.stdout
    assert "refusing to run it" in proc.stdout
    assert out == {}
    assert github_env == {}
    assert not (tmp_path / "runner-temp" / "django-gates-gitleaks-8.30.1" / "gitleaks").exists()


def test_install_gitleaks_without_a_known_checksum_refuses(tmp_path: Path) -> None:
    env = {"DJG_GITLEAKS_VERSION": "8.18.0", "RUNNER_ARCH": "ARM64"}
    proc, _, _ = step(tmp_path, "install-gitleaks", env)
    assert proc.returncode == 2
    assert "no sha256 is known for gitleaks 8.18.0 (linux_arm64.tar.gz)" in proc.stdout


def test_enforce_fails_closed_without_an_exit_status(tmp_path: Path) -> None:
    proc, _, _ = step(tmp_path, "enforce", {"DJG_RUN_EXIT": ""})
    assert proc.returncode == 3
    assert proc.stdout.startswith("::error")
    passed, _, _ = step(tmp_path, "enforce", {"DJG_RUN_EXIT": "0"})
    assert passed.returncode == 0
    failed, _, _ = step(tmp_path, "enforce", {"DJG_RUN_EXIT": "1"})
    assert failed.returncode == 1
    assert "a gate failed (exit 1)" in failed.stdout


def test_merge_shards_fails_closed_when_no_shard_left_a_report(tmp_path: Path) -> None:
    (tmp_path / "shards" / "django-gates-shard-1").mkdir(parents=True)  # an empty artifact
    (tmp_path / "backend").mkdir()
    env = {
        "DJG_SHARDS": "2",
        "DJG_SHARD_DIR": str(tmp_path / "shards"),
        "DJG_GATES": "queries,coverage",
        "DJG_WORKING_DIRECTORY": str(tmp_path / "backend"),
        "DJG_REPORT_DIR": str(tmp_path / "report"),
    }
    proc, out, _ = step(tmp_path, "merge-shards", env)
    assert proc.returncode == 0  # the enforce step fails the job, after publishing
    assert out["exit-code"] == "3"
    assert "none of the 2 shard jobs left a report" in proc.stdout
    enforced, _, _ = step(tmp_path, "enforce", {"DJG_RUN_EXIT": out["exit-code"]})
    assert enforced.returncode == 3
    bad, _, _ = step(tmp_path, "merge-shards", {**env, "DJG_SHARDS": "two"})
    assert bad.returncode == 2
    assert "shards must be a whole number" in bad.stdout


def test_fixes_writes_a_proven_patch_and_its_summary_and_leaves_the_checkout(
    tmp_path: Path, postgres_db: str
) -> None:
    """After a failed run, the fixes step proves what django-gates fix can do, writes
    fixes.patch and fixes.md into the report directory, and changes no file of the
    checkout; publish puts fixes.md into the job summary."""
    from tests.fix.test_fix_migrations import branch_project
    from tests.helpers import git

    root = branch_project(tmp_path / "checkout", postgres_db)
    report_dir = tmp_path / "django-gates-report"
    run_env = {
        "DJG_GATES": "migrations",
        "DJG_WORKING_DIRECTORY": str(root),
        "DJG_REPORT_DIR": str(report_dir),
        "DJG_BASE_REF": "main",
        "DJG_SETTINGS": "proj_settings",
    }
    ran, out, _ = step(tmp_path, "run", run_env)
    assert out["exit-code"] == "1", ran.stdout + ran.stderr

    proc, _, _ = step(tmp_path, "fixes", {**run_env, "DJG_RUN_EXIT": "1"})

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(root, "status", "--porcelain") == ""
    patch = (report_dir / "fixes.patch").read_text(encoding="utf-8")
    assert "+++ b/shop/migrations/0003_shop_item_name_concurrently.py" in patch
    notes = (report_dir / "fixes.md").read_text(encoding="utf-8")
    assert "finding(s) django-gates can fix, each proven" in notes
    assert "- `DJG211` shop.0002_stock" in notes
    assert "`git apply fixes.patch`, or run `django-gates fix --since main` locally" in notes
    summary = tmp_path / "summary.md"
    summary.write_text("")
    step(tmp_path, "publish", {**run_env, "DJG_RUN_EXIT": "1", "GITHUB_STEP_SUMMARY": str(summary)})
    assert "each proven" in summary.read_text(encoding="utf-8")
    # Nothing to fix after a passing run: no patch.
    step(tmp_path, "fixes", {**run_env, "DJG_RUN_EXIT": "0"})
    assert not (report_dir / "fixes.patch").exists()
