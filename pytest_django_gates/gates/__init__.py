"""The registry of gates: one module per gate, each returning a :class:`GateResult`.

A gate module exposes ``run(ctx: GateContext) -> GateResult``. It never prints
and never exits. :func:`run_gate` turns any exception but a configuration error
into an ``error`` result: a gate that crashes never passes (fail closed).

Modules that also have a ``django-gates`` sub-command expose
``add_arguments(parser)`` and ``cli_overrides(args) -> dict[str, Any]`` (option
keys given on that command line).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.report import GateResult

# gate name -> module that implements it.
GATE_MODULES: Mapping[str, str] = {
    "queries": "pytest_django_gates.gates.queries",
    "indexes": "pytest_django_gates.gates.indexes",
    "migrations": "pytest_django_gates.gates.migrations",
    "deploy": "pytest_django_gates.gates.deploy",
    "coverage": "pytest_django_gates.gates.coverage",
    "ruff": "pytest_django_gates.gates.ruff",
    "mypy": "pytest_django_gates.gates.mypy",
    "gitleaks": "pytest_django_gates.gates.gitleaks",
    "pip-audit": "pytest_django_gates.gates.pip_audit",
}


@dataclass(frozen=True)
class GateContext:
    """What a gate is given to run.

    ``rootdir`` is the project root (pytest's rootdir, or the directory of the
    ``pyproject.toml`` that configured ``django-gates``). ``in_pytest`` is true
    when the gate runs inside ``pytest --django-gates``, where Django is already
    set up by pytest-django. ``extra`` carries run-specific data (for example
    the coverage data of the pytest session).
    """

    config: GatesConfig
    rootdir: Path
    in_pytest: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


def gate_module(name: str) -> ModuleType:
    try:
        dotted = GATE_MODULES[name]
    except KeyError:
        raise ConfigError(
            f"unknown gate {name!r}; known gates: {', '.join(GATE_MODULES)}"
        ) from None
    return importlib.import_module(dotted)


def run_gate(name: str, ctx: GateContext) -> tuple[GateResult, float]:
    """Run one gate, fail closed. Returns the result and its wall time in seconds.

    :class:`ConfigError` propagates (a usage error, exit 2); any other
    exception becomes an ``error`` result naming it.
    """
    start = time.perf_counter()
    try:
        run: Callable[[GateContext], GateResult] = gate_module(name).run
        result = run(ctx)
    except ConfigError:
        raise
    except Exception as exc:  # fail closed: a crash is an error, never a pass
        result = GateResult.crashed(name, exc)
    return result, time.perf_counter() - start
