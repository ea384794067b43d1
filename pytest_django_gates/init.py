"""Write the [tool.django-gates] table that fits an existing project.

``django-gates init [--dry-run] [--force] [--baselines]`` inspects the project
without importing it (it reads files and asks git; ``--baselines`` is the one
step that runs anything: the gates' baseline steps and the test suite) and
writes only what it found:

* ``gates``: the test-time gates (queries, migrations, deploy when a production
  settings module exists, and coverage when pytest-cov or coverage.py is installed, with
  ``[tool.django-gates.coverage] patch = 80``: the lines each change adds or edits
  must be 80% covered, old code is not judged, so the first run passes) and the
  tools that are installed (ruff, mypy when it is
  configured with files to check, gitleaks, pip-audit when every requirement is
  pinned);
* ``deploy_settings``: the production settings module, found as the deploy gate
  finds it (``settings/production.py`` or ``prod.py``), else the project's single
  settings module when it reads DEBUG, SECRET_KEY, ALLOWED_HOSTS or DATABASES from
  the environment (production sets them there);
* ``[tool.pytest.ini_options]`` ``python_files = ["test*.py"]``, empty
  ``python_classes`` and ``python_functions``, and ``DJANGO_SETTINGS_MODULE``, only
  when pytest has no configuration at all and the suite's modules are named for
  Django's test runner (``tests.py``, ``tests_*.py``): pytest then collects what
  ``manage.py test`` runs (see ``_pytest_setup``);
* ``[tool.django-gates.mypy] paths``, when mypy's configuration names no files: the
  paths the project's CI or pre-commit passes to mypy;
* with ``--baselines``, what exists today is accepted so that the first run
  passes and later runs fail only on what is new:

  - ``[tool.django-gates.migrations] baseline``: today's migration findings,
    judged with the production database's rules;
  - the ruff, mypy and deploy baselines (``.django-gates/<gate>-baseline.json``,
    see :mod:`pytest_django_gates.gates._hold`), used because the files exist;
  - gitleaks: the fingerprints of the history's findings, appended to
    ``.gitleaksignore`` (gitleaks' own mechanism);
  - ``[tool.django-gates.queries] baseline``: the per-test query counts of one run
    of the suite (``pytest --django-gates --gates-update-baseline``, with N+1s
    reported rather than failing the run);
  - each N+1 (``DJG101``), write loop (``DJG107``), set of writes outside a
    transaction (``DJG108``) and query per input item (``DJG110``) that run finds
    becomes a
    ``[[tool.django-gates.queries.allow]]`` entry keyed by its file, the text of its
    line (``source``: not the line number, which moves; a new problem elsewhere in the
    file is not hidden by it) and its query shape (not its test: one problem in a shared
    view is reached by many tests, and every one of them must pass), with a reason
    saying it predates the gates. An entry whose problem is fixed is reported as unused
    (``DJG104``), so the list only shrinks.

  A suite that does not pass as it is makes ``init --baselines`` exit 1 after
  saying so: the baselines of a broken suite would hold the wrong thing. Each
  step that fails prints the command that redoes just that step, and the last
  line says whether init succeeded.

Merging (the rule a careful user expects): the file is edited with a
style-preserving TOML library, so comments, order and everything outside
``[tool.django-gates]`` stay byte for byte. init adds the keys it found that are
missing; a key that is already set keeps its value (init says what it would have
written), unless ``--force``, which updates the values of the keys init writes
(``gates`` only ever grows: a gate you listed is never removed). A key init does not
write (a coverage floor, an allow, a backend, pytest arguments) is never touched,
with or without ``--force``. Allow entries are appended when missing. Running
``init`` again on an unchanged project changes nothing; ``--baselines`` after a
plain ``init`` extends what it wrote. ``--dry-run`` prints the diff and writes
nothing. The file is written atomically.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import difflib
import importlib.util
import itertools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_django_gates.config import ConfigError
from pytest_django_gates.gates._hold import DEFAULT_DIR

if TYPE_CHECKING:
    from pytest_django_gates.report import Report

if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
    import tomllib
else:  # pragma: no cover - version dependent
    import tomli as tomllib

BASELINE_DIR = DEFAULT_DIR  # one directory for every baseline (see gates/_hold.py)
MIGRATIONS_BASELINE = f"{BASELINE_DIR}/migrations-baseline.json"
QUERY_BASELINE = f"{BASELINE_DIR}/query-baseline.json"
ADOPTED_REASON = (
    "existed when django-gates was adopted (django-gates init --baselines); "
    "fix it, then remove this entry"
)
HEADER_COMMENT = (
    "Written by `django-gates init`: run it again after changing the project's layout",
    "(it adds what is missing and keeps your values; --force updates the values it",
    "writes). Every key is in the docs' configuration page.",
)
_SKIPPED_DIRS = frozenset({"node_modules", "site-packages", "venv", "build", "dist"})
# The settings a production deployment sets from its environment.
_PRODUCTION_SETTINGS = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASES")
_NOT_PRODUCTION = re.compile(
    r"(^|[._])(test|tests|testing|dev|develop|development|local|ci)($|[._])"
)
# The floor init sets on the coverable lines a change adds or edits (coverage.patch).
PATCH_FLOOR = 80
# The queries codes init accepts today's findings of, each through an allow entry.
ALLOWED_CODES = ("DJG101", "DJG107", "DJG108", "DJG110")


@dataclass
class Plan:
    """What init found (``notes``: one line each, printed) and the values it writes."""

    root: Path
    gates: list[str] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # [[tool.django-gates.queries.allow]] entries to add (``--baselines``).
    allows: list[dict[str, Any]] = field(default_factory=list)
    settings: str | None = None  # the test settings module, when found
    settings_dirs: list[Path] = field(default_factory=list)
    # [tool.pytest.ini_options] to create: only when pytest has no configuration at all
    # and the suite is written for Django's test runner (see _pytest_setup).
    pytest_options: dict[str, Any] = field(default_factory=dict)

    def set(self, table: str, key: str, value: Any) -> None:
        self.values.setdefault(table, {})[key] = value

    @property
    def ordered_gates(self) -> list[str]:
        from pytest_django_gates.options import ALL_GATES

        return [g for g in ALL_GATES if g in self.gates]


# -- inspecting ------------------------------------------------------------------------


def inspect(root: Path, environ: Mapping[str, str]) -> Plan:
    from pytest_django_gates import config, options
    from pytest_django_gates.migrations.project import resolve_project

    plan = Plan(root=root)
    pyproject = root / "pyproject.toml"
    bare = config.load(
        options.OPTIONS, cli={}, environ={}, pyproject=pyproject if pyproject.is_file() else None
    )
    try:
        project = resolve_project(bare, root, environ)
    except ConfigError:
        plan.notes.append(
            "test settings: none found (no DJANGO_SETTINGS_MODULE in pytest's configuration or "
            "manage.py); set DJANGO_SETTINGS_MODULE under [tool.pytest.ini_options]"
        )
    else:
        plan.settings = project.settings
        plan.settings_dirs = [Path(p) for p in project.paths]
        plan.notes.append(f"test settings: {project.settings} (from {project.settings_source})")
    if importlib.util.find_spec("pytest_django") is None:
        plan.notes.append(
            "pytest-django: not installed; the test-time gates need it: pip install pytest-django"
        )
    else:
        plan.notes.append("pytest-django: installed (pytest --django-gates runs the suite)")
    _pytest_setup(plan, root)
    plan.gates += ["queries", "migrations"]
    _coverage(plan, bare)
    _production(plan, bare, root)
    _tools(plan, bare, root)
    _apps(plan, root)
    _git_base(plan, root)
    return plan


# Django's test runner finds ``test*.py`` (``DiscoverRunner.pattern``); pytest's default
# ``python_files`` is ``test_*.py *_test.py``.
DJANGO_RUNNER_FILES = "test*.py"


def _pytest_setup(plan: Plan, root: Path) -> None:
    """A project on Django's test runner (``manage.py test``) has no pytest configuration,
    and its test modules are often named as pytest does not collect them (``tests.py``,
    ``tests_views.py``): then ``pytest`` would run nothing and every test-time gate would
    judge an empty suite. init writes ``[tool.pytest.ini_options]`` with the runner's own
    file pattern (so pytest collects exactly the modules ``manage.py test`` does) and the
    test settings it found. A project with any pytest configuration is never touched:
    what it collects is the user's choice (init only counts the modules it leaves out)."""
    from pytest_django_gates import pytest_ini

    runner_only = [
        p
        for p in _python_files(root, DJANGO_RUNNER_FILES)
        if not (p.name.startswith("test_") or p.name.endswith("_test.py"))
    ]
    ini = pytest_ini.read(root)
    if ini.where:
        if runner_only and not ini.python_files:
            plan.notes.append(
                f"pytest: {_modules(runner_only)} named for Django's runner (e.g. "
                f"{runner_only[0].relative_to(root).as_posix()}) left out by the default "
                f'python_files of {ini.where}; add "{DJANGO_RUNNER_FILES}" to it'
            )
        return
    if not runner_only:
        return
    plan.pytest_options["python_files"] = [DJANGO_RUNNER_FILES]
    # Django's runner runs unittest TestCase subclasses defined at module level, nothing
    # else: no plain ``Test*`` class (nor a TestCase nested in one, an abstract base kept
    # out of discovery that way) and no ``test_*`` function. pytest collects TestCase
    # subclasses whatever these say, so empty lists collect exactly the runner's tests.
    plan.pytest_options["python_classes"] = []
    plan.pytest_options["python_functions"] = []
    if plan.settings:
        plan.pytest_options["DJANGO_SETTINGS_MODULE"] = plan.settings
    plan.notes.append(
        f"pytest: no configuration, and {_modules(runner_only)} named for "
        f"Django's runner (e.g. {runner_only[0].relative_to(root).as_posix()}): "
        f'[tool.pytest.ini_options] python_files = ["{DJANGO_RUNNER_FILES}"], '
        "python_classes = [], python_functions = [] (what manage.py test runs: its "
        "TestCase classes)"
        + (f', DJANGO_SETTINGS_MODULE = "{plan.settings}"' if plan.settings else "")
    )


