"""Overhead of ``pytest --django-gates`` (the query gate) against plain pytest, and django-zeal.

Generates a suite of database tests (default 2,000) in a temporary project and
runs it, interleaved and repeated, as:

* plain ``pytest``;
* ``pytest --django-gates`` (only the ``queries`` gate, the per-test cost);
* ``pytest`` with django-zeal's N+1 detection around every test (its documented
  pytest usage: the ``zeal`` app installed and an autouse ``zeal_context()``).

Also runs the demo project's suite plain and with ``--django-gates``.
Reports the median wall time of each and the ratio to plain pytest.

Usage::

    python benchmarks/bench_queries.py [--tests 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SETTINGS = """
import os
SECRET_KEY = "bench"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "shop"]
if os.environ.get("BENCH_ZEAL"):
    INSTALLED_APPS.append("zeal")
    ZEAL_RAISE = True
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

MODELS = """
from django.db import models

class Author(models.Model):
    name = models.CharField(max_length=50)

class Book(models.Model):
    title = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
"""

CONFTEST = """
import os
import pytest

if os.environ.get("BENCH_ZEAL"):
    from zeal import zeal_context

    @pytest.fixture(autouse=True)
    def _zeal():
        with zeal_context():
            yield
"""

TEST_MODULE = """
import pytest
from shop.models import Author, Book

{tests}
"""

TEST = """
@pytest.mark.django_db
def test_{i}():
    author = Author.objects.create(name="a{i}")
    Book.objects.bulk_create([Book(title=f"b{{n}}", author=author) for n in range(3)])
    books = list(Book.objects.select_related("author").filter(author=author))
    assert [b.author.name for b in books] == ["a{i}"] * 3
    assert Author.objects.filter(books__title="b1").count() == 1
"""


def make_suite(root: Path, n_tests: int) -> None:
    (root / "shop" / "migrations").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "migrations" / "__init__.py").write_text("")
    (root / "shop" / "models.py").write_text(MODELS)
    (root / "bench_settings.py").write_text(SETTINGS)
    (root / "conftest.py").write_text(CONFTEST)
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = "bench_settings"\n'
        'pythonpath = ["."]\n\n[tool.django-gates]\ngates = ["queries"]\n'
    )
    per_module = 100
    for m in range(0, n_tests, per_module):
        tests = "".join(TEST.format(i=i) for i in range(m, min(m + per_module, n_tests)))
        (root / f"test_bench_{m // per_module:03d}.py").write_text(TEST_MODULE.format(tests=tests))
    subprocess.run(
        [sys.executable, "-m", "django", "makemigrations", "shop", "-v0"],
        cwd=root,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench_settings", "PYTHONPATH": str(root)},
        check=True,
    )


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stdout[-3000:]}{proc.stderr}")
    return elapsed


def compare(
    label: str, cwd: Path, variants: dict[str, tuple[list[str], dict[str, str]]], repeat: int
) -> list[tuple[str, str, float, float]]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):  # interleaved, so drift hits every variant alike
        for name, (cmd, env) in variants.items():
            times[name].append(timed(cmd, cwd, env))
    base = statistics.median(times["plain pytest"])
    rows = []
    for name, samples in times.items():
        median = statistics.median(samples)
        rows.append((label, name, median, median / base))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_GATES_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    pytest_cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
    ]
    rows: list[tuple[str, str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / "suite"
        make_suite(suite, args.tests)
        rows += compare(
            f"generated suite ({args.tests} DB tests)",
            suite,
            {
                "plain pytest": (pytest_cmd, env),
                "pytest --django-gates": ([*pytest_cmd, "--django-gates"], env),
                "pytest + django-zeal": (pytest_cmd, {**env, "BENCH_ZEAL": "1"}),
            },
            args.repeat,
        )
        demo = Path(tmp) / "demo"
        shutil.copytree(
            REPO / "demo_project", demo, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3")
        )
        gates_env = {**env, "DJANGO_GATES_GATES": "queries"}
        rows += compare(
            "demo_project suite",
            demo,
            {
                "plain pytest": (pytest_cmd, env),
                "pytest --django-gates": ([*pytest_cmd, "--django-gates"], gates_env),
            },
            args.repeat,
        )
    print(f"median of {args.repeat} interleaved runs, wall time including start-up\n")
    print("| suite | run | median (s) | ratio to plain pytest |")
    print("|---|---|---:|---:|")
    for label, name, median, ratio in rows:
        print(f"| {label} | {name} | {median:.2f} | {ratio:.3f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
