"""Precision of the N+1 gate on real projects' suites, from labelled findings.

``run.py`` writes each project's report-mode JSON report; ``labels.toml`` (beside
this file) says, for every finding location, whether it is a real repetition of the
code under test and why (read from the project's code), and which code it should carry:
``DJG101`` when its loop walks rows of a query (an N+1, fails the test), ``DJG110`` when
it walks items of the input (a request body's keys, an imported file's rows: a warning).
This script matches every DJG101 and DJG110 finding of the reports to exactly one label
and prints, per project:

* tests: tests that passed in the plain run;
* failed by gate: tests that passed plain and failed with ``--django-gates``;
* findings, true, false: DJG101 findings (one per location and query) by verdict; a
  DJG101 on a label whose code is DJG110 (an input loop failing a test) is false;
* FP tests: tests named by false DJG101 findings (what false positives fail), and their
  share of the passing tests;
* precision: true / (true + false);
* input, input true: DJG110 findings, and those on a true label whose code is DJG110.
  A DJG110 on a true DJG101 label (a real N+1 reported only as a warning) is a miss.

A finding without a label, a "true" label that matches nothing (a real N+1 the gate
no longer finds) or a real N+1 reported as DJG110, is reported; with ``--check`` any
of them makes the exit status 1, as do the targets of issue 21 (precision >= 95%, FP
tests <= 0.1% of passing tests). A "false" label that matches nothing is a false positive the gate
no longer reports: it stays in the file, so the false positive cannot come back
unnoticed.

Usage::

    python benchmarks/realworld/precision.py [--report-dir DIR] [--project NAME ...] [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the harness itself needs 3.11
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels.toml"
DEFAULT_REPORTS = Path("/tmp/djg-realworld/reports")
CODE = "DJG101"
INPUT_CODE = "DJG110"
MIN_PRECISION = 0.95
MAX_FP_SHARE = 0.001
_TESTS = re.compile(r"^in (\d+) tests: ", re.MULTILINE)


def _portable(path: str) -> str:
    """A finding's path as labels name it: a file of an installed package (a template
    of a crispy-forms pack) from the package down, since the virtualenv's absolute
    path differs from machine to machine."""
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


@dataclass
class Label:
    location: str
    verdict: bool
    reason: str
    match: str = ""
    code: str = CODE  # the code the finding should carry: DJG101 rows, DJG110 input
    # A substring of the whole message (its call path, its "rows:" line): one line
    # reached by two paths, each judged on its own (a loop of rows around one of them).
    via: str = ""
    hits: int = 0

    def matches(self, finding: dict[str, Any]) -> bool:
        where = f"{_portable(str(finding.get('path')))}:{finding.get('line')}"
        message = str(finding.get("message", ""))
        headline = message.split("\n", 1)[0]
        return where == self.location and self.match in headline and self.via in message


@dataclass
class Row:
    project: str
    tests: int = 0
    failed_by_gate: int = 0
    findings: int = 0
    true: int = 0
    false: int = 0
    fp_tests: int = 0
    inputs: int = 0  # DJG110 findings
    inputs_true: int = 0  # of them, on a true label whose code is DJG110
    unlabelled: list[str] = field(default_factory=list)
    demoted: list[str] = field(default_factory=list)  # real N+1s (DJG101) seen as DJG110
    missed: list[str] = field(default_factory=list)  # true labels nothing matched
    gone: list[str] = field(default_factory=list)  # false labels nothing matched

    @property
    def precision(self) -> float:
        judged = self.true + self.false
        return self.true / judged if judged else 1.0

    @property
    def fp_share(self) -> float:
        return self.fp_tests / self.tests if self.tests else 0.0


def load_labels(path: Path) -> dict[str, list[Label]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    labels: dict[str, list[Label]] = {}
    for project, entries in data.items():
        for i, entry in enumerate(entries):
            where = f"{path.name}: {project}[{i}]"
            verdict = entry.get("verdict")
            if verdict not in ("true", "false"):
                raise SystemExit(f"{where}: verdict must be 'true' or 'false', got {verdict!r}")
            if not str(entry.get("reason", "")).strip():
                raise SystemExit(f"{where}: every label needs a reason read from the code")
            code = entry.get("code", CODE)
            if code not in (CODE, INPUT_CODE):
                raise SystemExit(f"{where}: code must be {CODE!r} or {INPUT_CODE!r}, got {code!r}")
            labels.setdefault(project, []).append(
                Label(
                    location=str(entry["location"]),
                    verdict=verdict == "true",
                    reason=str(entry["reason"]),
                    match=str(entry.get("match", "")),
                    code=code,
                    via=str(entry.get("via", "")),
                )
            )
    return labels


def tests_of(finding: dict[str, Any]) -> int:
    found = _TESTS.search(str(finding.get("message", "")))
    return int(found.group(1)) if found else 1


def _totals(summary: dict[str, Any], project: str, mode: str) -> dict[str, int]:
    for entry in summary.get("projects", []):
        if entry.get("project") == project:
            run = (entry.get("runs") or {}).get(mode) or {}
            return dict(run.get("totals") or {})
    return {}


def judge(project: str, reports: Path, labels: list[Label], summary: dict[str, Any]) -> Row:
    row = Row(project=project)
    plain = _totals(summary, project, "plain")
    fail = _totals(summary, project, "fail")
    row.tests = int(plain.get("passed", 0))
    row.failed_by_gate = max(0, int(fail.get("failed", 0)) - int(plain.get("failed", 0)))
    report = json.loads((reports / f"{project}.json").read_text(encoding="utf-8"))
    findings = [
        f
        for gate in report["gates"]
        if gate["name"] == "queries"
        for f in gate["findings"]
        if f["code"] in (CODE, INPUT_CODE)
    ]
    row.findings = sum(1 for f in findings if f["code"] == CODE)
    row.inputs = len(findings) - row.findings
    for finding in findings:
        matching = [label for label in labels if label.matches(finding)]
        if len(matching) != 1:
            headline = str(finding["message"]).split("\n", 1)[0][:120]
            state = "no label" if not matching else f"{len(matching)} labels"
            where = f"{_portable(finding['path'])}:{finding['line']}"
            row.unlabelled.append(f"{where} ({state}): {headline}")
            continue
        label = matching[0]
        label.hits += 1
        if finding["code"] == INPUT_CODE:
            if label.verdict and label.code == INPUT_CODE:
                row.inputs_true += 1
            elif label.verdict:
                headline = str(finding["message"]).split("\n", 1)[0][:120]
                row.demoted.append(f"{finding['path']}:{finding['line']}: {headline}")
        elif label.verdict and label.code == CODE:
            row.true += 1
        else:
            row.false += 1
            row.fp_tests += tests_of(finding)
    row.missed = [
        f"{label.location} {label.match!r}" for label in labels if label.verdict and not label.hits
    ]
    row.gone = [
        f"{label.location} {label.match!r}"
        for label in labels
        if not label.verdict and not label.hits
    ]
    return row


def render(rows: Sequence[Row]) -> str:
    head = (
        f"{'project':<22} {'tests':>6} {'failed by gate':>14} {'findings':>8} {'true':>5} "
        f"{'false':>5} {'FP tests':>8} {'FP %':>6} {'precision':>9} {'input':>5} "
        f"{'input true':>10}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.project:<22} {r.tests:>6} {r.failed_by_gate:>14} {r.findings:>8} {r.true:>5} "
            f"{r.false:>5} {r.fp_tests:>8} {r.fp_share:>6.1%} {r.precision:>9.1%} "
            f"{r.inputs:>5} {r.inputs_true:>10}"
        )
    total = Row(project="all")
    for r in rows:
        total.tests += r.tests
        total.failed_by_gate += r.failed_by_gate
        total.findings += r.findings
        total.true += r.true
        total.false += r.false
        total.fp_tests += r.fp_tests
        total.inputs += r.inputs
        total.inputs_true += r.inputs_true
    lines.append("-" * len(head))
    lines.append(
        f"{'all':<22} {total.tests:>6} {total.failed_by_gate:>14} {total.findings:>8} "
        f"{total.true:>5} {total.false:>5} {total.fp_tests:>8} {total.fp_share:>6.1%} "
        f"{total.precision:>9.1%} {total.inputs:>5} {total.inputs_true:>10}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--report-dir", type=Path, default=DEFAULT_REPORTS)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--project", action="append", default=None, metavar="NAME")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target holds")
    args = parser.parse_args(argv)
    summary_path = args.report_dir / "summary.json"
    if not summary_path.is_file():
        print(f"{summary_path} does not exist: run benchmarks/realworld/run.py", file=sys.stderr)
        return 2
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    labels = load_labels(args.labels)
    ran = [p["project"] for p in summary.get("projects", [])]
    projects = args.project or ran
    rows: list[Row] = []
    for project in projects:
        if project not in ran:
            print(f"{project}: not in {summary_path}", file=sys.stderr)
            return 2
        if not (args.report_dir / f"{project}.json").is_file():
            print(
                f"{project}: {args.report_dir / (project + '.json')} does not exist (its "
                "report-mode run did not finish): run benchmarks/realworld/run.py again",
                file=sys.stderr,
            )
            return 2
        rows.append(judge(project, args.report_dir, labels.get(project, []), summary))
    print(render(rows))
    ok = True
    for row in rows:
        for item in row.unlabelled:
            print(f"{row.project}: unlabelled finding {item}")
            ok = False
        for item in row.missed:
            print(f"{row.project}: a labelled real N+1 was not found: {item}")
            ok = False
        for item in row.demoted:
            print(f"{row.project}: a labelled real N+1 was reported as {INPUT_CODE}: {item}")
            ok = False
        for item in row.gone:
            print(f"{row.project}: false positive no longer reported (kept as a guard): {item}")
        if row.precision < MIN_PRECISION:
            print(f"{row.project}: precision {row.precision:.1%} < {MIN_PRECISION:.0%}")
            ok = False
        if row.fp_share > MAX_FP_SHARE:
            print(
                f"{row.project}: false positives fail {row.fp_tests} tests, "
                f"{row.fp_share:.2%} of passing tests > {MAX_FP_SHARE:.1%}"
            )
            ok = False
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
