"""The external-tool gates (ruff, mypy, gitleaks, pip-audit) against the real tools.

Each test builds a small project, runs the gate (which runs the tool as a real
process) and checks the findings, or the ``error`` when the tool cannot do its job.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_django_gates import config, options
from pytest_django_gates.gates import GateContext, run_gate
from pytest_django_gates.gates import mypy as mypy_gate
from pytest_django_gates.report import GateResult
from tests.cli.cli_support import (
    OsvServer,
    commit_all,
    fake_github_token,
    git,
    unused_port,
)
from tests.helpers import runs_once

pytestmark = runs_once()

BIN = Path(sys.executable).parent


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def gate(
    name: str,
    root: Path,
    environ: dict[str, str] | None = None,
    cli: dict[str, object] | None = None,
) -> GateResult:
    pyproject = root / "pyproject.toml"
    cfg = config.load(
        options.OPTIONS,
        cli=cli or {},
        environ=environ or {},
        pyproject=pyproject if pyproject.is_file() else None,
    )
    result, _ = run_gate(name, GateContext(config=cfg, rootdir=root))
    return result


def fake_tool(tmp_path: Path, name: str, version_line: str, body: str) -> Path:
    """A stand-in executable (a real process) for the crash paths tools rarely take."""
    script = tmp_path / f"fake-{name}"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"if sys.argv[1:] in (['--version'], ['version']):\n"
        f"    print({version_line!r}); sys.exit(0)\n" + textwrap.dedent(body),
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


# ------------------------------------------------------------------------ ruff

RUFF_CONFIG = """
[tool.ruff]
line-length = 100
[tool.ruff.lint]
select = ["DJ", "F"]
"""

MODELS_WITH_DJ001 = """
from django.db import models


class Book(models.Model):
    title = models.CharField(max_length=100, null=True)

    def __str__(self) -> str:
        return self.title or ""
