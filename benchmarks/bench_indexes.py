"""Cost of the ``indexes`` gate: the same session with and without it, side by side.

Generates a suite of database tests (default 1,000) in a temporary project whose
code under test runs many distinct query shapes (filters on several columns, each
with and without a join, ORDER BY with LIMIT), and runs it, interleaved and
repeated, as:

* ``pytest --django-gates`` with ``gates = queries`` (the query gate alone);
* ``pytest --django-gates`` with ``gates = queries,indexes`` (one example of each
  shape kept, explained after the last test).

Reports the median wall time of each, the ratio, and the gate's own explain time
(from its summary). ``--database-url postgres://...`` runs on PostgreSQL (a
scratch database is created and dropped through it) instead of SQLite.

Usage::

    python benchmarks/bench_indexes.py [--tests 1000] [--repeat 5] [-n 0] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

SETTINGS = """
import os
from urllib.parse import urlparse
SECRET_KEY = "bench"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "shop"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
url = os.environ.get("BENCH_DATABASE_URL")
if url:
    u = urlparse(url)
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": u.path[1:],
                             "USER": u.username or "", "HOST": u.hostname or "",
                             "PORT": str(u.port or "")}}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
"""

MODELS = """
from django.db import models

class Author(models.Model):
    name = models.CharField(max_length=50)
    city = models.CharField(max_length=50, db_index=True)

class Book(models.Model):
    author = models.ForeignKey(Author, models.CASCADE, related_name="books")
{fields}
"""

SERVICES = """
from shop.models import Author, Book

def run(i):
    field = "f%d" % (i % {fields})
    list(Book.objects.filter(**{{field: i}}))
    list(Book.objects.filter(**{{field: i, "author__city": "x"}}))
    list(Book.objects.order_by(field)[: 1 + i % 7])
    list(Author.objects.filter(books__title="t%d" % i, city="x"))
"""

TEST = """
@pytest.mark.django_db
def test_{i}():
    author = Author.objects.create(name="a", city="x")
    Book.objects.create(author=author, title="t{i}")
    services.run({i})
"""


def write_project(root: Path, tests: int, fields: int) -> None:
    (root / "shop").mkdir(parents=True)  # no migrations: the test runner creates the tables
    (root / "shop" / "__init__.py").write_text("")
    body = "\n".join(f"    f{n} = models.IntegerField(default=0)" for n in range(fields))
    body += "\n    title = models.CharField(max_length=50)"
    (root / "shop" / "models.py").write_text(MODELS.format(fields=body))
    (root / "shop" / "services.py").write_text(SERVICES.format(fields=fields))
    (root / "bench_settings.py").write_text(SETTINGS)
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = "bench_settings"\npythonpath = ["."]\n'
    )
    per_module = 100
    for m in range(0, tests, per_module):
        cases = "\n".join(TEST.format(i=i) for i in range(m, min(m + per_module, tests)))
        (root / f"test_m{m // per_module}.py").write_text(
            f"import pytest\nfrom shop import services\nfrom shop.models import Author, Book\n"
            f"{cases}"
        )


def env_for(gates: str, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_GATES_", "PYTEST_"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["DJANGO_GATES_GATES"] = gates
    if database_url:
        env["BENCH_DATABASE_URL"] = database_url
    return env


def run_once(root: Path, gates: str, workers: int, database_url: str | None) -> tuple[float, str]:
    report = root / f"report-{gates.replace(',', '-')}.json"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--django-gates"]
    command += [f"--gates-report={report}", "-n", str(workers)]
    start = time.perf_counter()
    proc = subprocess.run(
        command, cwd=root, env=env_for(gates, database_url), capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"pytest failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
    summary = ""
    for gate in json.loads(report.read_text())["gates"]:
        if gate["name"] == "indexes":
            summary = gate["summary"]
    return seconds, summary


def scratch_database(url: str) -> tuple[str, str]:
    """(URL of a fresh database on the server of ``url``, its name)."""
    import psycopg

    u = urlparse(url)
    name = f"djg_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return u._replace(path=f"/{name}").geturl(), name


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--fields", type=int, default=20, help="filtered columns (shapes)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("-n", dest="workers", type=int, default=0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    database_url, scratch = None, ""
    if args.database_url:
        database_url, scratch = scratch_database(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="djg-bench-indexes-") as tmp:
            root = Path(tmp)
            write_project(root, args.tests, args.fields)
            runs: dict[str, list[float]] = {"queries": [], "queries,indexes": []}
            summary = ""
            for _ in range(args.repeat):
                for gates in runs:  # interleaved: drift hits both alike
                    seconds, text = run_once(root, gates, args.workers, database_url)
                    runs[gates].append(seconds)
                    summary = text or summary
    finally:
        if scratch and args.database_url:
            drop_database(args.database_url, scratch)
    base = statistics.median(runs["queries"])
    with_indexes = statistics.median(runs["queries,indexes"])
    explain = re.search(r"in ([\d.]+)s", summary)
    backend = "postgresql" if database_url else "sqlite"
    print(f"{args.tests} tests, -n {args.workers}, {backend}, median of {args.repeat}")
    print("| gates | median s | ratio |")
    print("|---|---:|---:|")
    print(f"| queries | {base:.2f} | 1.00 |")
    print(f"| queries,indexes | {with_indexes:.2f} | {with_indexes / base:.2f} |")
    print(f"indexes gate: {summary}")
    if explain:
        print(f"explain time (summed over processes): {explain.group(1)} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
