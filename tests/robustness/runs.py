"""A small real project for the concurrent- and interrupted-run tests, the files its run
writes, how to tell each one is whole, and how to kill a run (issue 24 §4).

The project has a passing test that makes one query, ruff with one finding, and a query
baseline that the suite rewrites; ``django-gates run --update-baselines --report
--output`` in it writes :data:`TARGETS`: the report, the output, the ruff and query
baselines and the coverage data.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from pytest_django_gates.report import Report
from tests.cli.test_cli_run import MINI_SETTINGS
from tests.cli.test_cli_run import PYPROJECT as CLI_PYPROJECT
from tests.helpers import clean_env

SETTINGS = MINI_SETTINGS

# The run tests' project, with the gates that write files: the ruff gate, the query
# baseline (updated every run) and the coverage data kept by django-gates run.
PYPROJECT = (
    CLI_PYPROJECT
    + """
[tool.django-gates]
gates = ["ruff", "queries", "coverage"]

[tool.django-gates.queries]
baseline = ".django-gates/queries-baseline.json"
update_baseline = true
"""
)

TEST = """
import pytest
from django.contrib.auth.models import User


@pytest.mark.django_db
def test_counts_users() -> None:
    assert User.objects.count() == 0
"""

RUN = ["run", "--update-baselines", "--report", "report.json", "--format", "json"]
RUN_ARGS = [*RUN, "--output", "output.json"]


def project(root: Path) -> Path:
    files = {
        "pyproject.toml": PYPROJECT,
        "mini_settings.py": SETTINGS,
        "app.py": "import os\n",
        "tests/__init__.py": "",
        "tests/test_users.py": TEST,
        ".django-gates/.keep": "",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def _report(data: bytes) -> None:
    Report.from_dict(json.loads(data), "report")


def _ruff_baseline(data: bytes) -> None:
    loaded = json.loads(data)
    assert loaded["gate"] == "ruff", loaded
    assert len(loaded["findings"]) == 1, loaded


def _query_baseline(data: bytes) -> None:
    loaded = json.loads(data)
    assert loaded["tests"] == {"tests/test_users.py::test_counts_users": 1}, loaded


def _coverage_data(path: Path) -> None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM file").fetchone()[0] > 0
    db.close()


# Each file a run writes, and a check that raises unless it is whole.
TARGETS: dict[str, Callable[[Path], None]] = {
    "report.json": lambda p: _report(p.read_bytes()),
    "output.json": lambda p: _report(p.read_bytes()),
    ".django-gates/ruff-baseline.json": lambda p: _ruff_baseline(p.read_bytes()),
    ".django-gates/queries-baseline.json": lambda p: _query_baseline(p.read_bytes()),
    ".coverage": _coverage_data,
}


def broken_targets(root: Path) -> dict[str, str]:
    """The targets present but not whole: name -> why (each may also be absent)."""
    broken = {}
    for name, check in TARGETS.items():
        path = root / name
        if not path.exists():
            continue
        try:
            check(path)
        except Exception as exc:  # any failure to read it back is the finding
            broken[name] = f"{type(exc).__name__}: {exc}"
    return broken


def temp_files(root: Path) -> list[str]:
    """Temporary files of atomic writes anywhere in the project."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.tmp")
        if "__pycache__" not in p.parts and ".pytest_cache" not in p.parts
    )


def start(root: Path, args: Iterable[str] = RUN_ARGS) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest_django_gates", *args],
        cwd=root,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[bytes], timeout: float = 120) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err.decode("utf-8", "replace")


# ------------------------------------------------------------------ processes (Linux)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                line = fh.read()
        except OSError:
            continue
        fields = line[line.rfind(b")") + 2 :].split()
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    tree = _children()
    found, todo = [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def gone(pid: int) -> bool:
    """The process has exited (or is a zombie: it runs no more code)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            line = fh.read()
    except OSError:
        return True
    return line[line.rfind(b")") + 2 : line.rfind(b")") + 3] == b"Z"


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def kill(proc: subprocess.Popen[bytes], *, tree: bool) -> list[int]:
    """SIGKILL the run: with ``tree``, it and every process it started, all frozen first
    (as a cancelled CI job or an OOM kill of the container does); else only the
    ``django-gates`` process (``kill -9 PID``), whose test suite then runs on as an
    orphan. The processes left running (the orphans)."""
    if proc.stderr is not None:
        proc.stderr.close()
    if not tree:
        orphans = descendants(proc.pid)
        _signal(proc.pid, signal.SIGKILL)
        proc.wait()
        return orphans
    _signal(proc.pid, signal.SIGSTOP)
    frozen = [proc.pid]
    while True:
        new = [p for p in descendants(proc.pid) if p not in frozen]
        if not new:
            break
        for pid in new:
            _signal(pid, signal.SIGSTOP)
        frozen.extend(new)
    for pid in frozen:
        _signal(pid, signal.SIGKILL)
    proc.wait()
    wait_gone(frozen)
    return []


def wait_gone(pids: Iterable[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    for pid in pids:
        while not gone(pid):
            assert time.monotonic() < deadline, f"process {pid} still running"
            time.sleep(0.02)