def _modules(files: Sequence[Path]) -> str:
    return f"{len(files)} test module{'' if len(files) == 1 else 's'}"


def _python_files(root: Path, pattern: str) -> list[Path]:
    """The files matching ``pattern`` under ``root`` in packages, outside hidden and
    vendored directories, sorted."""
    return sorted(
        p
        for p in root.rglob(pattern)
        if not any(
            part.startswith(".") or part in _SKIPPED_DIRS for part in p.relative_to(root).parts
        )
        and (p.parent / "__init__.py").is_file()
    )


def _coverage(plan: Plan, cfg: Any) -> None:
    floors = [
        key
        for key in cfg.options
        if key.startswith("coverage.") and cfg.source(key) != "default" and key != "coverage.data"
    ]
    listed = cfg.source("gates") != "default" and "coverage" in cfg["gates"]
    if listed or floors:
        plan.gates.append("coverage")
        where = ", ".join(floors) if floors else "gates"
        plan.notes.append(f"coverage: on (configured: {where}; run pytest with --cov)")
    elif importlib.util.find_spec("coverage") is None:
        plan.notes.append(
            "coverage: left out (neither pytest-cov nor coverage.py is installed; pip install "
            "pytest-cov, then run django-gates init again for a floor on the lines each "
            "change adds)"
        )
    else:
        # Changed lines only: old code is not judged (the first run passes), every new
        # or edited line of a pull request is. A global floor is the team's choice.
        plan.gates.append("coverage")
        plan.set("coverage", "patch", PATCH_FLOOR)
        how = (
            "django-gates run adds --cov"
            if importlib.util.find_spec("pytest_cov") is not None
            else "pytest-cov is not installed: django-gates run measures with coverage run, "
            "in one process; pytest --django-gates alone does not measure (pip install "
            "pytest-cov for --cov and xdist)"
        )
        plan.notes.append(
            f"coverage: on, patch = {PATCH_FLOOR} (the lines a change adds or edits must be "
            f"{PATCH_FLOOR}% covered; old code is not judged; add line = N for a floor on "
            f"the whole project). {how}"
        )


