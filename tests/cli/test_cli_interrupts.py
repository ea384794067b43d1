"""Ctrl-C and SIGTERM during ``django-gates run``, end to end.

``django-gates run`` is started as a real process on a small project whose tests
write a marker (their pid, their parent's pid) and then sleep; once the markers
are there the test sends SIGINT or SIGTERM and checks what a user would: the exit
code (130 / 143), one line on stderr, no process of the suite left (pytest and
its xdist workers), no ``django-gates-run-*`` directory left in TMPDIR, and the
project's previous ``.coverage`` untouched. A completed run does replace
``.coverage``, with the data the coverage gate checked.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_django_gates import suite_process
from tests.cli.test_cli_run import MINI_SETTINGS
from tests.cli.test_cli_run import PYPROJECT as RUN_PYPROJECT
from tests.cli.test_cli_tools import fake_tool
from tests.helpers import default_sigint, runs_once
from tests.migrations.migrations_support import clean_env

pytestmark = runs_once()

PYPROJECT = (
    RUN_PYPROJECT
    + """
[tool.coverage.run]
source = ["shop"]

[tool.django-gates]
gates = ["queries", "coverage"]

[tool.django-gates.run]
pytest_args = {pytest_args}
"""
)

SLOW_TESTS = """
import os
import signal
import time
from pathlib import Path

from shop.prices import total



def _started(name):
    if os.environ.get("IGNORE_SIGNALS"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # written whole under a hidden name, then renamed: the test never reads it half-made
    partial = Path(os.environ["MARKER_DIR"], f".{name}-{os.getpid()}")
    partial.write_text(str(os.getppid()), encoding="utf-8")
    partial.replace(partial.with_name(partial.name[1:]))


def test_slow_one():
    _started("one")
    assert total([1, 2]) == 3
    time.sleep(float(os.environ.get("SLEEP", "60")))


def test_slow_two():
    _started("two")
    time.sleep(float(os.environ.get("SLEEP", "60")))
"""

PRICES = """
def total(prices):
    return sum(prices)
"""

PREVIOUS_COVERAGE = b"the previous run's coverage data, kept as it was"


def write_project(root: Path, pytest_args: list[str]) -> Path:
    files = {
        "pyproject.toml": PYPROJECT.replace("{pytest_args}", json.dumps(pytest_args)),
        "mini_settings.py": MINI_SETTINGS,
        "shop/__init__.py": "",
        "shop/prices.py": PRICES,
        "tests/__init__.py": "",
        "tests/test_slow.py": SLOW_TESTS,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    (root / ".coverage").write_bytes(PREVIOUS_COVERAGE)
    return root


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its reaper does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Run:
    """``django-gates run`` as a real process, with the markers its tests write."""

    def __init__(self, tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
        self.markers = tmp_path / "markers"
        self.tmpdir = tmp_path / "tmp"
        self.markers.mkdir()
        self.tmpdir.mkdir()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pytest_django_gates", *args],
            env=clean_env({"MARKER_DIR": str(self.markers), "TMPDIR": str(self.tmpdir), **env}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=default_sigint,
        )

    def wait_for_markers(self, count: int) -> dict[int, int]:
        """pid -> parent pid of the ``count`` processes that wrote a marker."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            found = [p for p in self.markers.iterdir() if not p.name.startswith(".")]
            if len(found) >= count:
                return {int(p.name.rsplit("-", 1)[1]): int(p.read_text()) for p in found}
            if self.proc.poll() is not None:
                pytest.fail(f"django-gates run ended early: {self.proc.communicate()}")
            time.sleep(0.1)
        self.proc.kill()
        pytest.fail(f"no marker after 120 s: {self.proc.communicate()}")

    def finish(self, timeout: float) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


def assert_all_gone(pids: set[int]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    left = sorted(p for p in pids if alive(p))
    for pid in left:  # do not leave them to sleep on
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes of the suite still running: {left}"


def assert_one_line(err: str, expected: str) -> None:
    progress = ("django-gates run:", "[")
    assert [line for line in err.splitlines() if not line.startswith(progress)] == [expected]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        (signal.SIGINT, 130, "django-gates: interrupted; nothing was reported"),
        (signal.SIGTERM, 143, "django-gates: terminated (SIGTERM); nothing was reported"),
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_signal_stops_pytest_and_its_workers_and_keeps_the_previous_coverage(
    tmp_path: Path, signum: signal.Signals, code: int, line: str
) -> None:
    project = write_project(tmp_path / "project", ["-n", "2", "-p", "no:cacheprovider"])
    run = Run(tmp_path, ["--project", str(project), "run"], {})
    workers = run.wait_for_markers(2)
    suite = set(workers) | set(workers.values())  # the workers and the pytest controller
    assert len(suite) == 3, workers
    run.proc.send_signal(signum)
    returncode, out, err = run.finish(timeout=60)
    assert returncode == code, err
    assert out == ""
    assert_one_line(err, line)
    assert_all_gone(suite)
    assert not list(run.tmpdir.glob("django-gates-run-*"))
    assert (project / ".coverage").read_bytes() == PREVIOUS_COVERAGE
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".coverage")) == [
        ".coverage"
    ]


