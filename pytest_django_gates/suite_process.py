"""The test suite's process under ``django-gates run``: stopped as a group, its coverage kept aside.

**Stopping.** pytest runs in a session of its own (``start_new_session``), so
that it and everything it starts (pytest-xdist workers) form one process group
that can be signalled at once. On Ctrl-C (``KeyboardInterrupt``) or SIGTERM
(:class:`~pytest_django_gates.interrupts.Terminated`) the group gets that same
signal (SIGINT or SIGTERM), :data:`STOP_GRACE_SECONDS` to exit, then SIGKILL,
and the exception goes on: the run's temporary directory is removed on the way
out and ``django-gates`` prints one line and exits 130 or 143. A second Ctrl-C
while waiting skips the rest of the wait. A suite over ``[tool.django-gates.run]
timeout`` is stopped the same way (SIGTERM, grace, SIGKILL), workers included.

**Coverage data.** pytest-cov erases the coverage data file when it starts and
writes it when the session ends, so a run stopped half way would lose the
project's previous ``.coverage`` (or leave a partial one). The suite therefore
writes its data file in the run's temporary directory (``COVERAGE_FILE``; a copy
of the existing file is put there first, for ``--cov-append``), and the file is
copied to where coverage.py would have written it, atomically (a temporary file that
coverage.py's ``combine`` does not take for a data file, then a rename), only when
pytest ran to its end (exit 0, 1 or 5). Where that is: ``COVERAGE_FILE`` of the run's
environment, else the ``data_file`` of the coverage configuration
(``--cov-config`` in ``[tool.django-gates.run] pytest_args``, else the usual
files) read from the project root; when coverage.py is not installed next to
django-gates, the data file cannot be located and the suite writes it where it
always does. The coverage gate itself reads the session's data in memory, so
where the file goes does not change what it checks; a data file that cannot be
put in place (its directory is gone) is a warning of the ``tests`` gate,
``tests:coverage-data``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pytest_django_gates import interrupts

STOP_GRACE_SECONDS = 10.0
# pytest ran the session to its end: tests passed, failed, or none were collected.
COMPLETED = (0, 1, 5)
# PYTHONHASHSEED of the test suites django-gates starts (run, init --baselines), unless
# the caller's environment sets one: str hashes, so set and dict-of-set iteration orders,
# are then the same in every run, and a test whose queries follow such an order (one
# lookup per element until a match) runs the same number of them every time. Measured on
# EvaP: one test ran 84 or 85 queries from run to run, 84 in four of four with it.
HASH_SEED = "0"


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    progress: Callable[[float], None] | None = None,
    every: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run the suite to completion in its own process group; stop the group on the way out.

    ``progress`` is called every ``every`` seconds while the suite runs, with the
    seconds elapsed (the output is read all the while, so the suite never blocks).
    Raises ``subprocess.TimeoutExpired`` (the group stopped), ``OSError`` when it
    cannot start, and re-raises ``KeyboardInterrupt`` / ``Terminated`` after
    forwarding the signal.
    """
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    started = time.monotonic()
    try:
        while True:
            left = timeout - (time.monotonic() - started)
            try:
                stdout, stderr = proc.communicate(
                    timeout=max(0.0, min(left, every) if progress else left)
                )
                break
            except subprocess.TimeoutExpired:
                # communicate() may be called again without losing output (subprocess docs)
                if progress is None or time.monotonic() - started >= timeout:
                    raise
                progress(time.monotonic() - started)
    except subprocess.TimeoutExpired:
        stop(proc, signal.SIGTERM)
        raise
    except KeyboardInterrupt as exc:
        stop(proc, signal.SIGTERM if isinstance(exc, interrupts.Terminated) else signal.SIGINT)
        raise
    except BaseException:
        stop(proc, signal.SIGKILL)
        raise
    return subprocess.CompletedProcess(list(argv), proc.returncode, stdout, stderr)


def stop(proc: subprocess.Popen[str], signum: int, grace: float = STOP_GRACE_SECONDS) -> None:
    """Send ``signum`` to the process group of ``proc``, wait ``grace`` seconds, then SIGKILL."""
    _signal_group(proc.pid, signum)
    if signum != signal.SIGKILL:
        # Reading its output, so that it never blocks writing; too slow, or a second
        # Ctrl-C, and there is no more waiting.
        with contextlib.suppress(subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.communicate(timeout=grace)
    # Whatever is left of the group (workers outliving pytest) goes now.
    _signal_group(proc.pid, signal.SIGKILL)
    proc.kill()
    try:
        proc.communicate(timeout=grace)
    except subprocess.TimeoutExpired:  # a process outside the group holds the pipes open
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pgid, signum)


class CoverageFile:
    """The suite's coverage data file, kept in ``tmp`` until the run completes."""

    def __init__(self, target: Path | None, tmp: Path) -> None:
        self.target = target
        self.staged = tmp / target.name if target is not None else None

    @classmethod
    def plan(
        cls, rootdir: Path, environ: Mapping[str, str], pytest_args: Sequence[str], tmp: Path
    ) -> CoverageFile:
        return cls(data_file(rootdir, environ, pytest_args), tmp)

    def prepare(self, env: dict[str, str], *, with_existing: bool = True) -> None:
        """Point the suite's coverage at the staged file (with a copy of the existing data,
        if any, unless ``with_existing`` is false)."""
        if self.target is None or self.staged is None:
            return
        if with_existing and self.target.is_file():
            # Unreadable: then only --cov-append misses the old data, as it would anyway.
            with contextlib.suppress(OSError):
                shutil.copy2(self.target, self.staged)
        env["COVERAGE_FILE"] = str(self.staged)

    def keep(self) -> str:
        """Move the data of a completed run into place, atomically; why not, or ""."""
        if self.target is None or self.staged is None or not self.staged.is_file():
            return ""
        from pytest_django_gates.report import WriteError, atomic_write_bytes

        try:
            atomic_write_bytes(self.target, self.staged.read_bytes())
        except (OSError, WriteError) as exc:
            return f"the coverage data of this run could not be written to {self.target}: {exc}"
        return ""


def data_file(rootdir: Path, environ: Mapping[str, str], pytest_args: Sequence[str]) -> Path | None:
    """Where pytest-cov, run in ``rootdir``, would write its data file (None: unknown)."""
    given = environ.get("COVERAGE_FILE")
    if given:
        return _absolute(Path(given), rootdir)
    try:
        import coverage
    except ImportError:
        return None
    from pytest_django_gates.coverage.data import chdir

    config_file: str | bool = _cov_config(pytest_args) or True
    try:
        with chdir(rootdir):
            cov = coverage.Coverage(data_file=None, config_file=config_file)
    except Exception:  # a broken coverage configuration: pytest-cov will say so itself
        return None
    return _absolute(Path(str(cov.config.data_file)), rootdir)


def _cov_config(pytest_args: Sequence[str]) -> str | None:
    words = list(pytest_args)
    for i, word in enumerate(words):
        if word.startswith("--cov-config="):
            return word.split("=", 1)[1]
        if word == "--cov-config" and i + 1 < len(words):
            return words[i + 1]
    return None


def _absolute(path: Path, rootdir: Path) -> Path:
    return path if path.is_absolute() else rootdir / path