def _production(plan: Plan, cfg: Any, root: Path) -> None:
    from pytest_django_gates.deploy.runner import resolve_target

    try:
        module, _, discovered = resolve_target(cfg, root)
        why = "found" if discovered else "configured"
    except ConfigError as exc:
        candidate = _environment_driven(plan)
        if candidate is None:
            plan.notes.append(
                f"deploy: left out ({str(exc).split(';')[0]}); if one settings module serves "
                'production too, set deploy_settings = "<that module>" under '
                "[tool.django-gates], else run django-gates init again once production "
                "settings exist"
            )
            return
        module, reads, which = candidate
        why = f"{which}; it reads {', '.join(reads)} from the environment, as production sets them"
    plan.gates.append("deploy")
    plan.set("", "deploy_settings", module)
    plan.notes.append(f"deploy: production settings {module} ({why})")
    from pytest_django_gates import config, options
    from pytest_django_gates.migrations.request import production_database

    chosen = config.load(
        options.OPTIONS, cli={"deploy_settings": module}, environ={}, pyproject=cfg.pyproject
    )
    engine = production_database(chosen, root)
    if engine:
        plan.notes.append(f"migrations: PostgreSQL rules apply (backend auto: {engine})")
    elif cfg.source("migrations.backend") != "default":
        plan.notes.append(f"migrations: backend {cfg['migrations.backend']} (configured)")
    else:
        plan.notes.append(
            "migrations: the production database engine is not written in the production "
            "settings; if production runs PostgreSQL, set [tool.django-gates.migrations] "
            'backend = "postgresql" before the migration baseline is written'
        )


def _environment_driven(plan: Plan) -> tuple[str, list[str], str] | None:
    """The settings module production runs, when no separate production module exists:
    the one manage.py sets (else the test settings), or, in a split settings package, the
    base module those star-import (``from .base import *``), that is not named for tests
    or development and reads production settings from the environment. Returns the
    module, the settings it reads, and why it was chosen."""
    from pytest_django_gates.deploy.settings_source import SettingsSource
    from pytest_django_gates.migrations.project import find_manage_py, manage_py_settings

    manage = find_manage_py(plan.root)
    candidates = [manage_py_settings(manage) if manage is not None else None, plan.settings]
    direct = list(dict.fromkeys(m for m in candidates if m))
    for module in direct:
        found = _reads_production_settings(plan, module)
        if found:
            return module, found, "the project's one settings module"
    dirs = list(plan.settings_dirs) or [plan.root]
    for module in direct:
        for base in SettingsSource.load(module, dirs).modules[1:]:
            found = _reads_production_settings(plan, base)
            if found:
                return base, found, f"the base settings module {module} star-imports"
    return None


def _reads_production_settings(plan: Plan, module: str) -> list[str]:
    from pytest_django_gates.deploy.settings_source import SettingsSource, env_reads

    if _NOT_PRODUCTION.search(module.lower()):
        return []
    dirs = list(plan.settings_dirs) or [plan.root]
    source = SettingsSource.load(module, dirs)
    if source.path is None:
        return []
    reads = []
    for setting in _PRODUCTION_SETTINGS:
        for binding in source.bindings(setting):
            if any(env_reads(e) or _reads_database_url(e) for e in source.expressions(binding)):
                reads.append(setting)
                break
    return reads


def _reads_database_url(expr: ast.AST) -> bool:
    """``dj_database_url.config()`` / ``parse(os.environ[...])``, django-environ's
    ``env.db()``: DATABASE_URL read without naming it."""
    from pytest_django_gates.deploy.settings_source import dotted

    for node in ast.walk(expr):
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name.endswith(("dj_database_url.config", "env.db", "env.db_url")):
                return True
    return False


def _tools(plan: Plan, cfg: Any, root: Path) -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    if _installed("ruff"):
        plan.gates.append("ruff")
        configured = "[tool.ruff" in text or any(
            (root / name).is_file() for name in ("ruff.toml", ".ruff.toml")
        )
        plan.notes.append(f"ruff: installed ({'configured' if configured else 'its defaults'})")
    else:
        plan.notes.append("ruff: left out (not installed)")
    _mypy(plan, cfg, root, text)
    if _installed("gitleaks"):
        plan.gates.append("gitleaks")
        plan.notes.append("gitleaks: installed")
    else:
        plan.notes.append(
            "gitleaks: left out (not installed; see the docs' gitleaks page for the ways to "
            "install it)"
        )
    _pip_audit(plan, cfg, root)


def _mypy(plan: Plan, cfg: Any, root: Path, pyproject_text: str) -> None:
    if not _installed("mypy"):
        plan.notes.append("mypy: left out (not installed)")
        return
    configs = _mypy_configs(root, pyproject_text)
    if not configs:
        plan.notes.append("mypy: left out (no [tool.mypy], mypy.ini or setup.cfg [mypy])")
        return
    where, targets = configs[0]
    if targets or cfg["mypy.paths"]:
        plan.gates.append("mypy")
        names = "mypy.paths" if cfg["mypy.paths"] else f"{targets} in {where}"
        plan.notes.append(f"mypy: installed and configured ({names})")
        return
    found = _mypy_paths_from_ci(root)
    if found is not None:
        paths, source = found
        plan.gates.append("mypy")
        plan.set("mypy", "paths", paths)
        plan.notes.append(
            f"mypy: installed; {where} names no files, packages or modules, so paths = {paths} "
            f"as {source} runs it"
        )
        return
    plan.notes.append(
        f"mypy: left out: {where} names no files, packages or modules to check; set files = "
        "[...] there or "
        '[tool.django-gates.mypy] paths = ["your_package"], then run django-gates init again'
    )


_MYPY_TARGETS = ("files", "packages", "modules")


def _mypy_configs(root: Path, pyproject_text: str) -> list[tuple[str, str]]:
    """mypy's configuration files in mypy's order, each with what it names to check:
    ``files``, ``packages`` or ``modules`` (each of which plain ``mypy`` reads), shown as
    ``files = a, b``; "" when it names none."""
    found: list[tuple[str, str]] = []
    for name in ("mypy.ini", ".mypy.ini"):
        path = root / name
        if path.is_file():
            found.append((name, _ini_targets(path)))
    if "[tool.mypy" in pyproject_text:
        try:
            table = tomllib.loads(pyproject_text).get("tool", {}).get("mypy", {})
        except tomllib.TOMLDecodeError:
            table = {}
        shown = []
        for key in _MYPY_TARGETS:
            value = table.get(key, "") if isinstance(table, dict) else ""
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            if text.strip():
                shown.append(f"{key} = {text.strip()}")
        found.append(("[tool.mypy]", "; ".join(shown)))
    for name in ("setup.cfg",):
        path = root / name
        if path.is_file() and "[mypy]" in path.read_text(encoding="utf-8", errors="replace"):
            found.append((f"{name} [mypy]", _ini_targets(path)))
    return found


