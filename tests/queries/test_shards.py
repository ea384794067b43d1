"""A suite split across CI runners gives the unsharded verdict (issue 20, section 2).

End to end on the determinism project of ``test_report_determinism.py`` (every query
finding code, each reached by several tests, plus an allow entry that only one shard's
tests use): the suite runs once unsharded and once as three shards (``--gates-shard
K/3``, one of them under ``-n 2``); ``django-gates report --shards 3`` must give the
unsharded queries gate exactly, and fail closed when a shard's report is missing.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_django_gates import shards
from pytest_django_gates.config import ConfigError
from pytest_django_gates.report import GateResult, Report
from tests.helpers import gate
from tests.queries.test_report_determinism import _comparable, _diff, _run, project

__all__ = ["project"]  # the fixture, used by name below

# Used by test_latent only: one shard uses it, the others do not; merged, it is used.
ALLOW_ONE_SHARD = """
[[tool.django-gates.queries.allow]]
test = "test_grouped.py::test_latent"
reason = "used by the one shard that runs test_latent"
"""


def _django_gates(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_django_gates", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _queries(path: Path, root: Path) -> str:
    return json.dumps(gate(json.loads(_comparable(path.read_text(), root)), "queries"), indent=1)


@pytest.mark.slow
def test_three_shards_merge_into_the_unsharded_report(
    pytester: pytest.Pytester, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_GATES_GATES", "queries")
    with (project / "pyproject.toml").open("a") as f:
        f.write(ALLOW_ONE_SHARD)
    baseline = "--gates-query-baseline=q.json"
    _run(pytester, "--gates-report=full.json", baseline)
    for k in (1, 2, 3):
        extra = ("-n", "2") if k == 2 else ()
        result = pytester.runpytest_subprocess(
            "-p",
            "no:cacheprovider",
            "--django-gates",
            f"--gates-report=shard-{k}.json",
            f"--gates-shard={k}/3",
            baseline,
            *extra,
            timeout=600,
        )
        assert result.ret in (0, 1), "\n".join(result.outlines[-40:])

    stamps = [Report.load(project / f"shard-{k}.json").shard for k in (1, 2, 3)]
    assert [(s or {}).get("index") for s in stamps] == [1, 2, 3]
    full = Report.load(project / "full.json")
    tests = sum(int((s or {})["queries"]["tests"]) for s in stamps)
    assert (
        f"{tests} tests checked" in (full.gate("queries") or GateResult("q", "error", "")).summary
    )
    # Each shard ran a third of the tests, none twice.
    sizes = [int((s or {})["tests"]) for s in stamps]
    assert max(sizes) - min(sizes) <= 1
    assert all(sizes)
    # The allow entry is unused in two shards (each alone would report DJG104 for it).
    unused = [
        f.object
        for k in (1, 2, 3)
        for f in (
            Report.load(project / f"shard-{k}.json").gate("queries") or GateResult("", "", "")
        ).findings
        if f.code == "DJG104" and "test_latent" in f.message
    ]
    assert len(unused) == 2, unused

    files = ["shard-3.json", "shard-1.json", "shard-2.json"]  # any order
    merged = _django_gates(
        "report",
        "--shards",
        "3",
        *files,
        "--format",
        "json",
        "--output",
        "merged.json",
        cwd=project,
    )
    assert merged.returncode == 1, merged.stderr  # the project's findings fail the gate
    expected, got = (
        _queries(project / "full.json", project),
        _queries(project / "merged.json", project),
    )
    assert got == expected, _diff(expected, got, "merged")
    assert re.search(r"\\nin \d+ tests: ", got)  # grouped across shards, as one run groups

    # Fail closed: a shard without a report makes the verdict an error naming it.
    two = _django_gates(
        "report",
        "--shards",
        "3",
        "shard-1.json",
        "shard-3.json",
        "--format",
        "json",
        "--output",
        "two.json",
        cwd=project,
    )
    assert two.returncode == 3, two.stderr
    queries = gate(json.loads((project / "two.json").read_text()), "queries")
    assert queries["status"] == "error"
    assert queries["summary"].startswith("shard 2/3 left no report")

    # Usage errors: another N, one shard twice, a shard report merged as a plain one.
    for args, words in [
        (
            ("--shards", "4", *files),
            "shard-3.json: a report of shard 3/3 (of 3), but --shards is 4",
        ),
        (("--shards", "3", "shard-1.json", "shard-1.json"), "a second report of shard 1/3"),
        ((*files,), "shard-3.json is the report of one shard of a split suite"),
    ]:
        done = _django_gates("report", *args, cwd=project)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_three_shards_update_the_query_baseline_as_one_run_does(
    pytester: pytest.Pytester, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_GATES_GATES", "queries")
    original = (project / "q.json").read_text()
    for name in ("full", "shard-1", "shard-2", "shard-3", "merged"):
        (project / f"q-{name}.json").write_text(original)
    update = "--gates-update-baseline"
    _run(pytester, "--gates-query-baseline=q-full.json", update)
    for k in (1, 2, 3):
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--django-gates", f"--gates-shard={k}/3", update,
            f"--gates-query-baseline=q-shard-{k}.json", f"--gates-report=shard-{k}.json",
            timeout=600,
        )  # fmt: skip
        assert result.ret in (0, 1), "\n".join(result.outlines[-40:])
    files = ["shard-1.json", "shard-2.json", "shard-3.json"]
    merged = _django_gates(
        "report", "--shards", "3", *files, "--update-query-baseline", "q-merged.json",
        "--format", "json", "--output", "merged.json", cwd=project,
    )  # fmt: skip
    assert merged.returncode == 1, merged.stderr
    assert "query baseline updated from 3 shards' counts" in merged.stderr
    expected = (project / "q-full.json").read_text()
    assert expected != original
    assert (project / "q-merged.json").read_text() == expected
    # Each shard's own file holds its counts only: none of them is the whole update.
    assert all((project / f"q-shard-{k}.json").read_text() != expected for k in (1, 2, 3))

    # Without every shard's counts, nothing is written.
    (project / "q-merged.json").write_text(original)
    two = _django_gates(
        "report", "--shards", "3", "shard-1.json", "shard-2.json",
        "--update-query-baseline", "q-merged.json", cwd=project,
    )  # fmt: skip
    assert two.returncode == 2, two.stderr
    assert "shard 3/3 left no report: the query baseline is not updated" in two.stderr
    assert (project / "q-merged.json").read_text() == original


def _report(shard: dict[str, object] | None, *gates: GateResult) -> Report:
    return Report(gates=gates, tool={"name": "pytest-django-gates"}, shard=shard)


def test_coverage_measured_by_shards_must_be_judged_by_a_merged_report() -> None:
    stamp = {"index": 1, "total": 1, "tests": 3, "queries": {"tests": 3, "queries": 9}}
    skipped = shards.not_judged_coverage(shards.Shard(1, 1))
    alone = shards.merge([("s1.json", _report(stamp, skipped))], 1)
    assert alone.gates[0].status == "error"
    assert "no report judges it" in alone.gates[0].summary
    judged = GateResult("coverage", "passed", "total 99.09% (437/441 lines)")
    both = shards.merge(
        [("s1.json", _report(stamp, skipped)), ("c.json", _report(None, judged))], 1
    )
    assert both.gates[0] == judged


def test_a_shard_that_could_not_run_fails_the_merge() -> None:
    ok = {"index": 1, "total": 2, "tests": 3, "queries": {"tests": 3, "queries": 9}}
    crashed = {"index": 2, "total": 2}
    merged = shards.merge(
        [
            ("s1.json", _report(ok, GateResult("queries", "passed", "3 tests checked"))),
            ("s2.json", _report(crashed, GateResult("queries", "error", "pytest wrote no report"))),
        ],
        2,
    )
    assert merged.gates[0].status == "error"
    assert "pytest wrote no report" in merged.gates[0].summary


@pytest.mark.parametrize("total", [1, 2, 3, 7, 40])
def test_the_split_is_a_partition_that_ignores_collection_order(total: int) -> None:
    ids = [f"tests/test_{i % 9}.py::test_{i}" for i in range(31)]
    groups = []
    for index in range(1, total + 1):
        shuffled = ids[:]
        random.Random(index).shuffle(shuffled)
        kept, dropped = shards.select(shuffled, shards.Shard(index, total), nodeid=str)
        assert sorted(kept + dropped) == sorted(ids)
        assert kept == [i for i in shuffled if i in set(kept)]  # collection order kept
        groups.append(sorted(kept))
    assert sorted(i for g in groups for i in g) == sorted(ids)
    sizes = [len(g) for g in groups]
    assert max(sizes) - min(sizes) <= 1
    # Contiguous runs of the sorted ids: a module's tests stay together where they can.
    flat = [i for g in groups for i in g]
    assert flat == sorted(ids)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("3", "expected K/N"),
        ("0/3", "K must be between 1 and N"),
        ("4/3", "K must be between 1 and N"),
        ("a/b", "expected K/N"),
    ],
)
def test_a_bad_shard_names_the_option(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        shards.parse(raw, "--gates-shard")
    assert str(info.value).startswith("--gates-shard: ")
    assert shards.parse(" 2 / 3 ", "x") == "2/3"
