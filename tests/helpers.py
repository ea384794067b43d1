"""Helpers for end-to-end tests: run pytest or django-gates as real subprocesses."""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent

# pytest-randomly (a test dependency) is loaded by every pytest run once installed. The
# runs the tests make keep their order: ``PYTEST_ADDOPTS`` blocks it, and a run whose
# point is a random order turns it back on with ``-p randomly`` on its command line.
NO_RANDOMLY = "-p no:randomly"

# Tests of what does not depend on Django's version (the external tools, signals, file
# writes, hostile configuration, baseline and report files, the action's script) run in
# two series of tests/run.sh (ONCE_SERIES: the act series and the coverage series), which
# set DJANGO_GATES_ONCE_TESTS=run; the other whole-suite series set "skip" to stay within
# CI's hour. A plain ``pytest`` runs them.
ONCE_SWITCH = "DJANGO_GATES_ONCE_TESTS"
ONCE_REASON = (
    "independent of Django's version: runs in tests/run.sh's ONCE_SERIES, not this one "
    f"({ONCE_SWITCH}=skip)"
)


def runs_once() -> pytest.MarkDecorator:
    """The mark of a module that :data:`ONCE_SWITCH` skips."""
    return pytest.mark.skipif(os.environ.get(ONCE_SWITCH) == "skip", reason=ONCE_REASON)


def default_sigint() -> None:
    """``preexec_fn`` of a child the test interrupts with SIGINT: the default disposition,
    so that Python installs its Ctrl-C handler in it. A shell that starts a command in
    the background without job control (``cmd &`` in a script) makes it ignore SIGINT,
    and an ignored signal stays ignored across ``exec``: the child would never see the
    Ctrl-C the test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_GATES_", "PYTEST_"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    env.pop("GITHUB_BASE_REF", None)  # would switch gates to "changed since the PR base"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTEST_ADDOPTS"] = NO_RANDOMLY
    if extra:
        env.update(extra)
    return env


def run(
    args: list[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_pytest(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd, env)


def git(root: Path, *args: str) -> str:
    """``git`` in ``root`` with a committer set; its stdout. Fails on exit != 0."""
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def python_c(code: str) -> str:
    """Run ``code`` in a fresh interpreter (clean environment); its stdout. Fails on exit != 0."""
    proc = run([sys.executable, "-c", code], Path.cwd())
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def copy_project(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    return dest


def committed_project(src: Path, dest: Path, files: Mapping[str, str] = {}) -> Path:
    """A copy of ``src`` at ``dest`` with ``files`` (path relative to it -> text) written
    in, committed as a git repository's first commit (databases, caches and JSON reports
    ignored): a clean tree, as ``django-gates fix`` wants it."""
    root = copy_project(src, dest)
    for name, text in {".gitignore": "*.sqlite3\n__pycache__/\n*.json\n", **files}.items():
        (root / name).write_text(text, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "scenarios")
    return root


def load_report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def gate(report: Mapping[str, Any], name: str) -> dict[str, Any]:
    for g in report["gates"]:
        if g["name"] == name:
            return dict(g)
    raise AssertionError(f"no gate {name!r} in report: {[g['name'] for g in report['gates']]}")


def scenario_names(module: Path, prefix: str) -> list[str]:
    """The names of the test functions of ``module`` that start with ``prefix``, in order."""
    return [
        node.name
        for node in ast.parse(module.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith(prefix)
    ]