def _ini_targets(path: Path) -> str:
    shown = []
    for key in _MYPY_TARGETS:
        value = _ini_value(path, "mypy", key)
        if value:
            shown.append(f"{key} = {value}")
    return "; ".join(shown)


def _ini_value(path: Path, section: str, key: str) -> str:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return ""
    return parser.get(section, key, fallback="").strip()


_MYPY_CALL = re.compile(r"(?:^|[\s;&|'\"])(?:python3?\s+-m\s+)?mypy((?:\s+[^\s;&|'\"#]+)*)")


def _mypy_paths_from_ci(root: Path) -> tuple[list[str], str] | None:
    """The paths the project's CI (GitHub workflows, tox.ini, a Makefile, pre-commit's
    args) passes to mypy, when they all exist; else None."""
    sources = sorted((root / ".github" / "workflows").glob("*.y*ml"))
    sources += [root / n for n in ("tox.ini", "Makefile", "noxfile.py", ".pre-commit-config.yaml")]
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _MYPY_CALL.finditer(text):
            args = match.group(1).split()
            paths = [
                a.rstrip("/")
                for a in args
                if not a.startswith("-") and (root / a).exists() and a not in (".",)
            ]
            if paths:
                return sorted(dict.fromkeys(paths)), path.relative_to(root).as_posix()
            if args and all(not a.startswith("-") for a in args) and args == ["."]:
                return ["."], path.relative_to(root).as_posix()
    return None


# What ``makemigrations`` writes for a new field: the probe init gives ruff.
_FRESH_MIGRATION = """\
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("app", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="item",
            name="code",
            field=models.CharField(default="", max_length=20),
        ),
    ]
"""
RUFF_MIGRATIONS_GLOB = "**/migrations/*.py"


