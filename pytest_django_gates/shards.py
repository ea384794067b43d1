"""A test suite split across CI runners: which tests a shard runs, and one verdict from
the shards' reports.

A shard is ``K/N`` (``--gates-shard 2/3``, ``DJANGO_GATES_RUN_SHARD``, ``django-gates
run --shard 2/3``): the K-th of N groups of the suite's tests.

* **Which tests.** With pytest-split active (its ``--splits N --group K``, which
  ``django-gates run`` passes when pytest-split is installed and its durations file
  ``.test_durations`` is committed), pytest-split chooses and this module only stamps the
  report. Otherwise the tests left after ``-k``/``-m`` and every other selection are
  sorted by node id and cut into N contiguous runs of equal size (the first ones one test
  longer): the same split on every machine, with a module's tests kept together.
* **What a shard judges.** The gates that need the tests: ``queries`` (each test's
  findings, not yet grouped: a problem hit in two shards is one finding once merged) and
  ``indexes``. ``coverage`` is measured, not judged (a floor judged on a third of the
  suite would fail): the shard reports it ``skipped`` and its coverage data is left where
  coverage.py writes it, for the merge. ``migrations`` and ``deploy`` do not depend on the
  tests and run once, outside the shards. A shard's report carries a ``shard`` object::

      "shard": {"index": 2, "total": 3, "tests": 412,
                "queries": {"tests": 409, "queries": 15023}}

* **The merge** (``django-gates report --shards N FILE...``, :func:`merge`): the N shard
  reports (plus any others: the once-run gates', ``django-gates coverage`` on the combined
  data) become one report that equals the unsharded run's: the queries findings grouped
  across every shard's tests (``in 10 tests: ...``), an unused allow entry (``DJG104``)
  only when no shard used it, the test and query counts summed. It fails closed: a shard
  number missing (a runner that crashed, timed out or uploaded nothing) makes every
  sharded gate ``error`` naming the shard, and coverage measured by the shards but judged
  by no report is an ``error`` too. Reports that disagree on N, or two reports of one
  shard, are a usage error.
* **The query baseline.** A shard run with ``--gates-update-baseline`` updates its own
  copy of the file and puts its counts in its stamp (``query_counts``);
  ``django-gates report --shards N --update-query-baseline PATH`` writes the one file from
  every shard's counts (:func:`update_query_baseline`), the file an unsharded update
  writes, and nothing unless every shard reported them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from pytest_django_gates.config import ConfigError
from pytest_django_gates.report import (
    Finding,
    GateResult,
    Report,
    ReportError,
    WriteError,
    merge_reports,
)

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
# The gates a shard judges (or measures): the ones that need the tests.
SHARDED_GATES = ("tests", "queries", "indexes", "coverage")
# The pytest-split durations file (its default name), used when pytest-split is installed.
DURATIONS_FILE = ".test_durations"

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse(raw: Any, where: str) -> str:
    """Validate ``K/N`` (1 <= K <= N); "" (no shard) passes. For the ``run.shard`` option."""
    if raw in ("", None):
        return ""
    match = _SHARD.match(str(raw))
    if match is None:
        raise ConfigError(
            f"{where}: expected K/N (this runner's shard of N, e.g. 2/3), got {raw!r}"
        )
    index, total = int(match[1]), int(match[2])
    if not 1 <= index <= total:
        raise ConfigError(f"{where}: shard {index}/{total}: K must be between 1 and N")
    return f"{index}/{total}"


def of(value: Any) -> Shard | None:
    """The shard a validated ``run.shard`` value names, or None."""
    match = _SHARD.match(str(value or ""))
    return Shard(int(match[1]), int(match[2])) if match else None


def select(items: Sequence[T], shard: Shard, nodeid: Any = None) -> tuple[list[T], list[T]]:
    """(kept, deselected) of ``items``: the shard's contiguous run of the items sorted by
    node id; the kept ones in their collection order."""
    key = nodeid or (lambda item: item.nodeid)
    ordered = sorted(range(len(items)), key=lambda i: key(items[i]))
    size, extra = divmod(len(items), shard.total)
    start = (shard.index - 1) * size + min(shard.index - 1, extra)
    stop = start + size + (1 if shard.index <= extra else 0)
    chosen = set(ordered[start:stop])
    kept = [item for i, item in enumerate(items) if i in chosen]
    dropped = [item for i, item in enumerate(items) if i not in chosen]
    return kept, dropped


def not_judged_coverage(shard: Shard) -> GateResult:
    """A shard's coverage gate: measured here, judged on every shard's data at the merge."""
    return GateResult(
        name="coverage",
        status="skipped",
        summary=f"shard {shard}: measured, not judged (a floor needs every shard's data): "
        "run django-gates coverage --data <each shard's coverage data> and merge its "
        "report with django-gates report --shards",
    )


# ------------------------------------------------------------------------- merge


def stamp(report: Report, where: str) -> Shard | None:
    """The shard ``report`` is from (None: not a shard report); a bad stamp is an error."""
    data = report.shard
    if data is None:
        return None
    index, total = data.get("index"), data.get("total")
    if not (isinstance(index, int) and isinstance(total, int) and 1 <= index <= total):
        raise ReportError(f"{where}: shard must have 1 <= index <= total, got {dict(data)!r}")
    return Shard(index, total)


def merge(named: Sequence[tuple[str, Report]], shards: int) -> Report:
    """One report from ``shards`` shard reports and any other reports (see the module
    docstring). ``named``: (file name, report) pairs, for the messages."""
    seen: dict[int, str] = {}
    shard_reports: list[Report] = []
    others: list[Report] = []
    for where, report in named:
        shard = stamp(report, where)
        if shard is None:
            others.append(report)
            continue
        if shard.total != shards:
            raise ReportError(
                f"{where}: a report of shard {shard} (of {shard.total}), but --shards is "
                f"{shards}: merge the reports of one run"
            )
        if shard.index in seen:
            raise ReportError(
                f"{where}: a second report of shard {shard} (the first: {seen[shard.index]}); "
                "merge one report per shard"
            )
        seen[shard.index] = where
        shard_reports.append(report)
    if not shard_reports:
        raise ReportError(
            f"--shards {shards}: none of the files is a shard report (written by a run "
            "with --gates-shard K/N or django-gates run --shard K/N)"
        )
    missing = [i for i in range(1, shards + 1) if i not in seen]
    merged = merge_reports([*shard_reports, *others])
    gates: list[GateResult] = []
    for gate in merged.gates:
        parts = [g for r in shard_reports if (g := r.gate(gate.name)) is not None]
        judged = [g for r in others if (g := r.gate(gate.name)) is not None]
        if gate.name == "coverage" and judged and all(p.status == "skipped" for p in parts):
            # The shards measured, another report judged every shard's data: that verdict.
            gate = merge_reports([Report(gates=(g,)) for g in judged]).gates[0]
        elif gate.name == "queries" and parts:
            gate = _merge_queries(gate, parts, shard_reports)
        elif gate.name == "indexes" and parts and gate.status != "error":
            gate = _merge_indexes(gate, parts)
        elif gate.name == "coverage" and gate.status == "skipped" and parts:
            gate = replace(
                gate,
                status="error",
                summary=f"the {len(parts)} shard(s) measured coverage but no report judges "
                "it: merge the report of django-gates coverage --data <each shard's data>",
            )
        elif gate.name == "tests" and parts and gate.status != "error":
            total = sum(int((r.shard or {}).get("tests", 0) or 0) for r in shard_reports)
            result = GateResult.from_findings("tests", gate.findings)
            note = f"{total} test{'s' if total != 1 else ''} in {len(parts)} shards"
            gate = replace(result, summary=f"{note}: {result.summary}" if gate.findings else note)
        if missing and parts:
            gate = replace(
                gate,
                status="error",
                summary=f"shard {_names(missing, shards)} left no report, so its tests were "
                f"not checked (re-run it): {gate.summary}",
            )
        gates.append(gate)
    return Report(gates=tuple(gates), tool=merged.tool)


def update_query_baseline(named: Sequence[tuple[str, Report]], shards: int, path: Path) -> int:
    """Write the query baseline at ``path`` from every shard's counts (each shard ran
    with ``--gates-update-baseline``), exactly as one unsharded update writes it: the
    file's entries updated with the counts of the tests that ran. Nothing is written
    unless all ``shards`` shards reported their counts. Returns how many tests' counts
    were written."""
    from pytest_django_gates.queries import baseline

    counts = baseline.Baseline()
    have: set[int] = set()
    for where, report in named:
        shard = stamp(report, where)
        if shard is None:
            continue
        found = (report.shard or {}).get("query_counts")
        if not isinstance(found, dict):
            raise ReportError(
                f"{where}: shard {shard} has no query counts (its run was incomplete, or "
                "not run with --gates-update-baseline): the query baseline is not updated"
            )
        have.add(shard.index)
        counts.counts.update({str(k): int(v) for k, v in found.items()})
        # A shard of an older version has no "query_repeated": its tests get none.
        repeated = (report.shard or {}).get("query_repeated")
        if isinstance(repeated, dict):
            counts.repeated.update({str(k): int(v) for k, v in repeated.items()})
    missing = [i for i in range(1, shards + 1) if i not in have]
    if missing:
        raise ReportError(
            f"--update-query-baseline: shard {_names(missing, shards)} left no report: the "
            "query baseline is not updated (it needs every shard's counts)"
        )
    rebuild = f"django-gates report --shards {shards} ... --update-query-baseline {path}"
    try:
        old = baseline.load(path, rebuild)
    except baseline.CorruptBaseline:
        old = baseline.Baseline()  # rebuilt from the shards' counts, as an unsharded update does
    try:
        baseline.write(path, old, counts)
    except WriteError as exc:
        raise ReportError(f"--update-query-baseline: {exc}") from None
    return len(counts.counts)


def _merge_queries(
    gate: GateResult, parts: Sequence[GateResult], shard_reports: Sequence[Report]
) -> GateResult:
    from pytest_django_gates.gates.queries import group_findings
    from pytest_django_gates.queries.evaluate import STALE_ALLOW_CODE

    def entry(f: Finding) -> bool:
        """A ``queries.allow`` entry that matched nothing in one shard (a stale allow
        *marker* is about its own test: grouped like any finding)."""
        return f.code == STALE_ALLOW_CODE and (f.object or "").startswith("queries.allow[")

    stale_sets = [{f.object for f in part.findings if entry(f)} for part in parts]
    unused = set.intersection(*stale_sets) if len(stale_sets) == len(shard_reports) else set()
    findings = group_findings([f for part in parts for f in part.findings if not entry(f)])
    stale: dict[str | None, Finding] = {}
    for part in parts:
        for f in part.findings:
            if entry(f) and f.object in unused:
                stale.setdefault(f.object, f)
    findings = sorted([*findings, *stale.values()], key=Finding.sort_key)
    tests = queries = 0
    for report in shard_reports:
        counts = (report.shard or {}).get("queries") or {}
        tests += int(counts.get("tests", 0) or 0)
        queries += int(counts.get("queries", 0) or 0)
    if gate.status == "error":
        return replace(gate, findings=tuple(findings))
    result = GateResult.from_findings("queries", findings)
    summary = (
        f"{tests} test{'s' if tests != 1 else ''} checked, {queries} queries; {result.summary}"
    )
    return replace(result, summary=summary)


def _merge_indexes(gate: GateResult, parts: Sequence[GateResult]) -> GateResult:
    """A missing index met by tests of several shards is one finding (each shard explains
    its own tests' queries): the one of the smallest node id, as one run would pick."""
    best: dict[tuple[str, str], Finding] = {}
    for part in parts:
        for f in part.findings:
            key = (f.code, f.message.split("\n", 1)[0])
            if key not in best or (f.object or "", f.sort_key()) < (
                best[key].object or "",
                best[key].sort_key(),
            ):
                best[key] = f
    result = GateResult.from_findings(gate.name, best.values())
    return replace(result, summary=gate.summary)  # each shard's counts, side by side


def _names(missing: Iterable[int], total: int) -> str:
    return ", ".join(f"{i}/{total}" for i in missing)


def durations_file(rootdir: Path) -> Path | None:
    """pytest-split's committed durations file, when there is one."""
    path = rootdir / DURATIONS_FILE
    return path if path.is_file() else None