def test_a_suite_that_ignores_the_signal_is_killed_after_the_grace_period(
    tmp_path: Path,
) -> None:
    project = write_project(tmp_path / "project", ["-p", "no:cacheprovider"])
    run = Run(tmp_path, ["--project", str(project), "run"], {"IGNORE_SIGNALS": "1"})
    ((pid, _parent),) = run.wait_for_markers(1).items()
    started = time.monotonic()
    run.proc.send_signal(signal.SIGTERM)
    returncode, _out, err = run.finish(timeout=suite_process.STOP_GRACE_SECONDS + 30)
    waited = time.monotonic() - started
    assert returncode == 143
    assert_one_line(err, "django-gates: terminated (SIGTERM); nothing was reported")
    assert suite_process.STOP_GRACE_SECONDS - 1 <= waited < suite_process.STOP_GRACE_SECONDS + 20
    assert_all_gone({pid})
    assert not list(run.tmpdir.glob("django-gates-run-*"))
    assert (project / ".coverage").read_bytes() == PREVIOUS_COVERAGE


def test_a_completed_run_replaces_the_coverage_data_the_gate_checked(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", ["-n", "2", "-p", "no:cacheprovider"])
    run = Run(
        tmp_path,
        ["--project", str(project), "run", "--format", "json"],
        {"SLEEP": "0"},
    )
    returncode, out, err = run.finish(timeout=300)
    assert returncode == 0, err
    gates = {g["name"]: g for g in json.loads(out)["gates"]}
    assert gates["coverage"]["status"] == "passed", gates["coverage"]
    assert "total 100.00% (2/2 lines)" in gates["coverage"]["summary"]
    data = project / ".coverage"
    assert data.read_bytes().startswith(b"SQLite format 3")
    with sqlite3.connect(data) as db:
        measured = {
            Path(row[0]).relative_to(project).as_posix()
            for row in db.execute("select path from file")
        }
    assert "shop/prices.py" in measured
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".coverage")) == [
        ".coverage"
    ]
    assert not list(run.tmpdir.glob("django-gates-run-*"))


def test_coverage_data_that_cannot_be_put_in_place_is_a_warning(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", ["-p", "no:cacheprovider"])
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    (project / "pyproject.toml").write_text(
        text.replace('source = ["shop"]', 'source = ["shop"]\ndata_file = "no-such-dir/.coverage"')
    )
    run = Run(tmp_path, ["--project", str(project), "run", "--format", "json"], {"SLEEP": "0"})
    returncode, out, err = run.finish(timeout=300)
    gates = {g["name"]: g for g in json.loads(out)["gates"]}
    assert returncode == 0, err
    assert gates["coverage"]["status"] == "passed"
    (warning,) = gates["tests"]["findings"]
    assert (warning["code"], warning["severity"]) == ("tests:coverage-data", "warning")
    target = project / "no-such-dir" / ".coverage"
    assert f"could not be written to {target}" in warning["message"]
    assert not list(run.tmpdir.glob("django-gates-run-*"))


def test_signal_during_a_tool_gate_stops_the_tool(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", [])
    tool = fake_tool(
        tmp_path,
        "ruff",
        "ruff 0.17.5",
        """
        import os, pathlib, time
        partial = pathlib.Path(os.environ["MARKER_DIR"], f".ruff-{os.getpid()}")
        partial.write_text(str(os.getppid()))
        partial.replace(partial.with_name(partial.name[1:]))
        time.sleep(60)
        """,
    )
    run = Run(
        tmp_path,
        ["--project", str(project), "run", "--only", "ruff"],
        {"DJANGO_GATES_RUFF_COMMAND": str(tool)},
    )
    ((pid, _parent),) = run.wait_for_markers(1).items()
    run.proc.send_signal(signal.SIGTERM)
    returncode, out, err = run.finish(timeout=60)
    assert returncode == 143
    assert out == ""
    assert_one_line(err, "django-gates: terminated (SIGTERM); nothing was reported")
    assert_all_gone({pid})
