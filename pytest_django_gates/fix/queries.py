"""The query gate's side of ``django-gates fix``: its findings, and the proof of a fix.

The findings come from a JSON report (``--from-report``: ``django-gates run
--report``, ``pytest --django-gates --gates-report``), else from a run of the whole
suite under the gate (``python -m pytest --django-gates``, the project's own
configuration). Fixes are planned by :mod:`pytest_django_gates.fix.recipes.djg101_related`,
one per queryset: the findings that name the same rows line and the same fix (one
per test that reached it) are fixed together.

The proof runs exactly the tests the findings name, in fresh processes:

1. before the edit, without the gate: they must pass (a failing test proves nothing);
2. after the edit, without the gate: they must still pass;
3. after the edit, under the gate: none of the findings fixed may be reported again
   (the same test, the same repeated statement, the same relation; a latent one
   included), and no new query finding may appear in those tests.

Every fix is tried at once first (one run of the union of their tests for each step,
a real suite's start-up paid once, not once per fix): the ones whose tests fail or
whose findings stay are set aside and the rest tried again, until a set is proven
whole; then each one set aside is tried alone on top of it, and kept only if its own
proof holds (:func:`pytest_django_gates.fix.command`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_django_gates.config import ConfigError
from pytest_django_gates.fix import pinned
from pytest_django_gates.report import Finding, GateResult, Report, ReportError

TIMEOUT = 3600.0
FIXABLE = ("DJG101",)


def run_pytest(
    root: Path, args: Sequence[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The project's pytest in a fresh process (no cache, no random order)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def findings(root: Path, from_report: Path | None) -> GateResult:
    """The query gate's result: from the report given, else from a run of the suite."""
    if from_report is not None:
        try:
            report = Report.load(from_report)
        except ReportError as exc:
            raise ConfigError(f"--from-report {from_report}: {exc}") from None
        found = next((g for g in report.gates if g.name == "queries"), None)
        if found is None:
            raise ConfigError(
                f"--from-report {from_report} has no queries gate: run the suite with "
                "--django-gates --gates-report PATH first"
            )
        return found
    return _run_gate(root, [])


def _run_gate(root: Path, tests: Sequence[str]) -> GateResult:
    with tempfile.TemporaryDirectory(prefix="djg-fix-") as tmp:
        report_path = Path(tmp) / "report.json"
        proc = run_pytest(root, ["--django-gates", "--gates-report", str(report_path), *tests])
        if not report_path.is_file():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-10:])
            return GateResult(
                "queries",
                "error",
                f"gate could not run: pytest exited with {proc.returncode} without a report:\n"
                f"{tail}",
            )
        report = Report.load(report_path)
    found = next((g for g in report.gates if g.name == "queries"), None)
    if found is None:
        return GateResult("queries", "error", "gate could not run: the report has no queries gate")
    return found


def failing_tests(root: Path, tests: Sequence[str]) -> set[str] | str:
    """The node ids among ``tests`` that fail without the gate (empty: they all pass);
    a sentence when pytest could not run them at all."""
    failed = failures(root, tests)
    return failed if isinstance(failed, str) else failed[0]


def failures(root: Path, tests: Sequence[str]) -> tuple[set[str], dict[str, pinned.Pinned]] | str:
    """:func:`failing_tests`, and those of them that failed on a query count they pin
    (:mod:`pytest_django_gates.fix.pinned`), by node id."""
    with tempfile.TemporaryDirectory(prefix="djg-pinned-") as tmp:
        out = Path(tmp) / "pinned"
        env = {**os.environ, pinned.ENV: str(out)}
        proc = run_pytest(root, ["-p", pinned.__name__, "-q", "-rfE", *tests], env)
        counts = pinned.read(out)
    if proc.returncode == 0:
        return set(), {}
    failed = {
        line.split(" ", 1)[1].split(" - ", 1)[0].strip()
        for line in proc.stdout.splitlines()
        if line.startswith(("FAILED ", "ERROR "))
    }
    if proc.returncode != 1 or not failed:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        return f"pytest exited with {proc.returncode}: {' '.join(tail)}"
    return failed, {test: count for test, count in counts.items() if test in failed}


