"""Judging one test's queries: N+1s, its budget and its baseline.

Codes (stable):

* ``DJG101`` N+1 query (repeated or latent), ``object`` = the test node id;
* ``DJG102`` query budget (``@pytest.mark.query_budget``) exceeded;
* ``DJG103`` query count grew beyond the committed baseline;
* ``DJG104`` an N+1 allow (marker or config entry) that matched nothing (warning);
* ``DJG110`` a query repeated once per item of the input, not per row (a warning unless
  ``queries.input_loops = "fail"``; see :mod:`pytest_django_gates.queries.items`).

DJG107 and DJG108 are judged in :mod:`pytest_django_gates.queries.writes`.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pytest_django_gates.queries import budget, detect, sql, writes
from pytest_django_gates.queries.capture import QueryEvent
from pytest_django_gates.report import Finding

BASELINE_CODE = "DJG103"
STALE_ALLOW_CODE = "DJG104"


@dataclass(frozen=True)
class Settings:
    mode: str  # fail | report | off
    threshold: int
    allow: Sequence[Mapping[str, Any]]
    root: Path
    write_loops: str = "report"  # DJG107: fail | report | off
    non_atomic_writes: str = "report"  # DJG108: fail | report | off
    input_loops: str = "report"  # DJG110: fail | report | off


@dataclass(frozen=True)
class TestSpec:
    nodeid: str
    path: str
    line: int | None
    budget: int | None = None
    budget_using: frozenset[str] | None = None
    allow_reason: str | None = None
    baseline: int | None = None
    # Of ``baseline``, the queries of repeated statements (baseline.py), when recorded.
    baseline_repeated: int | None = None
    # The two counts that showed the test's count follows the clock (baseline.py).
    baseline_clock: tuple[int, int] | None = None
    # Open atomic() blocks per database alias when the test body started (DJG108).
    depths: Mapping[str, int] = field(default_factory=dict)


@dataclass
class Outcome:
    """What one test produced; ``to_dict`` travels from xdist workers to the controller."""

    nodeid: str
    count: int = 0
    findings: list[Finding] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    allow_used: list[int] = field(default_factory=list)
    # Of ``count``, the queries of the repeated statements found (N+1s, per-input-item
    # lookups, write loops), allowed or not; ``verdicts``: per repeated statement, its
    # code (as an allow names it), its shape and "allowed", "failed" or "warned".
    repeated: int = 0
    verdicts: list[tuple[str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "count": self.count,
            "findings": [f.to_dict() for f in self.findings],
            "allow_used": list(self.allow_used),
            "repeated": self.repeated,
        }

    def fail(
        self, code: str, message: str, hint: str, *, path: str | None, line: int | None
    ) -> None:
        """Add an error finding about this test, and make the test fail with it."""
        self.findings.append(
            Finding(code, "error", message, object=self.nodeid, path=path, line=line, hint=hint)
        )
        self.failures.append(f"{message}\nfix: {hint}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(
            nodeid=data["nodeid"],
            count=data["count"],
            findings=[Finding.from_dict(f, data["nodeid"]) for f in data["findings"]],
            allow_used=list(data["allow_used"]),
            repeated=int(data.get("repeated", 0)),
        )


def _allow_matches(
    entry: Mapping[str, Any],
    nodeid: str,
    path: str | None,
    line: int | None,
    shape: str,
    code: str | None = None,
    root: Path | None = None,
) -> bool:
    """``code`` (DJG101, DJG107, DJG108), when the entry names one, must be the finding's:
    an allow written for old writes outside a transaction never hides a new N+1 in the
    same file. ``source``, when the entry has it, must be the text of the finding's line
    (whitespace runs ignored): the allow follows its line when lines above it move, and
    a new problem on another line of the same file, with the same table, is not allowed
    by it."""
    wanted = entry.get("code")
    if wanted and code is not None and allow_code(wanted) != allow_code(code):
        return False
    text = entry.get("source")
    if text and line_text(root, path, line) != " ".join(str(text).split()):
        return False
    pattern = entry.get("test")
    if pattern and not fnmatch.fnmatchcase(nodeid, pattern):
        return False
    pattern = entry.get("location")
    if pattern:
        where = f"{path}:{line}" if path else ""
        if not (fnmatch.fnmatchcase(where, pattern) or fnmatch.fnmatchcase(path or "", pattern)):
            return False
    # ``sql``: a substring of the query shape, case and runs of whitespace ignored.
    needle = entry.get("sql")
    return not (
        needle
        and sql.short(needle, sys.maxsize).lower() not in sql.short(shape, sys.maxsize).lower()
    )


def allow_code(code: str) -> str:
    """The code an allow entry names for a finding's ``code``. One repeated statement is
    judged per row (DJG101) or per input item (DJG110), by what its loop walked in that
    test: the same problem of the same line, so both are DJG101 to an allow (another
    test can walk rows where this one walked input), and ``init`` writes one entry."""
    return "DJG101" if code == "DJG110" else code


def evaluate(
    spec: TestSpec, events: Sequence[QueryEvent], settings: Settings, *, passed: bool
) -> Outcome:
    """Judge the queries of one test's call phase.

    ``passed`` is whether the test body itself passed: a budget or baseline is
    only judged on a complete run, N+1s are reported either way.
    """
    counted = budget.counted(events)
    outcome = Outcome(nodeid=spec.nodeid, count=len(counted))

    # N+1s that fail this test: (index in outcome.findings, the queries it repeated).
    reported: list[tuple[int, int]] = []
    if settings.mode != "off":
        problems = detect.find(events, settings.threshold)
        marker_used = False
        for problem in problems:
            path, line = problem.location(settings.root)
            mode = settings.mode
            outcome.repeated += problem.count
            verdict = (allow_code(problem.code), problem.shape)
            if problem.input is not None:
                # The stricter of queries.mode and queries.input_loops: off, report, fail.
                if settings.input_loops == "off":
                    continue
                if settings.input_loops == "report":
                    mode = "report"
            if spec.allow_reason is not None:
                marker_used = True
                outcome.verdicts.append((*verdict, "allowed"))
                continue
            before = len(outcome.findings)
            judged = _judge(
                outcome,
                spec,
                settings,
                mode,
                problem.code,
                problem.shape,
                (path, line),
                problem.message(settings.root),
                problem.hint(),
            )
            outcome.verdicts.append((*verdict, judged))
            added = outcome.findings[before:]
            if added and added[0].severity == "error":  # it fails the test (not allowed)
                reported.append((before, problem.count))
        if spec.allow_reason is not None and not marker_used:
            outcome.findings.append(
                Finding(
                    code=STALE_ALLOW_CODE,
                    severity="warning",
                    message=(
                        "@pytest.mark.allow_n_plus_one matched no N+1 in this test "
                        f"(reason: {spec.allow_reason})"
                    ),
                    object=spec.nodeid,
                    path=spec.path,
                    line=spec.line,
                    hint="remove the marker: the N+1 it allowed is gone",
                )
            )

    _judge_writes(spec, events, settings, outcome)

    if passed and spec.budget is not None:
        in_budget = (
            counted if spec.budget_using is None else budget.counted(events, spec.budget_using)
        )
        if len(in_budget) > spec.budget:
            message = budget.exceeded_message(
                spec.budget, in_budget, spec.budget_using, settings.root, "in test body"
            )
            outcome.findings.append(
                Finding(
                    code=budget.CODE,
                    severity="error",
                    message=message.splitlines()[0],
                    object=spec.nodeid,
                    path=spec.path,
                    line=spec.line,
                    hint="remove the extra queries, or raise query_budget(n) if they are intended",
                )
            )
            outcome.failures.append(message)

    if passed and spec.baseline is not None and outcome.count > spec.baseline:
        grew = outcome.count - spec.baseline
        # Each new N+1 brings its repeated queries and the query that fetched its rows.
        if reported and grew <= sum(count + 1 for _, count in reported):
            _explained_growth(outcome, spec.baseline, [i for i, _ in reported])
            return outcome
        message = (
            f"query count grew beyond the baseline: expected at most {spec.baseline} "
            f"(baseline), ran {outcome.count} (+{grew})"
        )
        if spec.baseline_clock is not None:
            now, moved = spec.baseline_clock
            outcome.findings.append(
                Finding(
                    code=BASELINE_CODE,
                    severity="warning",
                    message=(
                        f"{message}; this test's count follows the clock: {now} and {moved} "
                        "queries in two runs at different times of day (the baseline's "
                        "clock list)"
                    ),
                    object=spec.nodeid,
                    path=spec.path,
                    line=spec.line,
                    hint=(
                        "give the test a fixed clock (time-machine, freezegun), then remove "
                        "it from the baseline's clock list and rewrite the baseline with "
                        "--gates-update-baseline, to hold its count again"
                    ),
                )
            )
            return outcome
        if _grew_by_allowed_repeats(spec, outcome):
            outcome.findings.append(
                Finding(
                    code=BASELINE_CODE,
                    severity="warning",
                    message=(
                        f"{message}, all of it more repetitions of the allowed N+1s or write "
                        f"loops: {spec.baseline_repeated} -> {outcome.repeated} repeated "
                        f"queries, the other {outcome.count - outcome.repeated} not grown"
                    ),
                    object=spec.nodeid,
                    path=spec.path,
                    line=spec.line,
                    hint=(
                        "the test's data made more rows than in the baseline run (rows made "
                        "up to the current time, say): give it fixed data, or rewrite the "
                        "baseline with --gates-update-baseline"
                    ),
                )
            )
            return outcome
        hint = (
            "remove the new queries, or accept them by rewriting the baseline "
            "with --gates-update-baseline"
        )
        outcome.findings.append(
            Finding(
                code=BASELINE_CODE,
                severity="error",
                message=message,
                object=spec.nodeid,
                path=spec.path,
                line=spec.line,
                hint=hint,
            )
        )
        outcome.failures.append(f"{message}\nnext step: {hint}")
    return outcome


def _grew_by_allowed_repeats(spec: TestSpec, outcome: Outcome) -> bool:
    """Whether the count grew only by more repetitions of allowed problems: the queries
    outside repeated statements are no more than in the baseline run, and every
    repeated statement of this run is allowed, or is a warning whose statement (code
    and shape) an allow accepts in this same test at another line (a write repeated by
    taggit's ``add()`` is reported at whichever caller's line its loop first ran; with
    more rows, at one more). A new query anywhere, an N+1 that fails the test or a
    statement no allow accepts is not that (baseline.py)."""
    if spec.baseline is None or spec.baseline_repeated is None or not outcome.repeated:
        return False
    accepted = {(code, shape) for code, shape, v in outcome.verdicts if v == "allowed"}
    for code, shape, verdict in outcome.verdicts:
        if verdict == "failed" or (verdict == "warned" and (code, shape) not in accepted):
            return False
    return outcome.count - outcome.repeated <= spec.baseline - spec.baseline_repeated


def _explained_growth(outcome: Outcome, baseline: int, indexes: Sequence[int]) -> None:
    """The N+1s that fail this test ran at least as many queries as its count grew
    beyond the baseline (each its repeated queries and the one that fetched its rows):
    the growth is theirs, said on them, not a second error (whose fix, rewriting the
    baseline, would leave the N+1 in place). Only an N+1 that fails the test takes the
    growth over: in ``report`` mode the N+1 is a warning and the DJG103 error stays."""
    from dataclasses import replace

    note = (
        f"this is why the test's query count grew beyond the baseline: expected at most "
        f"{baseline} (baseline), ran {outcome.count} (+{outcome.count - baseline})"
    )
    for index in indexes:
        finding = outcome.findings[index]
        outcome.findings[index] = replace(finding, message=f"{finding.message}\n{note}")


def line_text(root: Path | None, path: str | None, line: int | None) -> str | None:
    """The text of ``path``'s line ``line`` (relative to ``root``), whitespace runs made
    one space; None when it cannot be read."""
    if not path or not line:
        return None
    where = Path(path)
    if not where.is_absolute() and root is not None:
        where = root / where
    try:
        stat = where.stat()
    except OSError:
        return None
    lines = _file_lines(str(where), stat.st_mtime_ns, stat.st_size)
    if lines is None or not 0 < line <= len(lines):
        return None
    return " ".join(lines[line - 1].split())


@lru_cache(maxsize=256)
def _file_lines(path: str, mtime_ns: int, size: int) -> tuple[str, ...] | None:
    """The lines of ``path`` as of that modification time and size (the cache key)."""
    try:
        return tuple(Path(path).read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return None


def _judge(
    outcome: Outcome,
    spec: TestSpec,
    settings: Settings,
    mode: str,
    code: str,
    shape: str,
    where: tuple[str | None, int | None],
    message: str,
    hint: str,
) -> str:
    """A finding of ``code``, failing the test in ``fail`` mode (else a warning), unless a
    ``queries.allow`` entry matches it (then that entry counts as used). Returns what
    became of it: "allowed", "failed" or "warned"."""
    path, line = where
    allowed = [
        i
        for i, entry in enumerate(settings.allow)
        if _allow_matches(entry, spec.nodeid, path, line, shape, code, settings.root)
    ]
    if allowed:
        outcome.allow_used.extend(allowed)
        return "allowed"
    if mode == "fail":
        outcome.fail(code, message, hint, path=path, line=line)
        return "failed"
    outcome.findings.append(
        Finding(code, "warning", message, object=spec.nodeid, path=path, line=line, hint=hint)
    )
    return "warned"


def _judge_writes(
    spec: TestSpec, events: Sequence[QueryEvent], settings: Settings, outcome: Outcome
) -> None:
    """DJG107 (writes in a loop) and DJG108 (writes outside a transaction)."""
    written = writes.code_writes(events)
    if not written:
        return
    found = writes.find_loops(written, settings.threshold)
    for loop in found:
        outcome.repeated += loop.count
    if settings.write_loops != "off":
        for loop in found:
            judged = _judge(
                outcome,
                spec,
                settings,
                settings.write_loops,
                writes.LOOP_CODE,
                loop.shape,
                loop.location(settings.root),
                loop.message(settings.root),
                loop.hint(),
            )
            outcome.verdicts.append((writes.LOOP_CODE, loop.shape, judged))
    if settings.non_atomic_writes != "off":
        for unit in writes.find_non_atomic(written, spec.depths, found):
            _judge(
                outcome,
                spec,
                settings,
                settings.non_atomic_writes,
                writes.NON_ATOMIC_CODE,
                sql.shape(unit.writes[0].sql),
                unit.location(settings.root),
                unit.message(settings.root),
                unit.hint(settings.root),
            )
