"""Benchmark: ``django-gates migrations`` against django-migration-linter, side by side.

Generates Django projects with chains of 100, 300 and 1,000 migrations (blocks
of ten realistic operations per model: CreateModel, AddField, AlterField,
AddIndex, a NOT NULL AddField, RunPython, RenameField, a type change, RunSQL)
and also uses the test corpus (``tests/migrations/corpus``, without its
PostgreSQL-only app). Each tool runs as a fresh process on the same project,
so the times include Python and Django start-up:

* ``django-gates --project DIR migrations --all --backend postgresql`` (every
  rule, the PostgreSQL ones included);
* ``python manage.py lintmigrations --no-cache`` (django-migration-linter).

Bytecode is compiled beforehand (the generated projects and this package's
own modules, as a pip install would); each tool runs ``--repeat`` times (best
kept). Prints a Markdown table: wall time, the ratio, and the time per
migration (flat per-migration time means linear growth). It also times the
floor that any tool reading the migrations with Django pays (interpreter
start-up, ``django.setup()``, ``MigrationLoader.build_graph()``, nothing else),
and the ratio against the linter that a tool with zero analysis cost would reach.

Run: python benchmarks/bench_migrations.py [--sizes 100 300 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "migrations" / "corpus"

SETTINGS = """\
SECRET_KEY = "bench-not-a-secret"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "bench",
    "django_migration_linter",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "bench.sqlite3"}}
"""

MANAGE = """\
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""

HEAD = "from django.db import migrations, models\n\n\n"


def _operations(k: int, step: int) -> tuple[str, str]:
    """(module-level code, operations source) of step ``step`` (0-9) of model ``k``."""
    model = f"m{k}"
    ops = {
        0: (
            "",
            f'migrations.CreateModel(name="M{k}", fields=[("id", models.BigAutoField('
            'auto_created=True, primary_key=True, serialize=False, verbose_name="ID")), '
            '("name", models.CharField(max_length=50)), ("qty", models.IntegerField(null=True))])',
        ),
        1: (
            "",
            f'migrations.AddField("{model}", "f1", models.CharField(max_length=20, null=True))',
        ),
        2: (
            "",
            f'migrations.AlterField("{model}", "f1", models.CharField(max_length=40, null=True))',
        ),
        3: (
            "",
            f'migrations.AddIndex("{model}", '
            f'models.Index(fields=["name"], name="bench_{model}_name"))',
        ),
        4: ("", f'migrations.AddField("{model}", "f2", models.IntegerField(default=0))'),
        5: (
            "def forwards(apps, schema_editor):\n"
            f'    apps.get_model("bench", "M{k}").objects.filter(qty=None).update(qty=0)\n\n\n',
            "migrations.RunPython(forwards, migrations.RunPython.noop)",
        ),
        6: ("", f'migrations.RenameField("{model}", "f2", "f3")'),
        7: ("", f'migrations.AlterField("{model}", "qty", models.BigIntegerField(null=True))'),
        8: ("", 'migrations.RunSQL("SELECT 1", reverse_sql=migrations.RunSQL.noop)'),
        9: ("", f'migrations.AddField("{model}", "f4", models.BooleanField(null=True))'),
    }
    return ops[step]


def _model(k: int) -> str:
    return (
        f"class M{k}(models.Model):\n"
        "    name = models.CharField(max_length=50)\n"
        "    qty = models.BigIntegerField(null=True)\n"
        "    f1 = models.CharField(max_length=40, null=True)\n"
        "    f3 = models.IntegerField(default=0)\n"
        "    f4 = models.BooleanField(null=True)\n\n"
        "    class Meta:\n"
        f'        indexes = [models.Index(fields=["name"], name="bench_m{k}_name")]\n\n\n'
    )


def generate_chain(root: Path, size: int) -> Path:
    """A project whose app ``bench`` has one chain of ``size`` migrations."""
    if size % 10:
        raise SystemExit(f"--sizes must be multiples of 10, got {size}")
    project = root / f"chain{size}"
    migrations = project / "bench" / "migrations"
    migrations.mkdir(parents=True)
    (project / "bench_settings.py").write_text(SETTINGS)
    (project / "manage.py").write_text(MANAGE)
    (project / "bench" / "__init__.py").write_text("")
    (migrations / "__init__.py").write_text("")
    models = ["from django.db import models\n\n\n"]
    previous: str | None = None
    for n in range(size):
        k, step = divmod(n, 10)
        code, operation = _operations(k, step)
        name = f"{n + 1:04d}_m{k}_step{step}"
        dependencies = f'[("bench", "{previous}")]' if previous else "[]"
        (migrations / f"{name}.py").write_text(
            HEAD
            + code
            + "class Migration(migrations.Migration):\n"
            + ("    initial = True\n" if previous is None else "")
            + f"    dependencies = {dependencies}\n"
            + f"    operations = [{operation}]\n"
        )
        previous = name
        if step == 0:
            models.append(_model(k))
    (project / "bench" / "models.py").write_text("".join(models).rstrip() + "\n")
    return project


