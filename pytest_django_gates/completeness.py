"""Did the pytest session run every test it collected? If not, no gate passes.

A gate result from an incomplete session (Ctrl-C, ``-x`` / ``--maxfail``, a
collection error, a usage error after collection, a crashed xdist worker)
would judge a part of the suite as if it were the whole: a coverage floor met
by the half that ran, "no N+1" over tests that never ran. So every gate of
such a session becomes ``error`` (exit 3 for ``django-gates``), its summary
starting with ``incomplete: M of N tests ran`` and the reason; its findings
are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from pytest_django_gates.report import GateResult

_EXIT_REASONS = {
    int(pytest.ExitCode.INTERRUPTED): "the run was interrupted",
    int(pytest.ExitCode.INTERNAL_ERROR): "pytest had an internal error",
    int(pytest.ExitCode.USAGE_ERROR): "a usage error stopped the run",
}


def incomplete(
    *,
    exitstatus: int,
    collected: int,
    finished: int,
    stopped: str | bool,
    crashed: Sequence[str],
    collection_errors: Sequence[str],
) -> str | None:
    """``"incomplete: M of N tests ran (reasons)"``, or None when the session was whole."""
    reasons: list[str] = []
    if crashed:
        shown = ", ".join(crashed[:3]) + (
            f" and {len(crashed) - 3} more" if len(crashed) > 3 else ""
        )
        reasons.append(f"a worker crashed while running {shown}")
    if collection_errors:
        n = len(collection_errors)
        reasons.append(f"{n} collection error{'s' if n != 1 else ''}")
    if exitstatus in _EXIT_REASONS:
        reasons.append(_EXIT_REASONS[exitstatus])
    if stopped and finished < collected:
        reasons.append(str(stopped) if isinstance(stopped, str) else "the run stopped early")
    if not reasons and finished >= collected:
        return None
    if not reasons:
        reasons.append("some tests did not run")
    return f"incomplete: {finished} of {collected} tests ran ({'; '.join(reasons)})"


def mark_incomplete(result: GateResult, why: str) -> GateResult:
    """The gate result of an incomplete session: ``error``, with the reason first."""
    if result.status == "skipped":
        return result
    return replace(result, status="error", summary=f"{why}; {result.summary}")
