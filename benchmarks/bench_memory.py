"""Peak memory of one very long test: plain pytest against ``pytest --django-gates``.

Generates a project whose one test runs a data backfill through the code under test:
one ORM ``UPDATE`` per id (``Item.objects.filter(pk=pk).update(...)``, a new SQL string
each time, as Django compiles it), on SQLite in memory. Runs it at each size as a fresh
process under ``/usr/bin/time`` (peak resident set size) twice: plain pytest, and
``pytest --django-gates`` with only the ``queries`` gate (the one that records every
query). Prints a Markdown table: sizes, peak RSS of each, the difference, wall times.

Usage::

    python benchmarks/bench_memory.py [--queries 20000 200000 1000000]

Sequential runs; run it on an otherwise idle machine for the times (the memory does
not depend on load).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

SETTINGS = """
SECRET_KEY = "bench"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "backfill"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

MODELS = """
from django.db import models


class Item(models.Model):
    value = models.IntegerField(default=0)
"""

JOBS = """
from backfill.models import Item


def backfill(ids):
    for pk in ids:
        Item.objects.filter(pk=pk).update(value=pk * 2)
"""

TEST = """
import os

import pytest

from backfill.jobs import backfill
from backfill.models import Item


@pytest.mark.django_db
def test_backfill():
    Item.objects.bulk_create([Item() for _ in range(1000)])
    ids = [1 + i % 1000 for i in range(int(os.environ["BENCH_QUERIES"]))]
    backfill(ids)
    assert Item.objects.filter(value=2).count() == 1
"""

PYPROJECT = """
[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "settings"
"""

_TIME = re.compile(r"BENCH (?P<wall>[0-9.]+) s (?P<rss>\d+) KB")


def write_project(root: Path) -> None:
    (root / "backfill").mkdir()
    (root / "backfill" / "__init__.py").write_text("")
    (root / "backfill" / "models.py").write_text(MODELS)
    (root / "backfill" / "jobs.py").write_text(JOBS)
    (root / "settings.py").write_text(SETTINGS)
    (root / "test_backfill.py").write_text(TEST)
    (root / "pyproject.toml").write_text(PYPROJECT)


def measure(root: Path, queries: int, gated: bool) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one pytest process."""
    command = ["/usr/bin/time", "-f", "BENCH %e s %M KB", sys.executable, "-m", "pytest"]
    command += ["-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    if gated:
        command.append("--django-gates")
    env = {**os.environ, "BENCH_QUERIES": str(queries), "DJANGO_GATES_GATES": "queries"}
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    match = _TIME.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(
            f"pytest failed at {queries} queries (gated={gated}):\n{done.stdout}\n{done.stderr}"
        )
    return float(match["wall"]), int(match["rss"]) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, nargs="+", default=[20_000, 200_000, 1_000_000])
    args = parser.parse_args(argv)
    print(
        "| queries in the test | peak RSS, plain | peak RSS, gated | gated - plain "
        "| time, plain | time, gated |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="djg-bench-memory-") as tmp:
        root = Path(tmp)
        write_project(root)
        for queries in args.queries:
            plain_time, plain_rss = measure(root, queries, gated=False)
            gated_time, gated_rss = measure(root, queries, gated=True)
            print(
                f"| {queries:,} | {plain_rss:,.0f} MB | {gated_rss:,.0f} MB "
                f"| {gated_rss - plain_rss:+,.0f} MB | {plain_time:,.0f} s | {gated_time:,.0f} s |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