def ruff_on_fresh_migrations(root: Path) -> list[str]:
    """The codes the project's ruff configuration reports on a fresh ``makemigrations``
    file placed in one of its migrations folders (empty: it passes, or ruff is absent)."""
    import json

    ruff = Path(sys.executable).parent / "ruff"
    command = str(ruff) if ruff.is_file() else shutil.which("ruff")
    if command is None:
        return []
    folders = sorted(
        p
        for p in root.glob("**/migrations/__init__.py")
        if not any(part.startswith(".") or part in _SKIPPED_DIRS for part in p.parts)
    )
    where = folders[0].parent if folders else root / "app" / "migrations"
    probe = (where / "9999_django_gates_probe.py").relative_to(root).as_posix()
    try:
        proc = subprocess.run(
            [command, "check", "--output-format", "json", "--no-cache", "--exit-zero",
             "--stdin-filename", probe, "-"],
            input=_FRESH_MIGRATION, capture_output=True, text=True, cwd=root, timeout=60,
        )  # fmt: skip
        found = json.loads(proc.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return []
    return sorted({str(f.get("code")) for f in found if isinstance(f, dict) and f.get("code")})


def ruff_config_file(root: Path) -> tuple[Path, tuple[str, ...]]:
    """Where the project's ruff configuration is, and the key path of its per-file
    ignores there (ruff's own precedence: .ruff.toml, ruff.toml, pyproject.toml)."""
    for name in (".ruff.toml", "ruff.toml"):
        if (root / name).is_file():
            return root / name, ("lint", "per-file-ignores")
    return root / "pyproject.toml", ("tool", "ruff", "lint", "per-file-ignores")


def ignore_in_ruff(root: Path, codes: Sequence[str]) -> tuple[Path, str]:
    """Add ``codes`` to the per-file ignores of migrations in the ruff configuration;
    returns the file and its new text (the caller writes it)."""
    import tomlkit

    path, keys = ruff_config_file(root)
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    doc = tomlkit.parse(before)
    table: Any = doc
    parents = keys[:-1]
    legacy = doc.get("tool", {}).get("ruff", {}) if keys[0] == "tool" else doc
    if "per-file-ignores" in legacy and "lint" not in legacy:
        parents = keys[:-2]  # the file uses ruff's older top-level key: stay with it
    for key in parents:
        if key not in table:
            table[key] = tomlkit.table(is_super_table=key == "tool")
        table = table[key]
    ignores = table.setdefault("per-file-ignores", tomlkit.table())
    current = [str(c) for c in ignores.get(RUFF_MIGRATIONS_GLOB, [])]
    ignores[RUFF_MIGRATIONS_GLOB] = current + [c for c in codes if c not in current]
    return path, _spaced(tomlkit.dumps(doc), before)


def _ruff_migrations(root: Path, *, write: bool, out: Any) -> None:
    codes = ruff_on_fresh_migrations(root)
    if not codes:
        return
    path, after = ignore_in_ruff(root, codes)
    listed = ", ".join(codes)
    if write:
        from pytest_django_gates.report import atomic_write_text

        atomic_write_text(path, after)
        out.write(
            f"ruff: {path.name}: {RUFF_MIGRATIONS_GLOB} now ignores {listed} (a fresh "
            "makemigrations file failed them)\n"
        )
        return
    out.write(
        f"WARNING ruff: a fresh makemigrations file fails your ruff configuration ({listed}), "
        f'so every new migration would fail the ruff gate. Add "{RUFF_MIGRATIONS_GLOB}" = '
        f"{json_list(codes)} to the per-file-ignores of {path.name}, or run "
        "django-gates init --ruff-ignore-migrations to write it\n"
    )


def json_list(codes: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{c}"' for c in codes) + "]"


def _pip_audit(plan: Plan, cfg: Any, root: Path) -> None:
    if not _installed("pip-audit"):
        plan.notes.append("pip-audit: left out (not installed)")
        return
    if cfg["pip-audit.resolve"]:
        plan.gates.append("pip-audit")
        plan.notes.append("pip-audit: installed (resolve = true: pip resolves the requirements)")
        return
    files = [root / f for f in cfg["pip-audit.requirements"]] or sorted(
        {*root.glob("requirements*.txt"), *root.glob("requirements/*.txt")}
    )
    unpinned = []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for number, raw in enumerate(lines, start=1):
            line = raw.split(" #", 1)[0].strip()
            if line and not line.startswith(("#", "-")) and "==" not in line and "@" not in line:
                unpinned.append(f"{path.relative_to(root).as_posix()}:{number} ({line})")
    if unpinned:
        more = f" and {len(unpinned) - 1} more" if len(unpinned) > 1 else ""
        plan.notes.append(
            f"pip-audit: left out: unpinned requirement at {unpinned[0]}{more}; it audits "
            "pinned lines only. Pin them (pip-compile, uv pip compile), or set "
            "[tool.django-gates.pip-audit] resolve = true, then add it to gates"
        )
        return
    plan.gates.append("pip-audit")
    plan.notes.append("pip-audit: installed")


def _installed(tool: str) -> bool:
    """As the tool gates find it: next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / tool
    return (beside.is_file() and os.access(beside, os.X_OK)) or shutil.which(tool) is not None


def _apps(plan: Plan, root: Path) -> None:
    """The project's apps: the INSTALLED_APPS of the test settings that live in the
    project (read with ast), else the packages with an apps.py."""
    apps = _installed_apps(plan, root)
    source = "INSTALLED_APPS"
    if not apps:
        source = "apps.py files"
        apps = sorted(
            p.parent.relative_to(root).as_posix()
            for p in root.glob("**/apps.py")
            if not any(part.startswith(".") or part in _SKIPPED_DIRS for part in p.parts)
            and (p.parent / "__init__.py").is_file()
        )
    shown = ", ".join(apps[:12]) + (f" (+{len(apps) - 12} more)" if len(apps) > 12 else "")
    plan.notes.append(f"apps: {len(apps)} from {source}: {shown}" if apps else "apps: none found")


def _installed_apps(plan: Plan, root: Path) -> list[str]:
    from pytest_django_gates.deploy.settings_source import SettingsSource
    from pytest_django_gates.migrations.project import find_manage_py, manage_py_settings

    manage = find_manage_py(root)
    modules = [plan.settings, manage_py_settings(manage) if manage is not None else None]
    names: list[str] = []
    for module in dict.fromkeys(m for m in modules if m):
        source = SettingsSource.load(module, plan.settings_dirs or [root])
        for binding in source.bindings("INSTALLED_APPS"):
            # INSTALLED_APPS = DJANGO_APPS + PROJECT_APPS: the lists it is built from too
            for piece in source.expressions(binding):
                for node in ast.walk(piece):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        names.append(node.value)
    found = []
    for name in dict.fromkeys(names):
        parts = name.split(".")
        if len(parts) > 1 and parts[-1][:1].isupper():  # "shop.apps.ShopConfig"
            parts = parts[:-2] if parts[-2] == "apps" else parts[:-1]
        for directory in plan.settings_dirs:
            package = directory.joinpath(*parts)
            if (package / "__init__.py").is_file():
                if package.resolve().is_relative_to(root.resolve()):
                    found.append(package.resolve().relative_to(root.resolve()).as_posix())
                break
    return sorted(dict.fromkeys(found))


def _git_base(plan: Plan, root: Path) -> None:
    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    if git("rev-parse", "--is-inside-work-tree") != "true":
        plan.notes.append("git: not a work tree (the gates that compare with a base need git)")
        return
    base = git("rev-parse", "--abbrev-ref", "origin/HEAD")
    if not base:
        for name in ("main", "master"):
            if git("show-ref", "--verify", "--quiet", f"refs/heads/{name}") is not None:
                base = name
                break
    if base:
        plan.notes.append(
            f"git base: {base} (pull requests get their base from CI; locally: "
            f"django-gates run --since {base})"
        )
    else:
        plan.notes.append("git base: none found (no origin/HEAD, main or master)")


# -- writing ---------------------------------------------------------------------------


def allow_key(entry: Mapping[str, Any]) -> tuple[object, ...]:
    return (
        entry.get("test"),
        entry.get("location"),
        entry.get("sql"),
        entry.get("code"),
        entry.get("source"),
    )


def merge(text: str, plan: Plan, *, force: bool = False) -> tuple[str, list[str]]:
    """``text`` (a pyproject.toml) with what ``plan`` found merged in (see the module
    docstring); returns the new text and one line per value kept as the user had it."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(
            f"pyproject.toml is not valid TOML: {exc}; fix it, then run init again"
        ) from None
    tool = doc.get("tool")
    if tool is None:
        tool = tomlkit.table(is_super_table=True)
        doc["tool"] = tool
    if plan.pytest_options and tool.get("pytest") is None:
        pytest_table = tomlkit.table(is_super_table=True)
        ini_options = tomlkit.table()
        for key, value in plan.pytest_options.items():
            ini_options[key] = value
        pytest_table["ini_options"] = ini_options
        tool["pytest"] = pytest_table
    table = tool.get("django-gates")
    kept: list[str] = []
    if table is None:
        table = tomlkit.table()
        for line in HEADER_COMMENT:
            table.add(tomlkit.comment(line))
        tool["django-gates"] = table
    current = table.get("gates")
    if current is None:
        table["gates"] = plan.ordered_gates
    else:
        mine = [str(g) for g in current]
        missing = [g for g in plan.ordered_gates if g not in mine]
        if missing and force:
            table["gates"] = [*mine, *missing]
        elif missing:
            kept.append(f"gates: kept yours; init would add {', '.join(missing)} (--force adds)")
    for section, entries in plan.values.items():
        target = table
        if section:
            target = table.get(section)
            if target is None:
                target = tomlkit.table()
                table[section] = target
        for key, value in entries.items():
            name = f"{section}.{key}" if section else key
            if key not in target:
                target[key] = value
            elif _plain(target[key]) != value:
                if force:
                    target[key] = value
                else:
                    kept.append(
                        f"{name}: kept yours ({_plain(target[key])!r}); init found {value!r} "
                        "(--force writes it)"
                    )
    if plan.allows:
        queries = table.get("queries")
        if queries is None:
            queries = tomlkit.table()
            table["queries"] = queries
        existing = queries.get("allow")
        if existing is None:
            existing = tomlkit.aot()
            queries["allow"] = existing
        known = {allow_key(_plain(e)) for e in existing}
        for entry in plan.allows:
            if allow_key(entry) in known:
                continue
            known.add(allow_key(entry))
            item = tomlkit.table()
            for key, value in entry.items():
                item[key] = value
            existing.append(item)
    merged = _spaced(tomlkit.dumps(doc), text)
    return merged, kept


