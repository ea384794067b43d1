"""A small pytest plugin ``django-gates run`` loads (``-p pytest_django_gates.run_outcomes``).

It records which tests failed or errored, and collection errors, and writes them
as JSON to the file named by ``DJANGO_GATES_RUN_OUTCOMES`` when the session ends
(on the controller only under pytest-xdist). ``django-gates run`` turns them into
the findings of its ``tests`` gate. Without that variable it does nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates.report import atomic_write_text
from pytest_django_gates.runner import OUTCOMES_ENV

ENV = OUTCOMES_ENV
_MESSAGE_LIMIT = 500


def pytest_configure(config: pytest.Config) -> None:
    target = os.environ.get(ENV)
    if not target or hasattr(config, "workerinput"):
        return
    config.pluginmanager.register(Recorder(Path(target)), "django-gates-run-outcomes")


def _message(report: pytest.TestReport | pytest.CollectReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or str(report.longrepr or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return "failed"
    first = lines[0] if crash is not None else lines[-1]
    return first if len(first) <= _MESSAGE_LIMIT else first[: _MESSAGE_LIMIT - 3] + "..."


class Recorder:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.failures: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.failed:
            return
        path, lineno, _ = report.location
        self.failures.append(
            {
                "nodeid": report.nodeid,
                "when": report.when,
                "path": path,
                "line": lineno + 1 if lineno is not None else None,
                "message": _message(report),
            }
        )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.failed:
            return
        self.failures.append(
            {
                "nodeid": report.nodeid,
                "when": "collect",
                "path": report.nodeid.split("::", 1)[0] or None,
                "line": None,
                "message": _message(report),
            }
        )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        data = {
            "exitstatus": int(session.exitstatus),
            "collected": session.testscollected,
            "failures": self.failures,
        }
        atomic_write_text(self.target, json.dumps(data, indent=2) + "\n")
