"""A small pytest plugin ``django-gates run`` loads (``-p pytest_django_gates.run_outcomes``).

It records which tests failed or errored, and collection errors, and writes them
as JSON to the file named by ``DJANGO_GATES_RUN_OUTCOMES`` when the session ends
(on the controller only under pytest-xdist). ``django-gates run`` turns them into
the findings of its ``tests`` gate; a failure the query gate caused (its crash is
one of the test's own error findings) is marked ``by_gate`` and counted by that
gate, not again. Without that variable it does nothing.

While the suite runs it also keeps ``<that file>.progress`` up to date, at most
once a second: ``{"done": N, "total": N, "failed": N}`` (tests finished,
collected, failed so far), which ``django-gates run`` shows while it waits.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates.report import WriteError, atomic_write_text
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


def _failed_by_gate(report: pytest.TestReport) -> bool:
    """The test failed because a gate failed it: its crash is one of the error findings
    the query gate attached to its report (a grouped finding names only its first test,
    so the report's objects cannot tell the others)."""
    from pytest_django_gates.session import REPORT_ATTR

    data = getattr(report, REPORT_ATTR, None)
    if report.when != "call" or not isinstance(data, dict):
        return False
    text = str(report.longrepr or "")
    return any(
        f.get("severity") == "error" and str(f.get("message", "")).split("\n", 1)[0] in text
        for f in data.get("findings", [])
        if isinstance(f, dict)
    )


def progress_path(target: Path) -> Path:
    return target.with_name(target.name + ".progress")


class Recorder:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.failures: list[dict[str, Any]] = []
        self.total = 0
        self.done = 0
        self.failed: set[str] = set()
        self._written = 0.0

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        self._progress(force=True)

    def _progress(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._written < 1.0:
            return
        self._written = now
        data = {"done": self.done, "total": self.total, "failed": len(self.failed)}
        # Progress is a courtesy: never a reason for the run to fail.
        with contextlib.suppress(OSError, WriteError):
            atomic_write_text(progress_path(self.target), json.dumps(data))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.add(report.nodeid)
        if report.when == "teardown":
            self.done += 1
            self._progress()
        if not report.failed:
            return
        path, lineno, _ = report.location
        message = _message(report)
        self.failures.append(
            {
                "nodeid": report.nodeid,
                "when": report.when,
                "path": path,
                "line": lineno + 1 if lineno is not None else None,
                "message": message,
                "by_gate": _failed_by_gate(report),
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
        self._progress(force=True)
        data = {
            "exitstatus": int(session.exitstatus),
            "collected": session.testscollected,
            "failures": self.failures,
        }
        atomic_write_text(self.target, json.dumps(data, indent=2) + "\n")
