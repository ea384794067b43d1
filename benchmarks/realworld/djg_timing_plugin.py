"""A pytest plugin for ``timing.py``: where the query gate's own time goes, in process.

Wraps the gate's per-statement and per-test steps (:data:`STEPS`) and adds up the wall
time each spends, less the time of the wrapped steps it calls (a step's own time), and
how often it ran. Written as JSON to ``$DJG_TIMING_OUT`` when pytest ends. The
wrappers cost about a microsecond a call, charged to the caller's own time.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import time
from typing import Any

import pytest

# (module, attribute path, label): what a statement and a test cost the gate.
STEPS = (
    ("pytest_django_gates.queries.capture", "_record", "record a statement (own time)"),
    ("pytest_django_gates.queries.stack", "Classifier.walk", "walk its call path"),
    ("pytest_django_gates.queries.items", "judge", "judge a repeated path's loop"),
    ("pytest_django_gates.session", "evaluate", "judge a test's statements"),
    ("pytest_django_gates.queries.capture", "open_atomic_blocks", "read the test's atomic depth"),
    ("pytest_django_gates.session", "GatesSession._spec", "read a test's markers"),
    ("pytest_django_gates.queries.capture", "start", "start recording"),
    ("pytest_django_gates.queries.capture", "stop", "stop recording"),
    ("pytest_django_gates.queries.capture", "_new_source", "remember a multi-row fetch"),
    ("pytest_django_gates.queries.capture", "forget_sources", "forget a test's fetches"),
)

_totals: dict[str, list[int]] = {}  # label -> [own ns, calls]
_inner: list[int] = []  # per running step: ns spent in the steps it called


def _wrap(owner: Any, name: str, label: str) -> None:
    original = getattr(owner, name)
    total = _totals.setdefault(label, [0, 0])

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter_ns()
        _inner.append(0)
        try:
            return original(*args, **kwargs)
        finally:
            spent = time.perf_counter_ns() - start
            total[0] += spent - _inner.pop()
            total[1] += 1
            if _inner:
                _inner[-1] += spent

    setattr(owner, name, timed)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    for module_name, path, label in STEPS:
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        _wrap(owner, name, label)


def pytest_unconfigure(config: pytest.Config) -> None:
    out = os.environ.get("DJG_TIMING_OUT")
    if out:
        data = {label: {"ns": ns, "calls": calls} for label, (ns, calls) in _totals.items()}
        with open(out, "w", encoding="utf-8") as f:
            json.dump(data, f)
