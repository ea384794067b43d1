"""Benchmark: the cost of the lock tracer, against plain ``manage.py migrate``, side by side.

The tracer's peer is what a team runs anyway: applying the same migrations to a
PostgreSQL database with ``python manage.py migrate``. On the chains of
``bench_migrations.py`` (blocks of ten realistic operations per model), each as a
fresh process on the same project and the same server:

* ``migrate``: ``python manage.py migrate`` on a new, empty database (dropped after);
* ``static``: ``django-gates migrations --all --backend postgresql`` (no database);
* ``trace``: the same with ``--trace`` (and ``--trace-rows N``): scratch database,
  every migration applied under observation, dropped after.

The tracer's cost is ``trace - static``; per migration, and as a ratio to ``migrate``
(what observing every DDL statement, probing from a second connection and filling
the tables costs beyond applying them). Each command runs ``--repeat`` times, best
kept.

Run: python benchmarks/bench_trace.py [--sizes 10 100] [--rows 0 1000] [--repeat 3]
     [--database-url postgres://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_migrations import REPO, gates_cmd, generate_chain

PG_SETTINGS = """\
from urllib.parse import urlparse

SECRET_KEY = "bench-not-a-secret"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "bench"]
_url = urlparse({url!r})
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": {name!r},
        "USER": _url.username or "",
        "PASSWORD": _url.password or "",
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
    }}
}}
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "bench_pg_settings"
    return env


def _run(cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0, 1)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return elapsed


def _admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlparse(url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=parts.path.lstrip("/") or "postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def time_migrate(project: Path, url: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        name = f"djg_bench_{uuid.uuid4().hex[:10]}"
        _admin(url, f'CREATE DATABASE "{name}"')
        try:
            (project / "bench_pg_settings.py").write_text(PG_SETTINGS.format(url=url, name=name))
            command = [sys.executable, "manage.py", "migrate", "-v", "0"]
            best = min(best, _run(command, project, (0,)))
        finally:
            _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return best


def gates(project: Path, *extra: str) -> list[str]:
    return gates_cmd(project, *extra, settings="bench_pg_settings")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--rows", type=int, nargs="+", default=[0, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args(argv)
    url = args.database_url
    compileall.compile_dir(str(REPO / "pytest_django_gates"), quiet=1)
    rows_out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="djg-bench-trace-") as tmp:
        for size in args.sizes:
            project = generate_chain(Path(tmp), size)
            (project / "bench_pg_settings.py").write_text(
                PG_SETTINGS.format(url=url, name="unused")
            )
            compileall.compile_dir(str(project), quiet=1)
            migrate = time_migrate(project, url, args.repeat)
            (project / "bench_pg_settings.py").write_text(
                PG_SETTINGS.format(url=url, name="unused")
            )
            static = min(_run(gates(project), project) for _ in range(args.repeat))
            for rows in args.rows:
                out = project / "trace.json"
                traced = min(
                    _run(
                        gates(
                            project,
                            "--trace",
                            "--trace-database",
                            url,
                            "--trace-rows",
                            str(rows),
                            "--trace-output",
                            str(out),
                        ),
                        project,
                    )
                    for _ in range(args.repeat)
                )
                data = json.loads(out.read_text(encoding="utf-8"))
                inside = sum(m["time_ms"] for m in data["migrations"])
                cost = traced - static
                print(
                    f"# chain {size}, rows {rows}: migrate {migrate:.2f} s, static {static:.2f} s, "
                    f"trace {traced:.2f} s",
                    file=sys.stderr,
                    flush=True,
                )
                rows_out.append(
                    f"| {size} | {rows} | {migrate:.2f} s | {static:.2f} s | {traced:.2f} s "
                    f"| {cost:.2f} s | {1000 * cost / size:.1f} ms | {inside / size:.1f} ms "
                    f"| {cost / migrate:.1f}x |"
                )
    print(
        "| migrations | rows per table | manage.py migrate | static gate | gate + trace "
        "| tracer cost | per migration | of which applying (measured inside) "
        "| tracer cost / migrate |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows_out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
