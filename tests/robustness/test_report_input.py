"""``django-gates report FILE...`` fed generated hostile report files, in a real process."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from tests.helpers import runs_once
from tests.robustness.support import (
    check_contract,
    mangled_json,
    maybe,
    no_leftovers,
    run_cli,
)

pytestmark = runs_once()

_findings = st.fixed_dictionaries(
    {},
    optional={
        "code": maybe(st.sampled_from(["DJG101", "ruff:F401", ""])),
        "severity": maybe(st.sampled_from(["error", "warning"])),
        "message": maybe(st.text(max_size=40)),
        "object": maybe(st.text(max_size=20)),
        "path": maybe(st.one_of(st.none(), st.text(max_size=20))),
        "line": maybe(st.one_of(st.none(), st.integers(-5, 10**20))),
        "hint": maybe(st.text(max_size=20)),
    },
)
_gates = st.fixed_dictionaries(
    {},
    optional={
        "name": maybe(st.sampled_from(["queries", "ruff", "coverage", "x" * 300, "\u00e9\u6f22"])),
        "status": maybe(st.sampled_from(["passed", "failed", "error", "skipped"])),
        "summary": maybe(st.text(max_size=30)),
        "findings": maybe(st.lists(_findings, max_size=4)),
    },
)
_reports = st.fixed_dictionaries(
    {},
    optional={
        "format": st.one_of(st.just(1), st.just(1), st.sampled_from([2, 0, "1", 1.0, None])),
        "tool": maybe(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3)),
        # duplicated gates: the same drawn gate repeated in one report
        "gates": maybe(
            st.lists(_gates, max_size=4).flatmap(
                lambda gates: st.just(gates + gates[:1]) | st.just(gates)
            )
        ),
    },
)


def _run_report(contents: list[bytes], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = []
        for i, data in enumerate(contents):
            path = root / f"shard{i}.json"
            path.write_bytes(data)
            files.append(path.name)
        proc = run_cli(
            ["report", *files, "--format", fmt, "--output", "out.txt", "--report", "merged.json"],
            cwd=root,
        )
        check_contract(proc, *files)
        if proc.returncode == 2:
            # a bad input file: nothing written
            assert not (root / "out.txt").exists()
            assert not (root / "merged.json").exists()
        else:
            # a normal result: both files complete
            assert (root / "out.txt").read_text(encoding="utf-8") != "" or fmt == "github"
            merged = json.loads((root / "merged.json").read_text(encoding="utf-8"))
            assert merged["format"] == 1
        no_leftovers(root)


_VALID = {
    "format": 1,
    "gates": [
        {
            "name": "ruff",
            "status": "failed",
            "summary": "1 error",
            "findings": [{"code": "ruff:F401", "severity": "error", "message": "m", "object": "o"}],
        }
    ],
}


@given(
    contents=st.lists(_reports.flatmap(mangled_json), min_size=1, max_size=3),
    fmt=st.sampled_from(["text", "json", "markdown", "sarif", "github"]),
)
# Regressions: each crashed with a traceback before the fix.
@example(contents=[b"\xff" + json.dumps(_VALID).encode()], fmt="text")  # not UTF-8
@example(contents=[b"[" * 100_000 + b"]" * 100_000], fmt="text")  # nested past recursion
# a lone surrogate escape: text output could not encode it
@example(contents=[json.dumps(_VALID).replace('"m"', '"\\ud800"').encode()], fmt="text")
@example(contents=[json.dumps(_VALID).replace('"m"', '"\\ud800"').encode()], fmt="json")
def test_report_files(contents: list[bytes], fmt: str) -> None:
    _run_report(contents, fmt)


def _valid_with(**changes: Any) -> bytes:
    report = json.loads(json.dumps(_VALID))
    report["gates"][0]["findings"][0].update(changes)
    return json.dumps(report).encode()


@given(
    finding=_findings,
    fmt=st.sampled_from(["text", "json", "markdown", "sarif", "github"]),
)
@example(
    finding={"code": "c", "severity": "error", "message": "m", "object": "o", "line": -3},
    fmt="sarif",
)
def test_findings_fields(finding: dict[str, Any], fmt: str) -> None:
    """Findings of a well-formed report with missing or wrong-typed fields, through every
    renderer, with the same gate in two shards (a merge)."""
    report = json.loads(json.dumps(_VALID))
    report["gates"][0]["findings"] = [finding]
    data = json.dumps(report).encode()
    _run_report([data, data, _valid_with()], fmt)