"""


def test_ruff_reports_django_rules_with_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": RUFF_CONFIG, "shop/models.py": MODELS_WITH_DJ001})
    result = gate("ruff", tmp_path)
    assert result.status == "failed"
    (finding,) = result.findings
    assert finding.code == "ruff:DJ001"
    assert finding.path == "shop/models.py"
    assert finding.line == 5
    assert finding.object == "shop/models.py:5:13"
    assert "null=True" in finding.message
    assert result.summary.startswith("ruff 0.")


def test_ruff_never_rewrites_files_even_with_fix_in_config(tmp_path: Path) -> None:
    source = "import os\n"
    write(
        tmp_path,
        {
            "pyproject.toml": RUFF_CONFIG.replace("[tool.ruff]", "[tool.ruff]\nfix = true"),
            "app.py": source,
        },
    )
    result = gate("ruff", tmp_path)
    assert [f.code for f in result.findings] == ["ruff:F401"]
    assert "ruff check --fix" in result.findings[0].hint
    assert (tmp_path / "app.py").read_text() == source


def test_ruff_clean_project_passes(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": RUFF_CONFIG, "app.py": "print('hello')\n"})
    result = gate("ruff", tmp_path)
    assert result.status == "passed"
    assert result.findings == ()


def test_ruff_syntax_error_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": RUFF_CONFIG, "broken.py": "def f(:\n    pass\n"})
    result = gate("ruff", tmp_path)
    assert result.status == "failed"
    assert {f.code for f in result.findings} == {"ruff:invalid-syntax"}
    assert all(f.path == "broken.py" and f.line == 1 for f in result.findings)


def test_ruff_bad_configuration_is_an_error_not_a_pass(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"pyproject.toml": '[tool.ruff.lint]\nselect = ["NOPE999"]\n', "app.py": "x = 1\n"},
    )
    result = gate("ruff", tmp_path)
    assert result.status == "error"
    assert "NOPE999" in result.summary


def test_missing_tool_fails_closed(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "x = 1\n"})
    result = gate("ruff", tmp_path, {"DJANGO_GATES_RUFF_COMMAND": str(tmp_path / "no" / "ruff")})
    assert result.status == "error"
    assert "not found" in result.summary


def test_pinned_version_mismatch_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "x = 1\n"})
    result = gate("ruff", tmp_path, {"DJANGO_GATES_RUFF_VERSION": "0.0.1"})
    assert result.status == "error"
    assert "requires 0.0.1" in result.summary
    assert "ruff==0.0.1" in result.summary


def test_tool_found_next_to_the_running_python(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "x = 1\n"})
    from pytest_django_gates.gates import _tools

    cfg = config.load(options.OPTIONS, environ={}, pyproject=None)
    assert _tools.locate("ruff", "ruff", cfg, tmp_path) == (str(BIN / "ruff"),)


# ------------------------------------------------------------------------ mypy

MYPY_CONFIG = """
[tool.mypy]
strict = true
files = ["pkg"]
"""


def test_mypy_reports_errors_with_codes_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": MYPY_CONFIG,
            "pkg/__init__.py": "",
            "pkg/calc.py": """
                def double(x: int) -> int:
                    return x * 2


                double("two")
            """,
        },
    )
    result = gate("mypy", tmp_path)
    assert result.status == "failed"
    (finding,) = result.findings
    assert finding.code == "mypy:arg-type"
    assert (finding.path, finding.line) == ("pkg/calc.py", 5)
    assert finding.object == "pkg/calc.py:5:8"
    assert 'incompatible type "str"' in finding.message


def test_mypy_clean_passes_and_names_the_version(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": MYPY_CONFIG, "pkg/__init__.py": "X: int = 1\n"})
    result = gate("mypy", tmp_path)
    assert result.status == "passed", result.summary
    assert result.summary.startswith("mypy 2.") or result.summary.startswith("mypy 1.")


def test_mypy_without_files_is_an_error_with_the_fix(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.mypy]\nstrict = true\n"})
    result = gate("mypy", tmp_path)
    assert result.status == "error"
    assert "[tool.django-gates.mypy] paths" in result.summary


def test_mypy_crash_is_an_error(tmp_path: Path) -> None:
    fake = fake_tool(
        tmp_path,
        "mypy",
        "mypy 2.4.1 (compiled: yes)",
        """
        sys.stderr.write("Traceback (most recent call last):\\nINTERNAL ERROR\\n")
        sys.exit(2)
        """,
    )
    write(tmp_path, {"pyproject.toml": MYPY_CONFIG, "pkg/__init__.py": ""})
    result = gate("mypy", tmp_path, {"DJANGO_GATES_MYPY_COMMAND": str(fake)})
    assert result.status == "error"
    assert "crashed" in result.summary


def test_mypy_text_output_of_older_versions_is_parsed(tmp_path: Path) -> None:
    output = textwrap.dedent(
        """
        pkg/a.py:3:5: error: Incompatible return value type (got "int")  [return-value]
        pkg/a.py:3:5: note: See https://example.invalid/docs
        pkg/b.py:10: error: Name "undefined" is not defined  [name-defined]
        pkg/c.py:1:1: error: Some error without a code
        pkg/c.py:7:1: note: By default the bodies of untyped functions are not checked
        Found 3 errors in 3 files (checked 3 source files)
        """
    )
    findings = mypy_gate.parse(output, tmp_path, json_lines=False)
    assert [(f.code, f.path, f.line, f.severity) for f in findings] == [
        ("mypy:return-value", "pkg/a.py", 3, "error"),
        ("mypy:name-defined", "pkg/b.py", 10, "error"),
        ("mypy:misc", "pkg/c.py", 1, "error"),
        ("mypy:note", "pkg/c.py", 7, "warning"),
    ]
    assert findings[0].hint == "See https://example.invalid/docs"
    assert findings[0].object == "pkg/a.py:3:5"


def test_mypy_json_notes_join_their_error(tmp_path: Path) -> None:
    lines = [
        {"file": "m.py", "line": 2, "column": 0, "message": "Bad", "hint": None,
         "code": "import-untyped", "severity": "error"},
        {"file": "m.py", "line": 2, "column": 0, "message": "Hint: pip install types-x",
         "hint": None, "code": None, "severity": "note"},
    ]  # fmt: skip
    findings = mypy_gate.parse("\n".join(map(json.dumps, lines)), tmp_path, json_lines=True)
    assert len(findings) == 1
    assert findings[0].hint == "Hint: pip install types-x"


# -------------------------------------------------------------------- gitleaks


@pytest.fixture
def leaky_repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A git repo: a clean first commit, then one that commits a token. (repo, base, token)"""
    repo = tmp_path / "repo"
    write(repo, {"app.py": "print('hello')\n"})
    base = commit_all(repo, "initial")
    token = fake_github_token(str(tmp_path))
    write(repo, {"deploy/sync.sh": f"#!/bin/sh\nexport GITHUB_TOKEN={token}\ncurl example\n"})
    commit_all(repo, "add sync script")
    return repo, base, token


def gitleaks_env(binary: Path, **more: str) -> dict[str, str]:
    return {"DJANGO_GATES_GITLEAKS_COMMAND": str(binary), **more}


