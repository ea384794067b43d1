"""The ``queries`` gate: N+1 queries, query budgets and the query baseline.

It judges tests while they run (see :mod:`pytest_django_gates.queries`), so it
only runs inside ``pytest --django-gates``; :func:`run` assembles the per-test
outcomes collected by the session into the gate result and reports allow
entries that matched nothing (``DJG104``). Findings of the same code, location
and query in several tests become one finding that says how many tests hit it
and names the first few (a suite with one N+1 in a shared view reads as one).

The result is a function of the code and the tests, never of the order the tests
ran in, of the xdist scheduling or of which worker reported first: a grouped
finding is about the smallest node id of its tests (plain string order), lists its
tests sorted, and takes its message, hint and location from that test's finding;
the findings are in :meth:`Finding.sort_key` order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pytest_django_gates.gates import GateContext
from pytest_django_gates.queries.evaluate import STALE_ALLOW_CODE, Outcome
from pytest_django_gates.report import Finding, GateResult

EXTRA_KEY = "queries"


@dataclass
class Collected:
    """Outcomes gathered on the controller (from every xdist worker), in the order they
    arrived: what :func:`run` makes of them must not depend on that order."""

    outcomes: list[Outcome] = field(default_factory=list)
    allow: Sequence[Mapping[str, Any]] = ()
    allow_source: str = ""
    # Tests whose body ran but that the gate could not check, and why.
    unchecked: dict[str, None] = field(default_factory=dict)  # node ids
    errors: set[str] = field(default_factory=set)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)


SHOWN_TESTS = 3
# The counts that differ from test to test in one problem's headline.
_COUNT = re.compile(
    r"^(N\+1: |write in a loop: |query per input item: )\d+ x |^\d+ (writes outside)"
)
# The first write of a DJG108 unit (its message's second line): "INSERT INTO "t"".
_FIRST_WRITE = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM) ("[^"]+"|\S+)')


def group_findings(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per code, location and query (the message's first line; for DJG108
    also the table of the first write), whatever
    the number of tests that hit it, in :meth:`Finding.sort_key` order.

    Whatever order the findings come in: ``object`` is the smallest node id of the
    group's tests (plain string order), the message is that test's finding (its
    count, hint and location, when the tests differ) and ends with how many tests hit
    it and the first few of them in sorted order."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    for finding in findings:
        # "N+1: 3 x <query> at ..." and "N+1: 21 x <query> at ..." are the same N+1 (and
        # so for writes in a loop, and for "3 writes outside a transaction" at one line).
        lines = finding.message.split("\n", 2)
        headline = _COUNT.sub(r"\1\2", lines[0], count=1)
        key: tuple[object, ...] = (finding.code, finding.path, finding.line, headline)
        if finding.code == "DJG108" and len(lines) > 1:
            # Units that start at one line (a middleware every request passes) with writes
            # to different tables are different views' problems: one group (and one
            # allow, keyed by that table) each.
            first_write = _FIRST_WRITE.match(lines[1])
            key += (first_write.group(0).strip() if first_write else lines[1],)
        groups.setdefault(key, []).append(finding)
    grouped: list[Finding] = []
    for members in groups.values():
        # The smallest node id first; a test with two findings in one group (two lines
        # of one template) gives its smallest by content, never the first it reported.
        first = min(members, key=lambda f: (f.object, f.sort_key()))
        tests = sorted({f.object for f in members})
        if len(tests) < 2:
            grouped.append(first)
            continue
        shown = ", ".join(tests[:SHOWN_TESTS])
        more = f" (+{len(tests) - SHOWN_TESTS} more)" if len(tests) > SHOWN_TESTS else ""
        grouped.append(
            replace(first, message=f"{first.message}\nin {len(tests)} tests: {shown}{more}")
        )
    return sorted(grouped, key=Finding.sort_key)


def run(ctx: GateContext) -> GateResult:
    collected = ctx.extra.get(EXTRA_KEY)
    if not isinstance(collected, Collected):
        return GateResult(
            name="queries",
            status="error",
            summary="the queries gate judges tests while they run: use pytest --django-gates",
        )
    found = [f for o in collected.outcomes for f in o.findings]
    # A shard's findings stay one per test: the merge groups them across every shard's
    # tests (pytest_django_gates.shards), which a list cut to SHOWN_TESTS could not do.
    sharded = bool(ctx.config.values.get("run.shard"))
    findings: list[Finding] = (
        sorted(found, key=Finding.sort_key) if sharded else group_findings(found)
    )
    used = {i for o in collected.outcomes for i in o.allow_used}
    for i, entry in enumerate(collected.allow):
        # clock = true: init saw its problem at one time of day only (init.allow_entries)
        if i in used or entry.get("clock") is True:
            continue
        what = ", ".join(
            f"{k}={entry[k]!r}" for k in ("code", "test", "location", "sql") if k in entry
        )
        findings.append(
            Finding(
                code=STALE_ALLOW_CODE,
                severity="warning",
                message=f"N+1 allow entry #{i + 1} ({what}) matched nothing in this run",
                object=f"queries.allow[{i}]",
                path=collected.allow_source or None,
                hint="remove the entry, or fix its patterns (test: node id glob, "
                "location: path:line glob, sql: substring)",
            )
        )
    tests = len(collected.outcomes)
    queries = sum(o.count for o in collected.outcomes)
    if collected.unchecked:
        ran = tests + len(collected.unchecked)
        why = "; ".join(sorted(collected.errors)) or (
            "their queries were not recorded (first: " + min(collected.unchecked) + ")"
        )
        return GateResult(
            name="queries",
            status="error",
            summary=f"{tests} of {ran} tests checked: {why}",
            findings=tuple(sorted(findings, key=Finding.sort_key)),
        )
    result = GateResult.from_findings("queries", findings)
    summary = (
        f"{tests} test{'s' if tests != 1 else ''} checked, {queries} queries; {result.summary}"
    )
    return GateResult(
        name="queries", status=result.status, summary=summary, findings=result.findings
    )
