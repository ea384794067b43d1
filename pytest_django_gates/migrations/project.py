"""Finding the Django project from the command line: settings module and import path.

Used when the gate sets Django up itself (``django-gates migrations``). The
settings module is the first of:

1. ``migrations.settings`` (``--settings``, ``DJANGO_GATES_MIGRATIONS_SETTINGS``,
   ``[tool.django-gates.migrations] settings``);
2. the ``DJANGO_SETTINGS_MODULE`` environment variable;
3. ``DJANGO_SETTINGS_MODULE`` in pytest's configuration file, found as pytest finds it
   (:mod:`pytest_django_gates.pytest_ini`: ``pytest.ini``, ``pyproject.toml`` …);
4. the ``os.environ.setdefault("DJANGO_SETTINGS_MODULE", ...)`` of ``manage.py``.

The import path gets the project root, the directory of ``manage.py`` (in the
root or one level below it) and pytest's ``pythonpath`` entries.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_django_gates.config import ConfigError, GatesConfig


@dataclass(frozen=True)
class Project:
    settings: str
    settings_source: str
    paths: tuple[str, ...]


def configured_settings_module() -> str | None:
    """The settings module Django is set up with in this process (``None``: not set up)."""
    import sys

    if "django.conf" not in sys.modules:
        return None
    from django.conf import settings

    if not settings.configured:
        return None
    return str(getattr(settings, "SETTINGS_MODULE", "") or "<settings.configure()>")


def setup_django(settings: str, paths: tuple[str, ...] | list[str]) -> None:
    """Set Django up in this process with ``settings``, the project on ``sys.path``.

    A settings module that does not import, or that Django rejects, is a
    :class:`ConfigError`; any other failure (an app that does not import)
    propagates and makes the gate an ``error``.
    """
    import importlib
    import os

    for path in reversed(list(paths)):
        if path not in sys.path:
            sys.path.insert(0, path)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    try:
        importlib.import_module(settings)
    except Exception as exc:
        raise ConfigError(
            f"settings module {settings!r} cannot be imported: {type(exc).__name__}: {exc} "
            f"(import path starts with {', '.join(paths)})"
        ) from exc
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise ConfigError(f"settings module {settings!r}: {exc}") from exc


def find_manage_py(root: Path) -> Path | None:
    candidate = root / "manage.py"
    if candidate.is_file():
        return candidate
    found = sorted(root.glob("*/manage.py"))
    return found[0] if len(found) == 1 else None


def manage_py_settings(manage: Path) -> str | None:
    try:
        tree = ast.parse(manage.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "DJANGO_SETTINGS_MODULE"
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            return node.args[1].value
    return None


def resolve_project(config: GatesConfig, root: Path, environ: Mapping[str, str]) -> Project:
    from pytest_django_gates import pytest_ini

    ini = pytest_ini.read(config.pyproject.parent if config.pyproject else root)
    manage = find_manage_py(root)
    paths: list[str] = [str(root)]
    if manage is not None and str(manage.parent) not in paths:
        paths.append(str(manage.parent))
    for entry in ini.pythonpath:
        path = ((ini.root or root) / entry).resolve()
        if str(path) not in paths:
            paths.append(str(path))
    candidates: list[tuple[str | None, str]] = [
        (config["migrations.settings"], config.source("migrations.settings")),
        (environ.get("DJANGO_SETTINGS_MODULE"), "environment (DJANGO_SETTINGS_MODULE)"),
        (ini.settings, f"{ini.where} DJANGO_SETTINGS_MODULE"),
    ]
    for value, source in candidates:
        if value:
            return Project(settings=str(value), settings_source=source, paths=tuple(paths))
    # the last source, and the only one that parses a file: only when needed
    from_manage = manage_py_settings(manage) if manage is not None else None
    if from_manage:
        return Project(settings=from_manage, settings_source=str(manage), paths=tuple(paths))
    raise ConfigError(
        "no Django settings module: pass --settings MODULE, set DJANGO_SETTINGS_MODULE, or "
        "set [tool.django-gates.migrations] settings in pyproject.toml"
    )
