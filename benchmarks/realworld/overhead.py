"""CPU-time overhead of the query gate on real projects' suites (side by side, one run).

For each project already set up by ``run.py`` (its sdist unpacked and its virtualenv
built in the work directory), runs its suite serially (``-p no:xdist``: one process
tree, so the CPU time of the run is the CPU time of its child) alternately without
and with ``--django-gates --gates-n-plus-one=report``, ``--repeat`` times each, and
reports the median user+system CPU seconds and their ratio. The target is at most
1.05x. Nothing here is a test: it measures.

Usage::

    python benchmarks/realworld/overhead.py [--project NAME ...] [--repeat N] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
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


def measure(project: harness.Project, workdir: Path, repeat: int) -> tuple[float, float]:
    src = workdir / "src" / project.sdist.removesuffix(".tar.gz")
    python = workdir / "venvs" / project.name / "bin" / "python"
    if not python.is_file() or not src.is_dir():
        raise SystemExit(f"{project.name}: not set up in {workdir}: run run.py first")
    env = harness.run_env(project, src, python)
    base = [str(python), "-m", "pytest", *project.test_paths, "-p", "no:xdist"]
    base += ["-p", "no:cacheprovider", "-q", *project.pytest_args]
    for entry in project.deselect:
        base += ["--deselect", entry.id]
    plain: list[float] = []
    gates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        gated = [*base, "--django-gates", "--gates-n-plus-one=report", f"--gates-report={report}"]
        for _ in range(repeat):
            seconds, code = cpu_seconds(base, src, env)
            if code not in (0, 1):
                raise SystemExit(f"{project.name}: plain run exited {code}")
            plain.append(seconds)
            seconds, code = cpu_seconds(gated, src, env)
            if code not in (0, 1):
                raise SystemExit(f"{project.name}: gates run exited {code}")
            gates.append(seconds)
    return statistics.median(plain), statistics.median(gates)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--project", action="append", default=None, metavar="NAME")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=harness.DEFAULT_WORKDIR)
    parser.add_argument("--config", type=Path, default=harness.CONFIG)
    args = parser.parse_args(argv)
    _common, projects = harness.load_config(args.config)
    names = args.project or list(projects)
    print(f"{'project':<22} {'plain CPU s':>11} {'gates CPU s':>11} {'ratio':>7}")
    for name in names:
        plain, gates = measure(projects[name], args.workdir, args.repeat)
        print(f"{name:<22} {plain:>11.2f} {gates:>11.2f} {gates / plain:>6.3f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
