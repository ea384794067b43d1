"""Concurrent writers of one file, and the temporary files killed writers leave (issue 24 §4).

Design under test (see :mod:`pytest_django_gates.report`): every write is atomic and the
last writer wins; a temporary file is named for its process, and the next write of the
same target removes those of processes that no longer exist, never a live writer's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_django_gates import report
from pytest_django_gates.report import atomic_write_text, remove_stray_temp_files
from pytest_django_gates.suite_process import CoverageFile
from tests.helpers import clean_env, runs_once
from tests.robustness import runs
from tests.robustness.support import no_leftovers

pytestmark = runs_once()

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

WRITER = """
import sys
from pathlib import Path
from pytest_django_gates.report import atomic_write_text
target, letter = Path(sys.argv[1]), sys.argv[2]
for _ in range(40):
    atomic_write_text(target, letter * 300_000 + "\\n")
"""


def test_concurrent_atomic_writes_are_each_one_writers_whole_content(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    letters = "abc"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(target), letter], env=clean_env())
        for letter in letters
    ]
    wholes = {letter * 300_000 + "\n" for letter in letters}
    reads = 0
    while any(w.poll() is None for w in writers):
        if target.exists():
            assert target.read_text(encoding="utf-8") in wholes
            reads += 1
    assert [w.wait() for w in writers] == [0, 0, 0]
    assert target.read_text(encoding="utf-8") in wholes  # the last writer's
    assert reads > 0
    no_leftovers(tmp_path)


def _temp_name(target: Path, pid: int, host: str | None = None) -> Path:
    return target.with_name(f".{target.name}.djg-{host or report._host_tag()}-{pid}.x1y2z3.tmp")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@linux
def test_the_next_write_removes_the_temporary_files_of_dead_writers_only(
    tmp_path: Path,
) -> None:
    target = tmp_path / "queries-baseline.json"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    zombie = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        zombie.kill()
        while not runs.gone(zombie.pid):  # killed, not reaped yet
            time.sleep(0.01)
        dead = _temp_name(target, _dead_pid())
        of_zombie = _temp_name(target, zombie.pid)
        kept = [
            _temp_name(target, live.pid),  # a live concurrent writer's
            _temp_name(target, os.getpid()),  # this process's own
            _temp_name(target, _dead_pid(), host="000000"),  # another host's: PIDs differ
            _temp_name(tmp_path / "report.json", _dead_pid()),  # another target's
            tmp_path / f".{target.name}.abcd1234.tmp",  # not named for a process
            tmp_path / f"{target.name}.notes.tmp",  # the project's own
        ]
        for path in [dead, of_zombie, *kept]:
            path.write_text("partial", encoding="utf-8")
        atomic_write_text(target, "{}\n")
        assert target.read_text(encoding="utf-8") == "{}\n"
        assert not dead.exists()
        assert not of_zombie.exists()
        assert [p for p in kept if not p.exists()] == []
        assert remove_stray_temp_files(target) == []
    finally:
        live.kill()
        live.wait()
        zombie.wait()


def test_a_temporary_file_names_its_process(tmp_path: Path) -> None:
    """The name :func:`remove_stray_temp_files` relies on, caught mid-write."""
    target = tmp_path / "r.json"
    seen: list[str] = []
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        seen.append(Path(src).name)
        real_replace(src, dst)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "replace", replace)
        atomic_write_text(target, "x")
    (name,) = seen
    assert name.startswith(f".r.json.djg-{report._host_tag()}-{os.getpid()}.")
    assert name.endswith(".tmp")


@linux
def test_kept_coverage_data_is_written_atomically_and_sweeps_strays(tmp_path: Path) -> None:
    """The coverage data ``django-gates run`` keeps: a temporary name coverage.py's
    ``combine`` does not take for a parallel data file (``.coverage.*``), the mode of the
    file it replaces, and the strays of a killed run removed."""
    staged_dir = tmp_path / "run"
    staged_dir.mkdir()
    target = tmp_path / ".coverage"
    target.write_bytes(b"old")
    target.chmod(0o640)
    stray = _temp_name(target, _dead_pid())
    stray.write_bytes(b"half")
    kept = CoverageFile(target, staged_dir)
    assert kept.staged is not None
    kept.staged.write_bytes(b"new data")
    assert kept.keep() == ""
    assert target.read_bytes() == b"new data"
    assert target.stat().st_mode & 0o777 == 0o640
    assert not stray.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".coverage.")] == []


def _start(root: Path, argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *argv],
        cwd=root,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "pytest_django_gates", *runs.RUN_ARGS],
        [
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--django-gates",
            "--gates-update-baseline",
            "--gates-report=report.json",
        ],
    ],
    ids=["django-gates-run", "pytest"],
)
def test_two_runs_at_once_leave_each_file_whole(tmp_path: Path, argv: list[str]) -> None:
    root = runs.project(tmp_path)
    for _ in range(2):
        procs = [_start(root, argv), _start(root, argv)]
        while any(p.poll() is None for p in procs):
            assert runs.broken_targets(root) == {}
            time.sleep(0.05)
        for proc in procs:
            code, err = runs.finish(proc)
            assert code == 0, err[-3000:]
            assert "Traceback" not in err, err[-3000:]
        assert runs.broken_targets(root) == {}
        assert runs.temp_files(root) == []
    assert (root / "report.json").is_file()
    assert (root / ".django-gates/queries-baseline.json").is_file()


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from pytest_django_gates.report import atomic_write_text

os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)  # killed just before it
atomic_write_text(Path(sys.argv[1]), "new\\n")
"""


@linux
def test_a_writer_killed_before_the_rename_leaves_a_stray_the_next_write_removes(
    tmp_path: Path,
) -> None:
    target = tmp_path / ".django-gates" / "ruff-baseline.json"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(target)], env=clean_env(), check=False
    )
    assert proc.returncode == -9
    assert target.read_text(encoding="utf-8") == "old\n"
    (stray,) = runs.temp_files(tmp_path)
    assert Path(stray).name.startswith(f".ruff-baseline.json.djg-{report._host_tag()}-")
    atomic_write_text(target, "next\n")
    assert target.read_text(encoding="utf-8") == "next\n"
    assert runs.temp_files(tmp_path) == []
