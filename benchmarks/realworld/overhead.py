"""CPU-time overhead of the query gate on real projects' suites, side by side with django-zeal.

For each project already set up by ``run.py`` (its sdist unpacked and its virtualenv
built in the work directory), runs its suite serially (``-p no:xdist``: one process
tree, so the CPU time of the run is the CPU time of its child), interleaved round by
round, three ways:

* ``plain``: the suite as it is;
* ``gates``: ``--django-gates --gates-n-plus-one=report`` (the query gate, its report
  written; N+1s reported, not failed, so every run does the same work);
* ``zeal``: django-zeal (``ZEAL_VERSION``, installed into the project's virtualenv on
  first use) around every test, as its documentation says for pytest (an autouse
  ``zeal_context()``), through a small plugin module given with ``-p``: it patches
  Django once the app registry is ready (what ``ZealConfig.ready`` does, since the
  project's settings do not list the app) and sets ``ZEAL_RAISE = False`` so an N+1
  is a warning and no test stops early (the gates' report mode).

Every variant runs with Python's bytecode cache on (``PYTHONPYCACHEPREFIX``, a fresh
directory per invocation, warmed by one discarded round of each variant): what a
developer's machine and a wheel install have. ``run.py`` turns the cache off
(``PYTHONDONTWRITEBYTECODE``), which would charge the plugin, installed editable from
this checkout, the compilation of its own sources on every run while django-zeal,
installed from its wheel, has its bytecode; the fixed start-up without any cache is
measured apart by ``benchmarks/bench_startup.py``.

It prints, per project, the median user+system CPU seconds of each, and the median
of the per-round ratios to plain with their range (min-max over the rounds). The
target of issue 21 is at most 1.03x. Nothing here is a test: it measures.

Usage::

    python benchmarks/realworld/overhead.py [--project NAME ...] [--repeat N] [--workdir DIR]
        [--no-zeal]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as harness  # the harness beside this file


def cpu_seconds(command: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """User+system CPU seconds of one child process tree, and its exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        list(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return used, done.returncode


ZEAL_VERSION = "2.3.0"

# The plugin module that turns django-zeal on around every test (see the docstring).
ZEAL_PLUGIN = """
import pytest

_patched = []


@pytest.fixture(autouse=True)
def _djg_bench_zeal():
    if not _patched:
        from django.conf import settings
        from zeal.constants import initialize_app_registry
        from zeal.patch import patch

        settings.ZEAL_RAISE = False
        initialize_app_registry()
        patch()
        _patched.append(True)
    from zeal import zeal_context

    with zeal_context():
        yield
"""


def ensure_zeal(python: Path) -> None:
    """django-zeal in the project's virtualenv (pinned), installed once."""
    found = subprocess.run(
        [str(python), "-c", "import zeal"], capture_output=True, check=False
    ).returncode
    if found != 0:
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                f"django-zeal=={ZEAL_VERSION}",
            ],
            check=True,
        )


@dataclass(frozen=True)
class SerialSuite:
    """How to run a project's suite serially (set up in the work directory by run.py)."""

    python: Path  # the project's virtualenv's python
    cwd: Path  # where pytest runs
    env: dict[str, str]  # run.py's environment, Python's bytecode cache on
    command: list[str]  # plain pytest, serial, the project's arguments and deselections


def serial_suite(
    project: harness.Project,
    workdir: Path,
    tests: Sequence[str] | None = None,
    *,
    plugins_off: Sequence[str] = (),
) -> SerialSuite:
    """The project's suite (or ``tests``), serial (``-p no:xdist``), without pytest's
    cache and the ``plugins_off``; exits when run.py has not set the project up."""
    src = workdir / "src" / project.sdist.removesuffix(".tar.gz")
    python = workdir / "venvs" / project.name / "bin" / "python"
    if not python.is_file() or not src.is_dir():
        raise SystemExit(f"{project.name}: not set up in {workdir}: run run.py first")
    env = harness.run_env(project, src, python)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # see the module docstring
    command = [str(python), "-m", "pytest", *(tests or project.test_paths), "-p", "no:xdist"]
    command += ["-p", "no:cacheprovider"]
    for name in plugins_off:
        command += ["-p", f"no:{name}"]
    command += ["-q", *project.pytest_args]
    for entry in project.deselect:
        command += ["--deselect", entry.id]
    return SerialSuite(python, src / project.cwd, env, command)


def measure(
    project: harness.Project, workdir: Path, repeat: int, zeal: bool
) -> dict[str, list[float]]:
    """CPU seconds of each round, by variant (plain, gates, zeal)."""
    suite = serial_suite(project, workdir)
    python, env, base = suite.python, suite.env, suite.command
    times: dict[str, list[float]] = {"plain": [], "gates": []}
    with tempfile.TemporaryDirectory() as tmp:
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "bytecode")
        report = Path(tmp) / "report.json"
        variants = {
            "plain": (base, env),
            "gates": (
                [*base, "--django-gates", "--gates-n-plus-one=report", f"--gates-report={report}"],
                env,
            ),
        }
        if zeal:
            ensure_zeal(python)
            (Path(tmp) / "djg_bench_zeal.py").write_text(ZEAL_PLUGIN, encoding="utf-8")
            path = os.pathsep.join(p for p in (tmp, env.get("PYTHONPATH", "")) if p)
            variants["zeal"] = ([*base, "-p", "djg_bench_zeal"], {**env, "PYTHONPATH": path})
            times["zeal"] = []
        for round_ in range(repeat + 1):  # round 0 warms the bytecode cache
            for name, (command, variant_env) in variants.items():
                seconds, code = cpu_seconds(command, suite.cwd, variant_env)
                if code not in (0, 1):
                    raise SystemExit(f"{project.name}: {name} run exited {code}")
                if round_:
                    times[name].append(seconds)
    return times


def ratio_text(times: dict[str, list[float]], name: str) -> str:
    ratios = [t / p for t, p in zip(times[name], times["plain"], strict=True)]
    return f"{statistics.median(ratios):.3f}x ({min(ratios):.3f}-{max(ratios):.3f})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--project", action="append", default=None, metavar="NAME")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=harness.DEFAULT_WORKDIR)
    parser.add_argument("--config", type=Path, default=harness.CONFIG)
    parser.add_argument("--no-zeal", action="store_true", help="leave django-zeal out")
    args = parser.parse_args(argv)
    _common, projects = harness.load_config(args.config)
    names = args.project or list(projects)
    print(
        "| project | plain CPU s | gates CPU s | gates / plain (range) "
        + ("| django-zeal CPU s | zeal / plain (range) |" if not args.no_zeal else "|")
    )
    print("|---|---:|---:|---:|" + ("---:|---:|" if not args.no_zeal else ""))
    for name in names:
        times = measure(projects[name], args.workdir, args.repeat, not args.no_zeal)
        row = (
            f"| {name} | {statistics.median(times['plain']):.2f} "
            f"| {statistics.median(times['gates']):.2f} | {ratio_text(times, 'gates')} |"
        )
        if "zeal" in times:
            row += f" {statistics.median(times['zeal']):.2f} | {ratio_text(times, 'zeal')} |"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