def _plain(value: Any) -> Any:
    unwrap = getattr(value, "unwrap", None)
    return unwrap() if callable(unwrap) else value


_HEADER = re.compile(r"^\[\[?[^\]]+\]\]?\s*(#.*)?$")


def _spaced(text: str, original: str) -> str:
    """One blank line before each table header that follows a line it did not follow in
    ``original`` (tomlkit adds none when it inserts a table); the user's own layout stays
    as it was, and the data is unchanged (checked)."""
    before = original.split("\n")
    pairs = set(itertools.pairwise(before))
    out: list[str] = []
    for line in text.split("\n"):
        if _HEADER.match(line) and out and out[-1].strip() and (out[-1], line) not in pairs:
            out.append("")
        out.append(line)
    spaced = "\n".join(out)
    try:
        same = tomllib.loads(spaced) == tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        same = False
    return spaced if same else text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="Print the diff, write nothing.")
    parser.add_argument(
        "--force",
        action="store_true",
        help="Update the values of the keys init writes when yours differ (gates only grow; "
        "keys init does not write are never touched).",
    )
    parser.add_argument(
        "--ruff-ignore-migrations",
        action="store_true",
        help="When a fresh makemigrations file fails the project's ruff configuration, add "
        "its codes to ruff's per-file ignores of **/migrations/*.py (init only says so "
        "without this).",
    )
    parser.add_argument(
        "--baselines",
        action="store_true",
        help="Accept what exists today (migration, ruff, mypy, deploy and gitleaks findings, "
        "query counts, N+1s and write findings; this runs the test suite once) so that the "
        "first run passes and later runs fail only on what is new.",
    )
    parser.add_argument(
        "--no-clock-probe",
        dest="clock_probe",
        action="store_false",
        help="With --baselines: run the test suite once, not a second time with Django's "
        "clock moved (for a slow suite whose data does not follow the time of day).",
    )


def run(args: argparse.Namespace, root: Path, out: Any) -> int:
    """The ``init`` command; returns the exit code."""
    if not args.clock_probe and not args.baselines:
        raise ConfigError(
            "--no-clock-probe: only means something with --baselines (the probe is init's "
            "second test-suite run); add --baselines or drop it"
        )
    plan = inspect(root, os.environ)
    pyproject = root / "pyproject.toml"
    if args.baselines:
        plan.set("migrations", "baseline", MIGRATIONS_BASELINE)
        plan.set("queries", "baseline", QUERY_BASELINE)
    before = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    after, kept = merge(before, plan, force=args.force)
    for note in plan.notes + kept:
        out.write(f"  {note}\n")
    if args.dry_run:
        out.writelines(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                fromfile=f"{pyproject.name} (now)",
                tofile=f"{pyproject.name} (init)",
            )
        )
        out.write("dry run: nothing written\n")
        return 0
    if after == before:
        out.write(f"{pyproject}: up to date\n")
    else:
        from pytest_django_gates.report import atomic_write_text

        atomic_write_text(pyproject, after)
        out.write(f"{pyproject}: {'updated' if before else 'written'}\n")
    if "ruff" in plan.gates:
        _ruff_migrations(root, write=args.ruff_ignore_migrations, out=out)
    if not args.baselines:
        out.write("next: django-gates init --baselines (accepts what exists today), then run\n")
        return 0
    code = _baselines(plan, root, pyproject, out, clock_probe=args.clock_probe)
    if code == 0:
        out.write("done: every baseline written; next: django-gates run (commit the files)\n")
    else:
        out.write(
            f"init --baselines did not finish (exit {code}): redo the steps above that say "
            "so, with the command each names\n"
        )
    return code


def _baselines(
    plan: Plan, root: Path, pyproject: Path, out: Any, *, clock_probe: bool = True
) -> int:
    """Write the baselines of ``--baselines`` (the table is already written); the exit code."""
    from pytest_django_gates import config, options
    from pytest_django_gates.gates import GateContext, run_gate
    from pytest_django_gates.report import Report, exit_code

    (root / BASELINE_DIR).mkdir(exist_ok=True)
    codes = []
    steps: list[tuple[str, dict[str, Any], str]] = [
        (
            "migrations",
            {
                "migrations.update_baseline": True,
                "migrations.baseline": str(root / MIGRATIONS_BASELINE),
            },
            "django-gates migrations --update-baseline",
        ),
    ]
    steps += [
        (gate, {"run.update_baselines": True}, f"django-gates run --only {gate} --update-baselines")
        for gate in ("ruff", "mypy", "deploy", "gitleaks")
        if gate in plan.gates
    ]
    for gate, cli, command in steps:
        try:
            cfg = config.load(options.OPTIONS, cli=cli, environ=os.environ, pyproject=pyproject)
            result, _ = run_gate(gate, GateContext(config=cfg, rootdir=root))
        except ConfigError as exc:
            out.write(f"{gate} baseline: not written: {exc}\n  redo: {command}\n")
            codes.append(2)
            continue
        code = exit_code(Report(gates=(result,)))
        out.write(f"{gate} baseline: {result.summary}\n")
        if code:
            out.write(f"  redo: {command}\n")
        codes.append(code)
    if importlib.util.find_spec("pytest_django") is None:
        out.write("queries baseline: not written (pytest-django is not installed)\n")
    else:
        codes.append(_query_baselines(plan, root, pyproject, out, clock_probe=clock_probe))
    return max(codes)


