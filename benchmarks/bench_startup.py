"""Benchmark: the fixed start-up cost of ``--django-gates`` (issue 21 §1).

A generated Django project whose suite has one test that runs no query: whatever
``pytest --django-gates`` costs beyond plain pytest there is fixed cost (importing the
gates, reading the configuration, installing the query capture, writing the report),
paid once per run whatever the suite's size. Three commands, run interleaved as fresh
processes (``--repeat`` rounds, each round in a new random order), bytecode compiled
beforehand:

* ``plain``: ``pytest -p no:cacheprovider -q`` (the plugin installed, not enabled:
  what a user who does not pass ``--django-gates`` pays);
* ``disabled``: the same with ``-p no:django_gates`` (the plugin not even loaded);
* ``gates``: ``pytest --django-gates`` with only the query gate
  (``DJANGO_GATES_GATES=queries``), its report written.

Prints the median wall time of each, the differences ``gates - plain`` and
``plain - disabled`` with their spread (the interquartile range of the per-round
differences), and the CPU time (user + system of the child) medians.

Run: python benchmarks/bench_startup.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETTINGS = """
SECRET_KEY = "bench"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
"""
PYPROJECT = """
[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "bench_settings"
pythonpath = ["."]
"""
TEST = """
def test_nothing():
    assert 1 + 1 == 2
"""

COMMANDS = {
    "plain": ["-p", "no:cacheprovider", "-q"],
    "disabled": ["-p", "no:cacheprovider", "-q", "-p", "no:django_gates"],
    "gates": ["-p", "no:cacheprovider", "-q", "--django-gates", "--gates-report=report.json"],
}


def _run(project: Path, args: list[str]) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_GATES_", "PYTEST_"))}
    env["DJANGO_GATES_GATES"] = "queries"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"pytest {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _iqr(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="djg-startup-") as tmp:
        project = Path(tmp)
        (project / "bench_settings.py").write_text(SETTINGS)
        (project / "pyproject.toml").write_text(PYPROJECT)
        (project / "test_empty.py").write_text(TEST)
        compileall.compile_dir(str(project), quiet=1)
        import pytest_django_gates

        compileall.compile_dir(str(Path(pytest_django_gates.__file__).parent), quiet=1)
        for args_ in COMMANDS.values():  # warm the file cache
            _run(project, args_)
        walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
        cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
        rng = random.Random(0)
        for _ in range(args.repeat):
            order = list(COMMANDS)
            rng.shuffle(order)
            for name in order:
                wall, cpu = _run(project, COMMANDS[name])
                walls[name].append(wall)
                cpus[name].append(cpu)
    print(f"{args.repeat} interleaved rounds, Python {sys.version.split()[0]}\n")
    print("| command | median wall ms | median CPU ms |")
    print("|---|---:|---:|")
    for name in COMMANDS:
        wall_ms = statistics.median(walls[name]) * 1000
        cpu_ms = statistics.median(cpus[name]) * 1000
        print(f"| {name} | {wall_ms:.0f} | {cpu_ms:.0f} |")
    print()
    for a, b, what in (
        ("gates", "plain", "--django-gates start-up"),
        ("plain", "disabled", "the plugin installed, not enabled"),
    ):
        diffs = [(x - y) * 1000 for x, y in zip(walls[a], walls[b], strict=True)]
        cpu_diffs = [(x - y) * 1000 for x, y in zip(cpus[a], cpus[b], strict=True)]
        low, high = _iqr(diffs)
        print(
            f"{what}: {statistics.median(diffs):+.0f} ms wall (IQR {low:+.0f} to {high:+.0f}), "
            f"{statistics.median(cpu_diffs):+.0f} ms CPU"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
