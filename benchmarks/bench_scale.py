"""How each gate grows with the project: 1,000 to 5,000 migrations, 5,000 to 20,000 tests.

Generates Django projects of 50 apps (one model each) and measures, each as a fresh
process under ``/usr/bin/time`` (wall time and peak resident memory):

* **migrations axis** (the suite fixed at 500 tests; ``--migrations``, default 1,000,
  2,500 and 5,000 migrations spread over the 50 apps, each app a chain that creates its
  model and adds one nullable column a migration):
  ``django-gates migrations --all --backend postgresql`` (every rule);
  ``django-gates deploy-check``; and the suite plain and under ``pytest --django-gates`` (the
  queries gate), whose test database is built by applying every migration;
* **tests axis** (one migration an app; ``--tests``, default 5,000, 10,000 and 20,000
  database tests spread over the 50 apps, each creating a row and counting it): the
  suite plain, under ``pytest --django-gates`` with the queries gate, plain with
  pytest-cov (``--cov``), and with the coverage gate (``--cov`` plus the gate's floors,
  judged at the end of the session).

Prints one Markdown table per axis (seconds and MB, and each figure's growth against the
smallest size), and with ``--svg PATH`` writes a plot of the time of each run against
the size, a line per gate, one panel per axis. Serial runs (``-p no:xdist``): time it on
an otherwise idle machine.

Usage::

    python benchmarks/bench_scale.py [--migrations 1000 2500 5000] [--tests 5000 10000 20000]
        [--svg docs/img/scale.svg]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

APPS = 50
AXIS_TESTS_FIXED = 500

SETTINGS = """\
SECRET_KEY = "bench-scale-not-a-secret"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "scale_urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"] + [
    f"app{{i:02d}}" for i in range({apps})
]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": "scale.sqlite3"}}}}
"""

PYPROJECT = """\
[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "scale_settings"
python_files = ["test_*.py"]

[tool.coverage.run]
source = ["."]
omit = ["*/migrations/*", "scale_settings.py"]

[tool.django-gates.coverage]
line = 50
"""

_TIME = re.compile(r"SCALE (?P<wall>[0-9.]+) s (?P<rss>\d+) KB")


def generate(root: Path, migrations: int, tests: int) -> None:
    """A project of APPS apps, ``migrations`` migrations and ``tests`` tests in all."""
    root.mkdir(parents=True)
    (root / "scale_settings.py").write_text(SETTINGS.format(apps=APPS))
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "scale_urls.py").write_text("urlpatterns = []\n")
    (root / "tests").mkdir()
    per_app = max(1, migrations // APPS)
    per_app_tests = max(1, tests // APPS)
    for a in range(APPS):
        app = root / f"app{a:02d}"
        (app / "migrations").mkdir(parents=True)
        (app / "__init__.py").write_text("")
        (app / "migrations" / "__init__.py").write_text("")
        columns = per_app - 1
        fields = "".join(
            f"    c{n} = models.CharField(max_length=20, null=True)\n" for n in range(columns)
        )
        (app / "models.py").write_text(
            "from django.db import models\n\n\n"
            "class Item(models.Model):\n"
            "    name = models.CharField(max_length=50)\n"
            "    qty = models.IntegerField(null=True)\n" + fields
        )
        (app / "services.py").write_text(
            "from .models import Item\n\n\n"
            "def add_and_count(name):\n"
            "    Item.objects.create(name=name)\n"
            "    return Item.objects.filter(name=name).count()\n"
        )
        previous = None
        for n in range(per_app):
            name = f"{n + 1:04d}_step"
            deps = f'[("app{a:02d}", "{previous}")]' if previous else "[]"
            if n == 0:
                op = (
                    'migrations.CreateModel(name="Item", fields=['
                    '("id", models.BigAutoField(auto_created=True, primary_key=True, '
                    'serialize=False, verbose_name="ID")), '
                    '("name", models.CharField(max_length=50)), '
                    '("qty", models.IntegerField(null=True))])'
                )
            else:
                op = (
                    f'migrations.AddField("item", "c{n - 1}", '
                    "models.CharField(max_length=20, null=True))"
                )
            (app / "migrations" / f"{name}.py").write_text(
                "from django.db import migrations, models\n\n\n"
                "class Migration(migrations.Migration):\n"
                f"    initial = {n == 0}\n"
                f"    dependencies = {deps}\n"
                f"    operations = [{op}]\n"
            )
            previous = name
        body = "".join(
            f"\n\n@pytest.mark.django_db\ndef test_{t}():\n"
            f'    assert add_and_count("row{t}") == 1\n'
            for t in range(per_app_tests)
        )
        (root / "tests" / f"test_app{a:02d}.py").write_text(
            f"import pytest\n\nfrom app{a:02d}.services import add_and_count\n{body}"
        )


def measure(root: Path, command: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of ``command`` in ``root``; exit 0 or 1 expected."""
    timed = ["/usr/bin/time", "-f", "SCALE %e s %M KB", *command]
    done = subprocess.run(timed, cwd=root, env=env, capture_output=True, text=True)
    match = _TIME.search(done.stderr)
    if match is None or done.returncode not in (0, 1):
        tail = (done.stdout + done.stderr)[-3000:]
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}) in {root}:\n{tail}")
    return float(match["wall"]), int(match["rss"]) / 1024


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_GATES_", "PYTEST_", "COVERAGE_")) and k != "PYTHONPATH"
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _pytest(*extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
            "-p", "no:randomly", *extra]  # fmt: skip


