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
   included), and no new query finding may appear in those tests, unless the edit
   uncovered it rather than caused it: its statement ran as often or more before the
   edit, in each of its tests (:mod:`pytest_django_gates.fix.statements`, counted in
   the runs of steps 1 and 2). A fix is kept with the N+1s it uncovered, and says
   which; an uncovered finding at a line the fix is for, on the same relation, is the
   finding itself, still there.

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
from pytest_django_gates.fix import pinned, statements
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


@dataclass(frozen=True)
class Ran:
    """A run of tests without the gate: those that failed (node ids), those of them that
    failed on a query count they pin (:mod:`pytest_django_gates.fix.pinned`), and the
    statements each test ran (:mod:`pytest_django_gates.fix.statements`)."""

    failed: set[str]
    pinned: dict[str, pinned.Pinned]
    statements: dict[str, dict[str, int]]


def failures(root: Path, tests: Sequence[str]) -> Ran | str:
    """``tests`` run without the gate (:class:`Ran`); a sentence when pytest could not
    run them at all."""
    with tempfile.TemporaryDirectory(prefix="djg-plain-") as tmp:
        pins, counted = Path(tmp) / "pinned", Path(tmp) / "statements"
        env = {**os.environ, pinned.ENV: str(pins), statements.ENV: str(counted)}
        plugins = ["-p", pinned.__name__, "-p", statements.__name__]
        proc = run_pytest(root, [*plugins, "-q", "-rfE", *tests], env)
        counts = pinned.read(pins)
        ran = statements.read(counted)
    if proc.returncode == 0:
        return Ran(set(), {}, ran)
    failed = {
        line.split(" ", 1)[1].split(" - ", 1)[0].strip()
        for line in proc.stdout.splitlines()
        if line.startswith(("FAILED ", "ERROR "))
    }
    if proc.returncode != 1 or not failed:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        return f"pytest exited with {proc.returncode}: {' '.join(tail)}"
    return Ran(failed, {test: count for test, count in counts.items() if test in failed}, ran)


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
    tests, those findings (``added``), and whether the edit uncovered every one of them
    rather than caused it (``uncovered``: the fix may be kept with them); when only
    because tests that pin a query count fail on it, those failures (``counts``)."""

    why: str | None
    added: tuple[Finding, ...] = ()
    counts: tuple[pinned.Pinned, ...] = ()
    uncovered: bool = False


def _relation(finding: Finding) -> str:
    """The relation a finding names (``app.Model.name``), or ""."""
    for line in finding.message.splitlines():
        if line.startswith(("relation: ", "field: ")):
            return line.split(" ", 2)[1]
    return ""


def _place(finding: Finding) -> str:
    head = finding.message.splitlines()[0] if finding.message else ""
    return head.rsplit(" at ", 1)[-1] if " at " in head else head


def _itself(added: Finding, group: Sequence[Finding]) -> bool:
    """``added`` is one of the group's own findings in another form (latent now, or
    its relation described as prefetched and bypassed): the same line, statement and
    relation; when either names no relation, the same line and statement are enough
    (nothing tells them apart, and the proof errs towards reverting)."""
    shown = statements.statement(added.message.splitlines()[0] if added.message else "")
    mine = _relation(added)
    return any(
        _place(added) == _place(f)
        and shown == statements.statement(f.message.splitlines()[0] if f.message else "")
        and (mine == _relation(f) or not mine or not _relation(f))
        for f in group
    )


def judge(
    root: Path,
    groups: Sequence[Sequence[Finding]],
    before: GateResult,
    start: statements.Counts,
) -> list[Verdict]:
    """Steps 2 and 3 of the module docstring for ``groups`` of findings fixed together
    (each group one edit): for each, its :class:`Verdict`. One run of the union of their
    tests without the gate, one under it; ``start``: the statements each test ran
    before any edit."""
    each = [tests_of(group) for group in groups]
    tests = sorted({t for one in each for t in one})
    ran = failures(root, tests)
    if isinstance(ran, str):
        return [Verdict(f"its tests could not run after the edit: {ran}")] * len(groups)
    failed, counts = ran.failed, ran.pinned
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
        added = [f for f in new if set(tests_of([f])) & set(mine)]
        again = [f for f in group if _still(now, f, mine)] + [f for f in added if _itself(f, group)]
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
            # Named: the first the edit caused, else the first it uncovered.
            caused = [
                f
                for f in added
                if not statements.uncovered(
                    f.message, sorted(set(tests_of([f])) & set(mine)), start, ran.statements
                )
            ]
            named = (caused or added)[0]
            why = f"the edit makes the query gate report {named.code}: "
            why += named.message.splitlines()[0]
            verdicts.append(Verdict(why, tuple(added), uncovered=not caused))
        else:
            verdicts.append(Verdict(None))
    return verdicts