def identity(finding: Finding) -> tuple[str, str, str]:
    """A finding as the proof compares it: its code, its statement's place and relation
    (its count and the test data's size may change, the place may not). Which test
    carries it is not part of it: the gate names a finding several tests reach by the
    smallest of their node ids, which depends on the tests that ran."""
    lines = finding.message.splitlines()
    head = lines[0] if lines else ""
    where = head.rsplit(" at ", 1)[-1] if " at " in head else head
    relation = next((line for line in lines if line.startswith(("relation:", "field:"))), "")
    return (finding.code, where, relation)


def _reached(findings: Sequence[Finding]) -> dict[tuple[str, str, str], set[str] | None]:
    """identity -> the tests that reached it (None: more than the finding lists)."""
    out: dict[tuple[str, str, str], set[str] | None] = {}
    for finding in findings:
        key = identity(finding)
        truncated = any(
            line.startswith("in ") and " tests: " in line and " (+" in line
            for line in finding.message.splitlines()
        )
        known = out.get(key, set())
        out[key] = None if truncated or known is None else known | set(tests_of([finding]))
    return out


def _still(
    now: dict[tuple[str, str, str], set[str] | None], finding: Finding, tests: Sequence[str]
) -> bool:
    """The finding fixed is reported again in one of ``tests``."""
    if identity(finding) not in now:
        return False
    reached = now[identity(finding)]
    return reached is None or bool(reached & set(tests))


def _had(before: dict[tuple[str, str, str], set[str] | None], finding: Finding) -> bool:
    """``finding`` (after an edit) was there before in each test it reaches now."""
    tests = before.get(identity(finding), set())
    return tests is None or set(tests_of([finding])) <= tests


def tests_of(findings: Sequence[Finding]) -> list[str]:
    """The node ids the findings name: each one's test, and those its ``in N tests:``
    line lists (the query gate groups one finding reached by several tests)."""
    tests = {f.object for f in findings}
    for finding in findings:
        for line in finding.message.splitlines():
            if line.startswith("in ") and " tests: " in line:
                listed = line.split(" tests: ", 1)[1].split(" (+", 1)[0]
                tests.update(t.strip() for t in listed.split(", ") if t.strip())
    return sorted(tests)


@dataclass(frozen=True)
class Verdict:
    """The proof of one edit: ``why`` it is not proven (None: proven); when that is
    only because the gate reports findings it did not report before in the edit's
    tests, those findings (``added``); when only because tests that pin a query count
    fail on it, those failures (``counts``)."""

    why: str | None
    added: tuple[Finding, ...] = ()
    counts: tuple[pinned.Pinned, ...] = ()


def judge(root: Path, groups: Sequence[Sequence[Finding]], before: GateResult) -> list[Verdict]:
    """Steps 2 and 3 of the module docstring for ``groups`` of findings fixed together
    (each group one edit): for each, its :class:`Verdict`. One run of the union of their
    tests without the gate, one under it."""
    each = [tests_of(group) for group in groups]
    tests = sorted({t for one in each for t in one})
    ran = failures(root, tests)
    if isinstance(ran, str):
        return [Verdict(f"its tests could not run after the edit: {ran}")] * len(groups)
    failed, counts = ran
    after = _run_gate(root, tests)
    if after.status == "error":
        why = f"the query gate could not run after the edit: {after.summary}"
        return [Verdict(why)] * len(groups)
    earlier = _reached(before.findings)
    new = [f for f in after.findings if not _had(earlier, f)]
    now = _reached(after.findings)
    verdicts: list[Verdict] = []
    for group, mine in zip(groups, each, strict=True):
        broken = sorted(failed & set(mine))
        again = [f for f in group if _still(now, f, mine)]
        added = [f for f in new if set(tests_of([f])) & set(mine)]
        if broken and all(test in counts for test in broken):
            pin = counts[broken[0]]
            why = (
                f"a test pins the query count: {pin.test} expects {pin.expected} "
                f"queries, {pin.actual} after the edit"
            )
            verdicts.append(Verdict(why, counts=tuple(counts[test] for test in broken)))
        elif broken:
            verdicts.append(Verdict(f"a test fails after the edit: {broken[0]}"))
        elif again:
            first = again[0].message.splitlines()[0]
            verdicts.append(Verdict(f"the query gate still reports it: {first}"))
        elif added:
            first = added[0].message.splitlines()[0]
            why = f"the edit makes the query gate report {added[0].code}: {first}"
            verdicts.append(Verdict(why, tuple(added)))
        else:
            verdicts.append(Verdict(None))
    return verdicts
