"""Helpers for the migration-gate tests: the corpus, the probe process, lock checks."""

from __future__ import annotations

import ast
import json
import os
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import django

from pytest_django_gates.migrations.registry import RULES
from tests.helpers import NO_RANDOMLY

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REPO = HERE.parent.parent
POSTGRESQL_ONLY = {code for code, rule in RULES.items() if rule.postgresql_only}


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without anything Django, django-gates, CI or the corpus reads."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST_", "CORPUS_", "DJGC_"))
        and k not in ("DATABASE_URL", "GITHUB_BASE_REF")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTEST_ADDOPTS"] = NO_RANDOMLY  # the pytest runs keep their order
    env.update(extra or {})
    return env


def cli(
    args: list[str], *, cwd: Path = CORPUS, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``django-gates`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_django_gates", *args],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def cli_json(args: list[str], **kwargs: Any) -> tuple[int, dict[str, Any]]:
    proc = cli([*args, "--format", "json"], **kwargs)
    assert proc.stdout, f"no output (exit {proc.returncode}): {proc.stderr}"
    return proc.returncode, json.loads(proc.stdout)


def expected_codes(path: Path) -> set[str]:
    """The ``expected_codes`` label of a corpus migration, read without importing it
    (``expected_codes_before_django_52`` when present and Django is older)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = ["expected_codes"]
    if django.VERSION < (5, 2):
        names.insert(0, "expected_codes_before_django_52")
    for name in names:
        found = _label(tree, name)
        if found is not None:
            return found
    raise AssertionError(f"{path} has no expected_codes label")


def _label(tree: ast.Module, name: str) -> set[str] | None:
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id == name and value is not None:
            if isinstance(value, ast.Call):  # set()
                return set()
            return set(ast.literal_eval(value))
    return None


def corpus_migrations(*, apps: set[str] | None = None) -> dict[str, tuple[Path, set[str]]]:
    """``app_label.name`` -> (file, expected codes) for every corpus migration."""
    found: dict[str, tuple[Path, set[str]]] = {}
    for path in sorted(CORPUS.glob("djgc_*/migrations/0*.py")):
        app = path.parent.parent.name
        if apps is not None and app not in apps:
            continue
        found[f"{app}.{path.stem}"] = (path, expected_codes(path))
    return found


def codes_by_object(gate: Mapping[str, Any]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for finding in gate["findings"]:
        result.setdefault(finding["object"], set()).add(finding["code"])
    return result


def corpus_env(
    url: str | None = None,
    *,
    sqlite: Path | None = None,
    pg_apps: bool = True,
    broken: bool = False,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    # djgc_small's Carrier is declared small in the configuration (ShippingMethod on its
    # model class): the migration gate's size-dependent rules warn about them.
    env: dict[str, str] = {
        "DJANGO_SETTINGS_MODULE": "corpus_settings",
        "DJANGO_GATES_INDEXES_SMALL_TABLES": "djgc_small.Carrier",
    }
    if url:
        env["CORPUS_DATABASE_URL"] = url
    if sqlite is not None:
        env["CORPUS_SQLITE_PATH"] = str(sqlite)
    if not pg_apps:
        env["CORPUS_NO_PG_APPS"] = "1"
    if broken:
        env["CORPUS_BROKEN"] = "1"
    env.update(extra or {})
    return env


class Probe:
    """A Django process that applies corpus migrations on command (``corpus/probe.py``)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.application_name = f"djg-probe-{uuid.uuid4().hex[:8]}"
        full_env = clean_env({**env, "CORPUS_APPLICATION_NAME": self.application_name})
        full_env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(CORPUS)])
        self.proc = subprocess.Popen(
            [sys.executable, str(CORPUS / "probe.py")],
            cwd=CORPUS,
            env=full_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        hello = self.receive(timeout=60)
        assert hello.get("ready"), hello
        self.vendor = hello["vendor"]

    def send(self, app: str | None, target: str | None = None, **options: Any) -> None:
        assert self.proc.stdin is not None
        command = {"cmd": "migrate", "app": app, "target": target, **options}
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def receive(self, timeout: float = 60) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise AssertionError(f"the probe did not answer within {timeout} s")
        line = self.proc.stdout.readline()
        if not line:
            assert self.proc.stderr is not None
            raise AssertionError(f"the probe exited: {self.proc.stderr.read()}")
        data: dict[str, Any] = json.loads(line)
        return data

    def migrate(self, app: str | None, target: str | None = None, **options: Any) -> dict[str, Any]:
        self.send(app, target, **options)
        return self.receive()

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def probe(env: Mapping[str, str]) -> Iterator[Probe]:
    running = Probe(env)
    try:
        yield running
    finally:
        running.close()


def must(answer: Mapping[str, Any]) -> Mapping[str, Any]:
    assert answer["ok"], answer.get("error")
    return answer


# -- PostgreSQL lock checks --------------------------------------------------------------


def connect(url: str, **kwargs: Any) -> Any:
    import psycopg

    return psycopg.connect(url, **kwargs)


def wait_until_waiting(url: str, application_name: str, timeout: float = 20) -> None:
    """Block until the probe's backend waits for a lock (its migration is queued)."""
    deadline = time.monotonic() + timeout
    with connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = %s AND wait_event_type = 'Lock'",
                [application_name],
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.02)
    raise AssertionError(f"the migration never waited for a lock within {timeout} s")


def attempt(url: str, sql: str, lock_timeout_ms: int = 300) -> str:
    """Run ``sql`` on a fresh connection with ``lock_timeout``: ``ok`` or ``blocked``."""
    import psycopg

    with connect(url, autocommit=True) as conn:
        conn.execute(f"SET lock_timeout = '{lock_timeout_ms}ms'")
        try:
            conn.execute(sql)
        except psycopg.errors.LockNotAvailable:
            return "blocked"
    return "ok"


def while_migrating(
    url: str,
    running: Probe,
    app: str,
    target: str,
    *,
    hold: str,
    attempts: Mapping[str, str],
    mode: str = "SHARE UPDATE EXCLUSIVE",
    notices: bool = False,
) -> tuple[dict[str, str], Mapping[str, Any]]:
    """Apply ``app.target`` while a second connection holds ``mode`` on ``hold``.

    The lock stands for what a long query, autovacuum or an earlier migration
    holds in production; while the migration waits for its own lock, every
    request that conflicts with the lock it asked for queues behind it. Each
    ``attempts`` statement then runs on a third connection with ``lock_timeout``:
    ``blocked`` means the migration blocks that traffic.
    """
    holder = connect(url)
    try:
        holder.execute(f"LOCK TABLE {hold} IN {mode} MODE")
        running.send(app, target, notices=notices)
        wait_until_waiting(url, running.application_name)
        results = {name: attempt(url, sql) for name, sql in attempts.items()}
    finally:
        holder.rollback()
        holder.close()
    answer = must(running.receive())
    return results, answer


def notices_of(answer: Mapping[str, Any]) -> list[str]:
    return list(answer.get("notices", []))


def rewrote(answer: Mapping[str, Any], table: str) -> bool:
    return f'rewriting table "{table}"' in notices_of(answer)


def verified(answer: Mapping[str, Any], table: str) -> bool:
    return f'verifying table "{table}"' in notices_of(answer)


def built_index(answer: Mapping[str, Any]) -> list[str]:
    return [n for n in notices_of(answer) if n.startswith("building index") and "pg_toast" not in n]


# -- small generated projects -------------------------------------------------------------

SETTINGS = """\
SECRET_KEY = "not-a-secret"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = {apps!r}
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {db!r}}}}}
"""

INITIAL = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50)),
            ],
        ),
    ]
"""

ITEM_MODEL = """\
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=50)
{extra}"""


def migration(app: str, depends: str, operations: str, *, head: str = "", body: str = "") -> str:
    """A migration file with ``operations`` (source text of the list items)."""
    return (
        "from django.db import migrations, models\n"
        f"{head}\n\n"
        "class Migration(migrations.Migration):\n"
        f"{body}"
        f"    dependencies = [({app!r}, {depends!r})]\n"
        "    operations = [\n"
        f"        {operations},\n"
        "    ]\n"
    )


def make_project(
    root: Path,
    apps: Mapping[str, Mapping[str, str]],
    *,
    pyproject: str = "",
    installed: list[str] | None = None,
) -> Path:
    """A Django project: ``apps`` maps app label -> {relative file: source}."""
    root.mkdir(parents=True, exist_ok=True)
    names = installed if installed is not None else list(apps)
    (root / "proj_settings.py").write_text(
        SETTINGS.format(apps=names, db=str(root / "db.sqlite3")), encoding="utf-8"
    )
    (root / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0"\n\n' + pyproject, encoding="utf-8"
    )
    for app, files in apps.items():
        (root / app / "migrations").mkdir(parents=True, exist_ok=True)
        (root / app / "__init__.py").write_text("", encoding="utf-8")
        (root / app / "migrations" / "__init__.py").write_text("", encoding="utf-8")
        for name, text in files.items():
            path = root / app / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return root


def simple_app(extra_model: str = "", **migrations: str) -> dict[str, str]:
    """An app with ``Item(name)`` from 0001 plus the given migrations files."""
    files = {
        "models.py": ITEM_MODEL.format(extra=extra_model),
        "migrations/0001_initial.py": INITIAL,
    }
    files.update({f"migrations/{name}.py": text for name, text in migrations.items()})
    return files


def project_cli(
    root: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return cli(
        ["--project", str(root), "migrations", "--settings", "proj_settings", *args],
        cwd=root,
        env=env,
    )


def project_json(
    root: Path, *args: str, env: Mapping[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    proc = project_cli(root, *args, "--format", "json", env=env)
    data = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, data, proc.stderr


FLAG_FIELD = "    flag = models.BooleanField(default=False)\n"
ADD_FLAG_SOURCE = migration(
    "shop",
    "0001_initial",
    'migrations.AddField("item", "flag", models.BooleanField(default=False))',
)