def test_gitleaks_finds_a_secret_in_the_change_redacted(
    leaky_repo: tuple[Path, str, str], gitleaks_binary: Path
) -> None:
    repo, base, token = leaky_repo
    result = gate("gitleaks", repo, gitleaks_env(gitleaks_binary, DJANGO_GATES_RUN_SINCE=base))
    assert result.status == "failed"
    assert f"commits {base}..HEAD" in result.summary
    codes = {f.code for f in result.findings}
    assert "gitleaks:github-pat" in codes
    finding = next(f for f in result.findings if f.code == "gitleaks:github-pat")
    assert (finding.path, finding.line) == ("deploy/sync.sh", 2)
    head = git(repo, "rev-parse", "HEAD")
    assert finding.object == f"{head}:deploy/sync.sh:github-pat:2"
    assert f"commit {head[:12]}" in finding.message
    assert ".gitleaksignore" in finding.hint
    serialized = json.dumps(result.to_dict())
    assert token not in serialized
    assert token[4:20] not in serialized


def test_gitleaks_range_without_the_secret_passes(
    leaky_repo: tuple[Path, str, str], gitleaks_binary: Path
) -> None:
    repo, _base, _token = leaky_repo
    head = git(repo, "rev-parse", "HEAD")
    result = gate("gitleaks", repo, gitleaks_env(gitleaks_binary, DJANGO_GATES_RUN_SINCE=head))
    assert result.status == "passed", result.summary


def test_gitleaks_ignore_file_is_honoured(
    leaky_repo: tuple[Path, str, str], gitleaks_binary: Path
) -> None:
    repo, base, _token = leaky_repo
    failing = gate("gitleaks", repo, gitleaks_env(gitleaks_binary))
    (repo / ".gitleaksignore").write_text(
        "".join(f.object + "\n" for f in failing.findings), encoding="utf-8"
    )
    result = gate("gitleaks", repo, gitleaks_env(gitleaks_binary, DJANGO_GATES_RUN_SINCE=base))
    assert result.status == "passed", result.findings


def test_gitleaks_update_baselines_accepts_the_history_in_gitleaksignore(
    leaky_repo: tuple[Path, str, str], gitleaks_binary: Path
) -> None:
    repo, _base, _token = leaky_repo
    (repo / ".gitleaksignore").write_text("# kept\nsome:other:fingerprint:1", encoding="utf-8")
    update = {"run.update_baselines": True}
    accepted = gate("gitleaks", repo, gitleaks_env(gitleaks_binary), update)
    assert accepted.status == "passed", accepted.summary
    assert "1 fingerprint(s) of the whole git history added to .gitleaksignore" in (
        accepted.summary
    )
    head = git(repo, "rev-parse", "HEAD")
    lines = (repo / ".gitleaksignore").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["# kept", "some:other:fingerprint:1"]  # what was there stays
    assert lines[2].startswith("# 1 finding(s) of the whole git history accepted")
    assert lines[3] == f"{head}:deploy/sync.sh:github-pat:2"
    # The history now passes; a new secret in a new commit does not.
    assert gate("gitleaks", repo, gitleaks_env(gitleaks_binary)).status == "passed"
    again = gate("gitleaks", repo, gitleaks_env(gitleaks_binary), update)
    assert "0 fingerprint(s)" in again.summary  # nothing added twice
    token = fake_github_token("another")
    write(repo, {"deploy/other.sh": f"export GITHUB_TOKEN={token}\n"})
    commit_all(repo, "another secret")
    new = gate("gitleaks", repo, gitleaks_env(gitleaks_binary))
    assert new.status == "failed"
    assert {(f.path, f.line) for f in new.findings} == {("deploy/other.sh", 1)}


