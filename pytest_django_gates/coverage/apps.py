"""Which Django app a file belongs to, from the project's own app registry.

Under ``pytest --django-gates`` pytest-django has already set Django up, so the
registry of the running process is read. From ``django-gates coverage`` the
registry is read in a **subprocess** (``python -c`` with the same interpreter):
importing a project's settings can have side effects (database URLs, logging,
environment checks) that must not leak into the gate's process, and the
subprocess gets exactly the ``sys.path`` and settings the project's tests use.

The settings module is the first of: ``--settings`` / ``DJANGO_GATES_COVERAGE_SETTINGS``
/ ``[tool.django-gates.coverage] settings``; ``DJANGO_SETTINGS_MODULE``; the
``DJANGO_SETTINGS_MODULE`` of the pytest configuration (``[tool.pytest.ini_options]`` or
pytest 9's ``[tool.pytest]``,
``pytest.ini``, ``tox.ini``, ``setup.cfg``). ``sys.path`` gets ``coverage.pythonpath``,
pytest's ``pythonpath`` ini option, the project root and the directory of
``manage.py`` (at the root or one level below), like pytest-django.

A file belongs to the app whose directory contains it; with nested apps the
innermost one wins. Project apps are the apps whose directory is inside the
project root (and not in a ``site-packages`` there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_django_gates.config import ConfigError, GatesConfig

if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
    pass
else:  # pragma: no cover - version dependent
    pass

_MARK = "DJANGO_GATES_APPS="
_PROBE = f"""
import json, os, django
django.setup()
from django.apps import apps
print({_MARK!r} + json.dumps([
    {{"label": a.label, "name": a.name, "path": os.path.realpath(a.path)}}
    for a in apps.get_app_configs()
]))
"""
PROBE_TIMEOUT = 120


@dataclass(frozen=True)
class App:
    label: str
    name: str
    path: str


@dataclass(frozen=True)
class Settings:
    module: str
    source: str
    pythonpath: tuple[str, ...]


class AppIndex:
    """Maps absolute file paths to the innermost app that contains them."""

    def __init__(self, apps: Iterable[App], rootdir: Path) -> None:
        self.apps = list(apps)
        self.rootdir = Path(os.path.realpath(rootdir))
        self._by_depth = sorted(self.apps, key=lambda a: len(a.path), reverse=True)

    def app_of(self, abspath: str) -> App | None:
        for app in self._by_depth:
            if abspath == app.path or abspath.startswith(app.path.rstrip(os.sep) + os.sep):
                return app
        return None

    def get(self, label: str) -> App | None:
        for app in self.apps:
            if app.label == label:
                return app
        return None

    def project_apps(self) -> list[App]:
        root = str(self.rootdir).rstrip(os.sep) + os.sep
        return [
            a
            for a in self.apps
            if a.path.startswith(root)
            and not {"site-packages", "dist-packages"} & set(Path(a.path).parts)
        ]

    def labels(self) -> list[str]:
        return [a.label for a in self.apps]


def load_apps(
    cfg: GatesConfig, rootdir: Path, *, in_pytest: bool, environ: Mapping[str, str]
) -> AppIndex:
    """The app registry of the project (in-process under pytest, else a subprocess)."""
    if in_pytest:
        apps = _in_process()
        if apps is not None:
            return AppIndex(apps, rootdir)
    settings = resolve_settings(cfg, rootdir, environ)
    return AppIndex(probe(settings, rootdir, environ), rootdir)


def _in_process() -> list[App] | None:
    try:
        from django.apps import apps as registry
    except ImportError:  # pragma: no cover - Django is a dependency
        return None
    if not registry.ready:
        return None
    return [
        App(label=a.label, name=a.name, path=os.path.realpath(a.path))
        for a in registry.get_app_configs()
    ]


def resolve_settings(cfg: GatesConfig, rootdir: Path, environ: Mapping[str, str]) -> Settings:
    pythonpath: list[str] = [str(_under(rootdir, p)) for p in cfg["coverage.pythonpath"]]
    from pytest_django_gates import pytest_ini

    ini = pytest_ini.read(rootdir)
    pythonpath.extend(str(_under(ini.root or rootdir, p)) for p in ini.pythonpath)
    pythonpath.append(str(rootdir))
    pythonpath.extend(str(p.parent) for p in _manage_py(rootdir))
    module: str | None = cfg["coverage.settings"]
    source = cfg.source("coverage.settings")
    if not module and environ.get("DJANGO_SETTINGS_MODULE"):
        module, source = environ["DJANGO_SETTINGS_MODULE"], "environment (DJANGO_SETTINGS_MODULE)"
    if not module and ini.settings:
        module, source = ini.settings, f"{ini.where} DJANGO_SETTINGS_MODULE"
    if not module:
        raise ConfigError(
            "per-app coverage (app floors, the baseline) reads Django's app registry, which "
            "needs the project's settings: pass --settings MODULE, set DJANGO_SETTINGS_MODULE, "
            "or set settings in [tool.django-gates.coverage]"
        )
    return Settings(module=module, source=source, pythonpath=tuple(dict.fromkeys(pythonpath)))


def probe(settings: Settings, rootdir: Path, environ: Mapping[str, str]) -> list[App]:
    env = dict(environ)
    existing = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join([*settings.pythonpath, *([existing] if existing else [])])
    env["DJANGO_SETTINGS_MODULE"] = settings.module
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE],
            cwd=rootdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(
            f"loading Django settings {settings.module!r} ({settings.source}) took more than "
            f"{PROBE_TIMEOUT}s; does importing them wait for a service?"
        ) from exc
    payload = next(
        (line[len(_MARK) :] for line in proc.stdout.splitlines() if line.startswith(_MARK)), None
    )
    if proc.returncode != 0 or payload is None:
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()][-1:]
        raise ConfigError(
            f"cannot set up Django with settings {settings.module!r} ({settings.source}) "
            f"to read the app registry: {tail[0] if tail else f'exit {proc.returncode}'}; "
            "check --settings / DJANGO_SETTINGS_MODULE and that the project is importable "
            f"(sys.path: {', '.join(settings.pythonpath)})"
        )
    data: Any = json.loads(payload)
    return [App(label=d["label"], name=d["name"], path=d["path"]) for d in data]


def _under(rootdir: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else rootdir / path


def _manage_py(rootdir: Path) -> list[Path]:
    found = [rootdir / "manage.py"] if (rootdir / "manage.py").is_file() else []
    found.extend(sorted(rootdir.glob("*/manage.py")))
    return found


def project_labels(index: AppIndex, measured: Sequence[str]) -> list[str]:
    """Labels of the project apps that contain at least one of the ``measured`` abspaths."""
    project = index.project_apps()
    hit = {a.label for a in (index.app_of(p) for p in measured) if a is not None}
    return [a.label for a in project if a.label in hit]