def allow_entries(
    findings: Sequence[Any],
    root: Path | None = None,
    moved: Sequence[Any] | None = None,
    clock_tests: Container[str] = (),
) -> list[dict[str, Any]]:
    """One ``queries.allow`` entry per problem of today (DJG101, DJG107, DJG108, DJG110): its
    file, the text of its line (``source``: the entry follows the line when lines above
    it move, and a new problem on another line of the file is not hidden by it; read
    from ``root``) and its query shape, whatever test reached it.

    ``moved``: the findings of the run with Django's clock moved (the clock probe), when
    it ran. Its problems are today's too (the same code at another hour), and an entry
    that only one of the two runs needed, or that only tests of ``clock_tests`` (the tests
    whose count followed the clock) needed, gets ``clock = true``: its problem comes and
    goes with the time of day, so it is never reported unused (``DJG104``). A grouped
    finding is judged by the test it names."""
    found, tests = _entries(findings, root)
    other, moved_tests = _entries(moved, root) if moved is not None else (found, tests)
    merged: dict[tuple[object, ...], dict[str, Any]] = {}
    for key in {*found, *other}:
        entry: dict[str, Any] = dict(found.get(key) or other[key])
        needed_by = tests.get(key, set()) | moved_tests.get(key, set())
        if (key in found) != (key in other) or all(t in clock_tests for t in needed_by):
            entry["clock"] = True
        merged[key] = entry
    return [merged[k] for k in sorted(merged, key=lambda k: tuple(str(p) for p in k))]


def _entries(
    findings: Sequence[Any], root: Path | None
) -> tuple[dict[tuple[object, ...], dict[str, Any]], dict[tuple[object, ...], set[str]]]:
    """The allow entries of ``findings`` by key, and the tests that needed each."""
    from pytest_django_gates.queries.detect import shape_in_message
    from pytest_django_gates.queries.evaluate import allow_code, line_text

    entries: dict[tuple[object, ...], dict[str, Any]] = {}
    tests: dict[tuple[object, ...], set[str]] = {}
    for finding in findings:
        if finding.code not in ALLOWED_CODES:
            continue
        entry: dict[str, str] = {}
        if finding.path:
            entry["location"] = f"{_portable(finding.path)}:*"
            text = line_text(root, finding.path, finding.line) if root is not None else None
            if text:
                entry["source"] = text
        shape = shape_in_message(finding.message)
        if shape:
            entry["sql"] = table_part(shape, finding.code)
        if not entry:  # nothing to key it by but the test
            entry["test"] = finding.object
        # An old DJG108 must not hide a new N+1 of the file (DJG101 and DJG110 are one).
        entry["code"] = allow_code(finding.code)
        entry["reason"] = f"{finding.code} {ADOPTED_REASON}"
        entries.setdefault(allow_key(entry), entry)
        tests.setdefault(allow_key(entry), set()).add(str(finding.object))
    return entries, tests


_TABLE = re.compile(
    r'^(?:SELECT\s+"(?P<select>[^"]+)"\.|INSERT\s+INTO\s+"(?P<insert>[^"]+)"|'
    r'UPDATE\s+"(?P<update>[^"]+)"|DELETE\s+FROM\s+"(?P<delete>[^"]+)")',
    re.IGNORECASE,
)


def table_part(shape: str, code: str) -> str:
    """The part of a query shape an allow keeps: the table, not the column list, so that
    adding a field to the model does not bring an accepted problem back. For a SELECT the
    table its first column is read from (``"grid_grid".``: with multi-table inheritance
    that is the parent's table while the FROM names the child's); for a write the
    statement and its table (``INSERT INTO "shift"``); for DJG108 the table alone (a
    unit's first write may be its INSERT or its UPDATE). Else the shape as shown."""
    match = _TABLE.match(shape)
    if match is None:
        return shape
    kind = next(k for k in ("select", "insert", "update", "delete") if match[k])
    table = match[kind]
    if code == "DJG108":
        return f'"{table}"'
    return {
        "select": f'"{table}".',
        "insert": f'INSERT INTO "{table}"',
        "update": f'UPDATE "{table}"',
        "delete": f'DELETE FROM "{table}"',
    }[kind]


def _portable(path: str) -> str:
    """A finding's path as an allow can keep it on every machine: a file of an installed
    package (a library's template) by its path inside site-packages, as a glob."""
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            return "*/" + path.split(marker, 1)[1]
    return path


def _said(out: Any, line: str) -> None:
    out.write(line + "\n")
    out.flush()


# How far init's second run moves Django's clock (queries/clock.py): half a day, so that
# a test whose rows are made up to "now" meets another part of the day.
CLOCK_PROBE_HOURS = 12.0


class _SuiteNotRun(Exception):
    """The suite could not run, or did not finish: the message says why."""


