"""Hostile input for one gate leaves the others' verdicts as they were (issue 24 §2).

The run project of ``runs.py`` (ruff with one held finding, a suite with one query, a
query baseline, coverage) is run clean, then with one gate's input broken at a time: the
ruff baseline not JSON, the query baseline cut in half, coverage's configuration not
TOML. The gate whose input is broken says so, naming the file (error, exit 3), and every
other gate's status, summary and findings are those of the clean run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import clean_env, runs_once
from tests.robustness.runs import project
from tests.robustness.support import check_contract, run_cli

pytestmark = runs_once()

ARGS = ["run", "--format", "json"]


def _gates(root: Path) -> dict[str, dict[str, Any]]:
    proc = run_cli(ARGS, cwd=root, env=clean_env())
    check_contract(proc)
    return {g["name"]: g for g in json.loads(proc.stdout)["gates"]}


def _clean(root: Path) -> dict[str, dict[str, Any]]:
    project(root)
    # One run writes the baselines (ruff's holds its finding, the queries' its count).
    first = run_cli(["run", "--update-baselines"], cwd=root, env=clean_env())
    check_contract(first)
    return _gates(root)


def _break_ruff(root: Path) -> str:
    (root / ".django-gates" / "ruff-baseline.json").write_bytes(b'{"format": 1, "gate": "ru')
    return "ruff-baseline.json"


def _break_query_baseline(root: Path) -> str:
    # The project updates its query baseline on every run, which rebuilds a corrupt
    # file (by design): one that cannot be read at all, a directory, stays an error.
    path = root / ".django-gates" / "queries-baseline.json"
    path.unlink()
    path.mkdir()
    return "queries-baseline.json"


def _break_coverage_config(root: Path) -> str:
    (root / ".coveragerc").write_text("[run\nsource = .\n")
    return ".coveragerc"


# The gate whose input is broken, and the gates that run inside the same pytest process
# (a query baseline that cannot be read stops that process: its gates cannot look).
CASES = {
    "ruff baseline": (_break_ruff, {"ruff"}),
    "query baseline": (_break_query_baseline, {"queries", "coverage", "tests"}),
    "coverage configuration": (_break_coverage_config, {"coverage", "tests", "queries"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_input_leaves_the_other_gates_as_they_were(tmp_path: Path, case: str) -> None:
    clean_root, broken_root = tmp_path / "clean", tmp_path / "broken"
    clean = _clean(clean_root)
    assert {g["status"] for g in clean.values()} <= {"passed", "failed"}, clean
    breaker, touched = CASES[case]
    _clean(broken_root)
    name = breaker(broken_root)
    proc = run_cli(ARGS, cwd=broken_root, env=clean_env())
    check_contract(proc, name)
    if proc.returncode == 2:
        # Unreadable configuration of the whole run: a usage error naming the file.
        assert name in proc.stderr
        return
    broken = {g["name"]: g for g in json.loads(proc.stdout)["gates"]}
    assert proc.returncode == 3, broken
    errors = {n for n, g in broken.items() if g["status"] == "error"}
    assert errors, broken
    assert errors <= touched, errors
    assert any(name in json.dumps(broken[n]) for n in errors), broken
    for n in errors:  # a sentence, not a traceback
        assert "Traceback" not in broken[n]["summary"], broken[n]
        assert 'File "' not in broken[n]["summary"], broken[n]
    for gate, result in clean.items():
        if gate in touched:
            continue
        assert broken[gate] == result, (gate, broken[gate], result)