def corpus_project(root: Path) -> Path:
    project = root / "corpus"
    shutil.copytree(CORPUS, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    (project / "bench_settings.py").write_text(
        "import os\n\nos.environ['CORPUS_NO_PG_APPS'] = '1'\n"
        "from corpus_settings import *  # noqa: F403\n\n"
        "INSTALLED_APPS = [*INSTALLED_APPS, 'django_migration_linter']  # noqa: F405\n"
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3',"
        " 'NAME': 'bench.sqlite3'}}\n"
    )
    (project / "manage.py").write_text(MANAGE)
    return project


@dataclass
class Timing:
    seconds: float
    returncode: int
    migrations: int


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CORPUS_")) and k != "GITHUB_BASE_REF"
    }
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    return env


def _time(cmd: list[str], cwd: Path, repeat: int, timeout: float) -> Timing | None:
    best: Timing | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd,
                cwd=cwd,
                env=_env(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
        elapsed = time.perf_counter() - start
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        if best is None or elapsed < best.seconds:
            best = Timing(elapsed, proc.returncode, 0)
    return best


def gates_cmd(project: Path, *extra: str, settings: str = "bench_settings") -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest_django_gates",
        "--project",
        str(project),
        "migrations",
        "--settings",
        settings,
        "--all",
        "--backend",
        "postgresql",
        "--format",
        "json",
        *extra,
    ]


# What any tool that reads the migrations with Django pays before it analyses
# anything: interpreter start-up, django.setup() and loading the migration graph
# (importing every migration module). It bounds the ratio a tool can reach.
FLOOR = (
    "import django\n"
    "django.setup()\n"
    "from django.db.migrations.loader import MigrationLoader\n"
    "MigrationLoader(None, load=False, ignore_no_migrations=True).build_graph()\n"
)


def floor_cmd(project: Path) -> list[str]:
    return [sys.executable, "-c", FLOOR]


def linter_cmd(project: Path) -> list[str]:
    return [sys.executable, "manage.py", "lintmigrations", "--no-cache"]


def count_migrations(project: Path) -> int:
    """Migrations of the apps the benchmark settings install."""
    left_out = {"djgc_pgops", "djgc_broken"}
    return sum(
        1 for p in project.glob("*/migrations/[0-9]*.py") if p.parent.parent.name not in left_out
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10, 100, 300, 1000],
        help="chain lengths (multiples of 10; the first one measures start-up)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool (best kept)")
    parser.add_argument(
        "--linter-repeat", type=int, default=1, help="runs of django-migration-linter (best kept)"
    )
    parser.add_argument("--linter-timeout", type=float, default=3600.0)
    parser.add_argument("--no-corpus", action="store_true")
    args = parser.parse_args(argv)

    rows: list[tuple[str, int, Timing | None, Timing | None, Timing | None]] = []
    # An installed package has its bytecode compiled by pip; an editable checkout
    # (PYTHONDONTWRITEBYTECODE is common in CI) may not: compile it so that both
    # tools start from bytecode, like the Django and linter packages do.
    compileall.compile_dir(str(REPO / "pytest_django_gates"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="djg-bench-") as tmp:
        root = Path(tmp)
        projects: list[tuple[str, Path]] = []
        if not args.no_corpus:
            projects.append(("test corpus", corpus_project(root)))
        projects.extend((f"chain of {size}", generate_chain(root, size)) for size in args.sizes)
        for label, project in projects:
            compileall.compile_dir(str(project), quiet=1)
            n = count_migrations(project)
            print(f"# {label}: {n} migrations", file=sys.stderr, flush=True)
            ours = _time(gates_cmd(project), project, args.repeat, timeout=600)
            print(
                f"  django-gates: {ours.seconds if ours else 'timeout'}",
                file=sys.stderr,
                flush=True,
            )
            floor = _time(floor_cmd(project), project, args.repeat, timeout=600)
            theirs = _time(linter_cmd(project), project, args.linter_repeat, args.linter_timeout)
            print(
                f"  linter: {theirs.seconds if theirs else 'timeout'}", file=sys.stderr, flush=True
            )
            rows.append((label, n, ours, theirs, floor))

    print(
        "| project | migrations | django-gates | ms per added migration "
        "| django-migration-linter | ratio | floor: set-up + graph load | highest ratio possible |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    previous: tuple[int, float] | None = None
    for label, n, ours, theirs, floor in rows:
        ours_s = f"{ours.seconds:.2f} s" if ours else "timeout"
        slope = "-"
        if ours and label.startswith("chain"):
            if previous is not None and n > previous[0]:
                slope = f"{1000 * (ours.seconds - previous[1]) / (n - previous[0]):.2f}"
            previous = (n, ours.seconds)
        theirs_s = f"{theirs.seconds:.2f} s" if theirs else f"> {args.linter_timeout:.0f} s"
        ratio = f"{theirs.seconds / ours.seconds:.1f}x" if ours and theirs else "-"
        floor_s = f"{floor.seconds:.2f} s" if floor else "-"
        ceiling = f"{theirs.seconds / floor.seconds:.1f}x" if floor and theirs else "-"
        print(
            f"| {label} | {n} | {ours_s} | {slope} | {theirs_s} | {ratio} | {floor_s} | {ceiling} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
