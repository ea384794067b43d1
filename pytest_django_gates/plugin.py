"""pytest entry point: options, markers and fixtures. Hooks only wire; logic lives elsewhere.

Without ``--django-gates`` the plugin registers its options, markers and
fixtures, validates marker arguments, and does nothing else: Django is not
imported and no hook of :mod:`pytest_django_gates.session` is registered.
"""

from __future__ import annotations

import os

import pytest

from pytest_django_gates import config as gates_config
from pytest_django_gates import environ_at_start
from pytest_django_gates.deploy.fixture import deploy_checks
from pytest_django_gates.fixtures import migration_safety, query_budget
from pytest_django_gates.markers import MARKERS, query_marks
from pytest_django_gates.options import OPTIONS
from pytest_django_gates.spaced_values import misread_value

__all__ = ["deploy_checks", "migration_safety", "query_budget"]

GATES_CONFIG = pytest.StashKey[gates_config.GatesConfig]()
SESSION_PLUGIN = "django_gates_session"


def _dest(key: str) -> str:
    return "django_gates__" + key.replace(".", "__")


def pytest_addoption(parser: pytest.Parser) -> None:
    environ_at_start.snapshot()  # before the test settings can load a .env (deploy gate)
    group = parser.getgroup("django-gates", "quality gates for Django (pytest-django-gates)")
    group.addoption(
        "--django-gates",
        action="store_true",
        default=False,
        dest="django_gates",
        help="Turn the gates on: N+1 detection, query budgets, migration safety, deploy "
        "checks and coverage floors.",
    )
    for option in OPTIONS.values():
        if option.cli is None:
            continue
        kwargs: dict[str, object] = {"dest": _dest(option.key), "default": None}
        if option.kind == "bool":
            kwargs["action"] = "store_const"
            kwargs["const"] = True
        else:
            kwargs["metavar"] = "|".join(option.choices) if option.choices else option.kind.upper()
        group.addoption(option.cli, help=f"{option.help} [{option.toml_location}]", **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if not config.getoption("django_gates"):
        return
    misread = misread_value(config)
    if misread:
        raise pytest.UsageError(f"django-gates: {misread}")
    cli = {key: config.getoption(_dest(key)) for key, opt in OPTIONS.items() if opt.cli}
    pyproject = config.rootpath / "pyproject.toml"
    if config.inipath is not None and config.inipath.name == "pyproject.toml":
        pyproject = config.inipath
    try:
        loaded = gates_config.load(
            OPTIONS,
            cli=cli,
            environ=os.environ,
            pyproject=pyproject if pyproject.is_file() else None,
        )
        from pytest_django_gates.session import GatesSession

        session = GatesSession(config, loaded)
    except gates_config.ConfigError as exc:
        raise pytest.UsageError(f"django-gates: {exc}") from None
    config.stash[GATES_CONFIG] = loaded
    config.pluginmanager.register(session, SESSION_PLUGIN)
    if "indexes" in session.enabled and loaded["indexes.mode"] != "off":
        from pytest_django_gates.gates.indexes import PLUGIN
        from pytest_django_gates.indexes.collect import IndexesPlugin

        indexes = IndexesPlugin(
            config, loaded["indexes.mode"], list(loaded["indexes.small_tables"]), session.root
        )
        config.pluginmanager.register(indexes, PLUGIN)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        query_marks(item)  # raises pytest.UsageError on a wrong marker argument