def _run_suite(
    extra: Sequence[str], root: Path, pyproject: Path, tmp: Path, out: Any
) -> tuple[subprocess.CompletedProcess[str], Report | None, Path]:
    """Run the suite as ``django-gates run`` does, with only the queries gate, updating a
    query baseline (``extra`` names it); returns the process, its report (None when it
    wrote none) and its outcomes file."""
    from pytest_django_gates import config, options, runner, suite_process
    from pytest_django_gates.report import Report, ReportError

    report_path = tmp / "report.json"
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "--django-gates",
        "--gates-update-baseline",
        *extra,
        "--gates-n-plus-one=report",
        "--gates-write-loops=report",
        "--gates-non-atomic-writes=report",
        f"--gates-report={report_path}",
        "-p",
        "pytest_django_gates.run_outcomes",  # its progress file, shown while we wait
        "-q",
    ]
    outcomes = tmp / "outcomes.json"
    env = dict(os.environ, DJANGO_GATES_GATES="queries")
    env.setdefault("PYTHONHASHSEED", suite_process.HASH_SEED)  # as django-gates run
    env[runner.OUTCOMES_ENV] = str(outcomes)

    def progress(seconds: float) -> None:
        runner.show_progress(outcomes, seconds, lambda line: _said(out, line))

    timeout = float(
        config.load(options.OPTIONS, cli={}, environ=os.environ, pyproject=pyproject)["run.timeout"]
    )
    try:
        # As django-gates run runs it: its own process group, stopped whole (xdist
        # workers too) on Ctrl-C, SIGTERM or the run's timeout.
        proc = suite_process.run(
            argv,
            cwd=root,
            env=env,
            timeout=timeout,
            progress=progress,
            every=runner.PROGRESS_TTY_SECONDS
            if sys.stderr.isatty()
            else runner.PROGRESS_LOG_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise _SuiteNotRun(
            f"the test suite did not finish within {timeout:g} s ([tool.django-gates.run] timeout)"
        ) from None
    except OSError as exc:
        raise _SuiteNotRun(f"cannot run {argv[0]}: {exc}") from None
    try:
        report = Report.load(report_path)
    except ReportError:
        report = None
    return proc, report, outcomes


def _query_baselines(
    plan: Plan, root: Path, pyproject: Path, out: Any, *, clock_probe: bool = True
) -> int:
    """Run the suite once: its query counts become the baseline, its N+1s allow entries.
    Then run it again with Django's clock moved (:func:`_clock_probe`), unless
    ``clock_probe`` is false (``--no-clock-probe``: the suite runs once, and init says
    what that leaves out)."""
    import tempfile

    from pytest_django_gates.report import atomic_write_text

    redo = "  redo: django-gates init --baselines\n"
    with tempfile.TemporaryDirectory(prefix="django-gates-init-") as tmp:
        extra = [f"--gates-query-baseline={root / QUERY_BASELINE}"]
        out.write(
            "queries baseline: running the test suite (-m pytest --django-gates "
            "--gates-update-baseline ...)\n"
        )
        try:
            proc, report, _ = _run_suite(extra, root, pyproject, Path(tmp), out)
        except _SuiteNotRun as exc:
            out.write(f"queries baseline: not written: {exc}\n{redo}")
            return 3
    if proc.returncode == 5:  # pytest: no tests collected
        out.write("queries baseline: no test collected, so no count to hold yet\n")
        return 0
    if report is None or proc.returncode != 0:
        from pytest_django_gates.gates._tools import tail

        output = tail(proc.stdout + proc.stderr, 1500)
        out.write(
            f"queries baseline: not written: the test suite exited {proc.returncode}; make it "
            f"pass, then run django-gates init --baselines again\n{output}\n"
        )
        return 1
    gate = report.gate("queries")
    out.write(
        f"queries baseline: {root / QUERY_BASELINE} written ({gate.summary if gate else ''})\n"
    )
    if clock_probe:
        moved, follows = _clock_probe(root, pyproject, out)
    else:
        moved, follows = None, ()
        out.write(
            "clock probe: skipped (--no-clock-probe): a test whose query count follows the "
            "time of day will fail on growth; run init --baselines without it to list them\n"
        )
    plan.allows = allow_entries(gate.findings if gate else (), root, moved, follows)
    before = pyproject.read_text(encoding="utf-8")
    after, _ = merge(before, plan)
    if after != before:
        atomic_write_text(pyproject, after)
    counts: dict[str, int] = {}
    for finding in gate.findings if gate else ():
        if finding.code in ALLOWED_CODES:
            counts[finding.code] = counts.get(finding.code, 0) + 1
    if counts:
        listed = ", ".join(f"{n} {code}" for code, n in sorted(counts.items()))
        clock = sum(1 for entry in plan.allows if entry.get("clock"))
        also = (
            f"; {clock} entr{'y' if clock == 1 else 'ies'} with clock = true: needed at one "
            "time of day only, or only "
            "by tests whose count follows the clock"
            if clock
            else ""
        )
        out.write(
            f"queries: today's findings ({listed}{also}) allowed by file and query in "
            f"[[tool.django-gates.queries.allow]] of {pyproject.name}; fix them, then remove "
            "their entries\n"
        )
    return 0


def _clock_probe(root: Path, pyproject: Path, out: Any) -> tuple[list[Any] | None, Container[str]]:
    """Run the suite again with Django's clock moved by :data:`CLOCK_PROBE_HOURS`; each
    test that passed both times with a different query count follows the clock, and is
    written to the baseline's ``clock`` list (queries/baseline.py), whose growth is a
    warning. A probe that cannot run leaves the baseline as it is and says so: the
    baseline is right without it, only stricter on those tests. Returns the probe run's
    queries findings (None when it did not run) and the tests that follow the clock."""
    import json
    import tempfile

    from pytest_django_gates.queries import baseline

    path = root / QUERY_BASELINE
    hours = f"{CLOCK_PROBE_HOURS:g}"
    out.write(
        f"queries baseline: running the test suite again with Django's clock moved {hours} h, "
        "to find the tests whose query count follows the time of day\n"
    )
    with tempfile.TemporaryDirectory(prefix="django-gates-clock-") as tmp:
        probe = Path(tmp) / "probe-baseline.json"
        extra = [f"--gates-query-baseline={probe}", f"--gates-clock-shift={hours}"]
        try:
            proc, report, outcomes = _run_suite(extra, root, pyproject, Path(tmp), out)
        except _SuiteNotRun as exc:
            proc, report, outcomes = None, None, None
            why = str(exc)
        if proc is not None and (report is None or proc.returncode not in (0, 1)):
            why = f"the suite exited {proc.returncode}"
            proc = None
        if proc is None or outcomes is None or report is None:
            out.write(
                f"clock probe: not run ({why}); the query baseline holds every test's count "
                "as it is\n"
            )
            return None, ()
        probe_gate = report.gate("queries")
        findings = list(probe_gate.findings) if probe_gate else []
        try:
            ended = json.loads(outcomes.read_text(encoding="utf-8"))
            failed = {str(t["nodeid"]) for t in ended["failures"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            out.write(
                f"clock probe: not used: its outcomes file {outcomes} is unreadable ({exc})\n"
            )
            return None, ()
        rebuild = "django-gates init --baselines"
        try:
            moved = baseline.load(probe, rebuild).counts
            held = baseline.load(path, rebuild)
        except baseline.CorruptBaseline as exc:
            out.write(f"clock probe: not used: {exc}\n")
            return None, ()
    follows = {
        nodeid: (count, moved[nodeid])
        for nodeid, count in held.counts.items()
        if nodeid in moved and moved[nodeid] != count and nodeid not in failed
    }
    unjudged = (
        f"; {len(failed)} test(s) failed with the clock moved, their counts not compared"
        if failed
        else ""
    )
    if not follows:
        out.write(
            f"clock probe: no test's query count moved with the clock ({hours} h){unjudged}\n"
        )
        return findings, follows
    baseline.write(path, held, baseline.Baseline(clock=follows))
    shown = "; ".join(f"{k}: {a} -> {b}" for k, (a, b) in sorted(follows.items())[:3])
    more = f"; and {len(follows) - 3} more" if len(follows) > 3 else ""
    out.write(
        f"clock probe: {len(follows)} test(s) ran another number of queries with the clock "
        f"moved {hours} h ({shown}{more}); their growth is a warning (the baseline's clock "
        f"list): give them a fixed clock to hold their counts{unjudged}\n"
    )
    return findings, follows