def _gates(*extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest_django_gates", *extra]


RUNS_MIGRATIONS: dict[str, tuple[list[str], dict[str, str]]] = {
    "migrations gate": (_gates("migrations", "--all", "--backend", "postgresql"), {}),
    "deploy gate": (_gates("deploy-check", "--settings", "scale_settings"), {}),
    "suite, plain": (_pytest(), {}),
    "suite, queries gate": (_pytest("--django-gates"), {"DJANGO_GATES_GATES": "queries"}),
}
RUNS_TESTS: dict[str, tuple[list[str], dict[str, str]]] = {
    "suite, plain": (_pytest(), {}),
    "suite, queries gate": (_pytest("--django-gates"), {"DJANGO_GATES_GATES": "queries"}),
    "suite, plain --cov": (_pytest("--cov"), {}),
    "suite, coverage gate": (
        _pytest("--cov", "--django-gates"),
        {"DJANGO_GATES_GATES": "coverage"},
    ),
}


def axis(
    name: str, sizes: Sequence[int], runs: dict[str, tuple[list[str], dict[str, str]]],
    project_of: dict[int, Path],
) -> dict[str, list[tuple[float, float]]]:  # fmt: skip
    results: dict[str, list[tuple[float, float]]] = {run: [] for run in runs}
    for size in sizes:
        for run, (command, extra) in runs.items():
            figure = measure(project_of[size], command, {**_env(), **extra})
            results[run].append(figure)
            print(f"  {name} {size:,}: {run}: {figure[0]:.1f} s, {figure[1]:.0f} MB",
                  file=sys.stderr, flush=True)  # fmt: skip
    return results


def table(title: str, sizes: Sequence[int], results: dict[str, list[tuple[float, float]]]) -> str:
    head = " | ".join(f"{s:,}" for s in sizes)
    lines = [f"| {title} | {head} | growth, time / memory |", "|---" * (len(sizes) + 2) + "|"]
    for run, figures in results.items():
        cells = " | ".join(f"{t:.1f} s, {m:.0f} MB" for t, m in figures)
        (t0, m0), (t1, m1) = figures[0], figures[-1]
        lines.append(f"| {run} | {cells} | {t1 / t0:.2f}x / {m1 / m0:.2f}x |")
    return "\n".join(lines)


def svg(panels: Sequence[tuple[str, Sequence[int], dict[str, list[tuple[float, float]]]]]) -> str:
    """A plain SVG line plot: time against size, a line per run, one panel per axis."""
    width, height, pad = 420, 300, 50
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * len(panels)}" '
             f'height="{height + 110}" font-family="sans-serif" font-size="11">']  # fmt: skip
    for p, (title, sizes, results) in enumerate(panels):
        x0 = p * width
        top = max(t for figures in results.values() for t, _ in figures) * 1.1 or 1.0

        def x(size: int, x0: int = x0, sizes: Sequence[int] = sizes) -> float:
            return x0 + pad + (size - sizes[0]) / ((sizes[-1] - sizes[0]) or 1) * (width - 2 * pad)

        def y(seconds: float, top: float = top) -> float:
            return height - pad + 20 - seconds / top * (height - 2 * pad)

        parts.append(f'<text x="{x0 + width / 2}" y="18" text-anchor="middle" '
                     f'font-weight="bold">{title}</text>')  # fmt: skip
        parts.append(f'<line x1="{x0 + pad}" y1="{y(0)}" x2="{x0 + width - pad}" y2="{y(0)}" '
                     'stroke="black"/>')  # fmt: skip
        parts.append(f'<line x1="{x0 + pad}" y1="{y(0)}" x2="{x0 + pad}" y2="{y(top)}" '
                     'stroke="black"/>')  # fmt: skip
        for size in sizes:
            parts.append(f'<text x="{x(size)}" y="{y(0) + 14}" text-anchor="middle">'
                         f"{size:,}</text>")  # fmt: skip
        for k in range(5):
            seconds = top * k / 4
            parts.append(f'<text x="{x0 + pad - 4}" y="{y(seconds) + 4}" text-anchor="end">'
                         f"{seconds:.0f} s</text>")  # fmt: skip
        for i, (run, figures) in enumerate(results.items()):
            color = colors[i % len(colors)]
            points = " ".join(
                f"{x(s):.1f},{y(t):.1f}" for s, (t, _) in zip(sizes, figures, strict=True)
            )
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                         f'points="{points}"/>')  # fmt: skip
            parts.append(f'<text x="{x0 + pad}" y="{height + 30 + 14 * i}" fill="{color}">'
                         f"{run}</text>")  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=int, nargs="+", default=[1000, 2500, 5000])
    parser.add_argument("--tests", type=int, nargs="+", default=[5000, 10000, 20000])
    parser.add_argument("--svg", type=Path, help="write the plot here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="djg-bench-scale-") as tmp:
        base = Path(tmp)
        by_migrations = {}
        for m in args.migrations:
            by_migrations[m] = base / f"m{m}"
            generate(by_migrations[m], m, AXIS_TESTS_FIXED)
        by_tests = {}
        for t in args.tests:
            by_tests[t] = base / f"t{t}"
            generate(by_tests[t], APPS, t)
        m_results = axis("migrations", args.migrations, RUNS_MIGRATIONS, by_migrations)
        t_results = axis("tests", args.tests, RUNS_TESTS, by_tests)
    print(table(f"migrations ({AXIS_TESTS_FIXED} tests)", args.migrations, m_results))
    print()
    print(table(f"tests ({APPS} migrations)", args.tests, t_results))
    if args.svg is not None:
        args.svg.parent.mkdir(parents=True, exist_ok=True)
        args.svg.write_text(
            svg(
                [
                    ("time against migrations", args.migrations, m_results),
                    ("time against tests", args.tests, t_results),
                ]
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