def test_gitleaks_in_a_depth_1_ci_clone_scans_exactly_the_changes_commits(
    tmp_path: Path, gitleaks_binary: Path
) -> None:
    """actions/checkout's default clone: the base branch is fetched and the clone
    deepened, so the old secret of the base's history is not the change's, the new one
    is; with the remote gone the commits to scan are unknown: an error naming
    fetch-depth: 0, never a pass."""
    origin = tmp_path / "origin"
    old = fake_github_token("old")
    write(origin, {"old.sh": f"export GITHUB_TOKEN={old}\n"})
    commit_all(origin, "an old secret, on main")
    git(origin, "checkout", "-q", "-b", "feature")
    for i in range(3):
        write(origin, {f"notes/{i}.txt": f"{i}\n"})
        commit_all(origin, f"note {i}")
    write(origin, {"new.sh": f"export GITHUB_TOKEN={fake_github_token('new')}\n"})
    commit_all(origin, "a new secret")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{origin}", "clone")
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    result = gate(
        "gitleaks", clone, gitleaks_env(gitleaks_binary, DJANGO_GATES_RUN_SINCE="origin/main")
    )
    assert result.status == "failed", result.summary
    assert {(f.path, f.line) for f in result.findings} == {("new.sh", 1)}

    again = tmp_path / "again"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{origin}", "again")
    git(again, "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    shutil.rmtree(origin / ".git")
    blind = gate(
        "gitleaks", again, gitleaks_env(gitleaks_binary, DJANGO_GATES_RUN_SINCE="origin/main")
    )
    assert blind.status == "error"
    assert "fetch-depth: 0" in blind.summary


def test_gitleaks_unknown_base_ref_is_an_error(
    leaky_repo: tuple[Path, str, str], gitleaks_binary: Path
) -> None:
    repo, _base, _token = leaky_repo
    result = gate(
        "gitleaks", repo, gitleaks_env(gitleaks_binary, DJANGO_GATES_RUN_SINCE="origin/nope")
    )
    assert result.status == "error"
    assert "fetch-depth: 0" in result.summary


def test_gitleaks_dir_mode_outside_git(tmp_path: Path, gitleaks_binary: Path) -> None:
    token = fake_github_token("dir-mode")
    write(tmp_path, {"settings_local.py": f'GITHUB_TOKEN = "{token}"\n'})
    result = gate("gitleaks", tmp_path, gitleaks_env(gitleaks_binary))
    assert result.status == "failed"
    assert "scanned the project files" in result.summary
    assert {f.path for f in result.findings} == {"settings_local.py"}
    assert token not in json.dumps(result.to_dict())


def test_gitleaks_git_mode_outside_git_is_an_error(tmp_path: Path, gitleaks_binary: Path) -> None:
    result = gate(
        "gitleaks", tmp_path, gitleaks_env(gitleaks_binary, DJANGO_GATES_GITLEAKS_SCAN="git")
    )
    assert result.status == "error"
    assert 'scan = "dir"' in result.summary


def test_gitleaks_project_in_a_subdirectory_gets_project_paths(
    tmp_path: Path, gitleaks_binary: Path
) -> None:
    repo = tmp_path / "repo"
    write(repo, {"README": "x\n", "backend/pyproject.toml": ""})
    base = commit_all(repo, "initial")
    token = fake_github_token("subdir")
    write(repo, {"backend/app/conf.py": f'TOKEN = "{token}"\n'})
    commit_all(repo, "token")
    result = gate(
        "gitleaks", repo / "backend", gitleaks_env(gitleaks_binary, DJANGO_GATES_RUN_SINCE=base)
    )
    assert result.status == "failed"
    assert {f.path for f in result.findings} == {"app/conf.py"}


def test_gitleaks_missing_binary_fails_closed(tmp_path: Path) -> None:
    result = gate(
        "gitleaks", tmp_path, {"DJANGO_GATES_GITLEAKS_COMMAND": "gitleaks-not-installed-here"}
    )
    assert result.status == "error"
    assert "not on PATH" in result.summary


# ------------------------------------------------------------------- pip-audit


def osv_env(server: OsvServer) -> dict[str, str]:
    return {"DJANGO_GATES_PIP_AUDIT_SERVICE": "osv", "DJANGO_GATES_PIP_AUDIT_OSV_URL": server.url}


def test_pip_audit_reports_a_real_advisory_with_fix_version(
    tmp_path: Path, osv_server: OsvServer
) -> None:
    write(
        tmp_path,
        {"requirements.txt": "# runtime\nwhitenoise==6.12.0\nDjango==4.2\n"},
    )
    result = gate("pip-audit", tmp_path, osv_env(osv_server))
    assert result.status == "failed"
    (finding,) = result.findings
    # pip-audit's own primary id: it prefers PYSEC and CVE ids, the others are aliases.
    assert finding.code == "pip-audit:CVE-2023-31047"
    assert finding.object == "django==4.2"
    assert (finding.path, finding.line) == ("requirements.txt", 3)
    assert "(GHSA-r3xc-prgr-mg9p)" in finding.message
    assert "Fixed in: 4.2.1." in finding.message
    assert "django==4.2.1" in finding.hint
    assert "2 of 2 dependencies of requirements.txt audited" in result.summary
    # The PROJECT's pins were audited, not the environment running the gate.
    asked = {(q["package"]["name"], q["version"]) for q in osv_server.queries}
    assert asked == {("django", "4.2"), ("whitenoise", "6.12.0")}


def test_pip_audit_fixed_pin_passes(tmp_path: Path, osv_server: OsvServer) -> None:
    write(tmp_path, {"requirements.txt": "Django==4.2.1\n"})
    result = gate("pip-audit", tmp_path, osv_env(osv_server))
    assert result.status == "passed", result.summary


def test_pip_audit_follows_included_requirement_files(
    tmp_path: Path, osv_server: OsvServer
) -> None:
    write(
        tmp_path,
        {
            "requirements/base.txt": "Django==4.1.0\n",
            "requirements/dev.txt": "-r base.txt\nwhitenoise==6.12.0\n",
        },
    )
    result = gate(
        "pip-audit",
        tmp_path,
        {**osv_env(osv_server), "DJANGO_GATES_PIP_AUDIT_REQUIREMENTS": "requirements/dev.txt"},
    )
    (finding,) = result.findings
    assert (finding.path, finding.line) == ("requirements/base.txt", 1)
    # pip-audit names the fixed versions of the advisory's last affected range.
    assert "django==4.2.1" in finding.hint


def test_pip_audit_ignore_needs_a_reason_and_unused_ones_are_reported(
    tmp_path: Path, osv_server: OsvServer
) -> None:
    write(
        tmp_path,
        {
            "requirements.txt": "Django==4.2\n",
            "pyproject.toml": """
                [[tool.django-gates.pip-audit.ignore]]
                id = "GHSA-r3xc-prgr-mg9p"
                reason = "we never accept multiple uploads in one field"

                [[tool.django-gates.pip-audit.ignore]]
                id = "GHSA-xxxx-xxxx-xxxx"
                reason = "old"
            """,
        },
    )
    result = gate("pip-audit", tmp_path, osv_env(osv_server))
    assert result.status == "passed"
    assert [(f.code, f.severity, f.object) for f in result.findings] == [
        ("pip-audit:unused-ignore", "warning", "GHSA-xxxx-xxxx-xxxx")
    ]
    write(
        tmp_path,
        {"pyproject.toml": '[[tool.django-gates.pip-audit.ignore]]\nid = "CVE-1"\n'},
    )
    with pytest.raises(config.ConfigError, match="non-empty 'reason'"):
        gate("pip-audit", tmp_path, osv_env(osv_server))


def test_pip_audit_unaudited_dependency_fails_unless_allowed(
    tmp_path: Path, osv_server: OsvServer
) -> None:
    requirement = "mylib @ https://example.invalid/mylib-1.0.tar.gz\n"
    write(tmp_path, {"requirements.txt": "Django==4.2.1\n" + requirement})
    result = gate("pip-audit", tmp_path, osv_env(osv_server))
    assert result.status == "failed"
    (finding,) = result.findings
    assert finding.code == "pip-audit:unaudited"
    assert "could not be audited" in finding.message
    write(
        tmp_path,
        {
            "pyproject.toml": """
                [[tool.django-gates.pip-audit.allow_unaudited]]
                package = "MyLib"
                reason = "internal package, audited in its own repository"
            """
        },
    )
    allowed = gate("pip-audit", tmp_path, osv_env(osv_server))
    assert allowed.status == "passed", allowed.findings


def test_pip_audit_unreachable_service_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "Django==4.2\n"})
    url = f"http://127.0.0.1:{unused_port()}/v1/query"
    result = gate(
        "pip-audit",
        tmp_path,
        {
            "DJANGO_GATES_PIP_AUDIT_SERVICE": "osv",
            "DJANGO_GATES_PIP_AUDIT_OSV_URL": url,
            "DJANGO_GATES_PIP_AUDIT_TIMEOUT": "3",
        },
    )
    assert result.status == "error"
    assert f"the OSV vulnerability service ({url}) could not be used" in result.summary


def test_pip_audit_unpinned_requirement_is_an_error(tmp_path: Path, osv_server: OsvServer) -> None:
    write(tmp_path, {"requirements.txt": "Django>=4.2\n"})
    result = gate("pip-audit", tmp_path, osv_env(osv_server))
    assert result.status == "error"
    assert "not pinned" in result.summary


def test_pip_audit_without_declared_dependencies_is_an_error(tmp_path: Path) -> None:
    result = gate("pip-audit", tmp_path)
    assert result.status == "error"
    assert "no declared dependencies" in result.summary
