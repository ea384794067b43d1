"""The same report every time (issue 20, section 3): the query gate's report is a function
of the code and the tests, never of the order the tests ran in, of the xdist scheduling
or of which worker reported first.

The end-to-end proof runs one suite, the N+1 scenario project ``nplusone_project`` with
the test module and the code below added, that has a finding of every kind reached by
several tests: DJG101 N+1s (one of them also latent, one also at a ``query_scaling``
test's larger scale), DJG102 (``query_budget``), DJG103 (baseline growth), DJG104 (a
stale allow marker, and a stale ``queries.allow`` entry), DJG107, DJG108 and DJG109. The
tests whose node ids come first do not run first in file order (the parameters are out
of order on purpose) and DJG108 comes from ``test_rename`` and
``test_rename_transactional``, the pair of the flake of
``test_writes.py::test_same_findings_under_xdist``. The suite runs
serially, with ``-n 2`` and ``-n 4``, and in random orders (pytest-randomly, fixed
seeds); the JSON reports must be identical once temporary paths and timings are taken
out, and so must the query baselines ``--gates-update-baseline`` writes.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from pytest_django_gates import render
from pytest_django_gates.gates.queries import group_findings
from pytest_django_gates.report import Finding, GateResult, Report
from tests.helpers import copy_project, gate

PROJECT = Path(__file__).resolve().parent / "nplusone_project"

# Code under test that writes, added to the project as shop/ledger.py.
LEDGER = '''\
"""Writes: a row per loop iteration (DJG107), two rows outside a transaction (DJG108)."""

from shop.models import Tag


def add_tags(names):
    for name in names:
        Tag.objects.create(name=name)


def rename(author, book):
    author.name = author.name.upper()
    author.save(update_fields=["name"])
    book.title = book.title.upper()
    book.save(update_fields=["title"])
'''

# Added to the project as test_grouped.py: each finding is reached by several tests.
TEST_GROUPED = """\
import pytest
from django.contrib.auth.models import Group

from shop import ledger, services
from shop.models import Author, Book


def rows(n):
    for i in range(n):
        Book.objects.create(title=f"b{i}", author=Author.objects.create(name=f"a{i}"))


# DJG101 "N+1: 5 x", "2 x", "4 x" at one line, also test_scenarios.py::test_catch_fk_loop's.
@pytest.mark.parametrize("n", [5, 2, 4])
def test_n_plus_one(db, n):
    rows(n)
    assert len(services.book_author_names()) == n


# The latent DJG101 of test_scenarios.py::test_catch_latent_single_row.
def test_latent(one_row):
    assert services.book_author_names() == ["a0"]


# DJG109, and a DJG101 "N+1: 3 x" at the larger scale.
@pytest.mark.parametrize("case", ["b", "a"])
@pytest.mark.query_scaling(populate=rows, scales=(2, 3))
@pytest.mark.django_db
def test_scaling(case):
    assert services.book_author_names()


# DJG107 "write in a loop: 4 x" and "3 x".
@pytest.mark.parametrize("names", [["x", "y", "z", "w"], ["x", "y", "z"]], ids=["4", "3"])
def test_write_loop(db, names):
    ledger.add_tags(names)


# DJG108 from two tests (pytest-django runs the transactional one last; under xdist
# another worker may report it first).
@pytest.mark.django_db(transaction=True)
def test_rename_transactional():
    rows(1)
    book = Book.objects.get()
    ledger.rename(book.author, book)


def test_rename(one_row):
    book = Book.objects.get()
    ledger.rename(book.author, book)


@pytest.mark.parametrize("case", ["b", "a"])
@pytest.mark.query_budget(1)
@pytest.mark.django_db
def test_over_budget(case):  # DJG102
    assert Group.objects.count() == 0
    assert not Group.objects.exists()


@pytest.mark.parametrize("case", ["b", "a"])
@pytest.mark.django_db
def test_baseline_grew(case):  # DJG103: 2 queries, 1 in the baseline
    assert Group.objects.count() == 0
    assert not Group.objects.exists()


@pytest.mark.parametrize("case", ["b", "a"])
@pytest.mark.allow_n_plus_one(reason="the N+1 is gone")
@pytest.mark.django_db
def test_stale_allow(case):  # DJG104
    assert Group.objects.count() == 0
"""

STALE_ALLOW_ENTRY = """
[[tool.django-gates.queries.allow]]
location = "shop/nowhere.py:*"
reason = "matches nothing: DJG104"
"""

BASELINE = {
    "format": 1,
    "tests": {
        "test_grouped.py::test_baseline_grew[b]": 1,
        "test_grouped.py::test_baseline_grew[a]": 1,
    },
}

# The finding codes the suite has, each reached by several tests.
GROUPED_CODES = {"DJG101", "DJG102", "DJG103", "DJG104", "DJG107", "DJG108", "DJG109"}

SEEDS = (1, 2, 3)
RANDOMLY = ("-p", "randomly")
RUNS: dict[str, tuple[str, ...]] = {
    "serial": (),
    "-n 2": ("-n", "2"),
    "-n 4": ("-n", "4"),
    **{f"random order (seed {s})": (*RANDOMLY, f"--randomly-seed={s}") for s in SEEDS},
    "-n 2, random order (seed 4)": ("-n", "2", *RANDOMLY, "--randomly-seed=4"),
}
_TEST_LINE = re.compile(r"^(test_\w+\.py::\S+) (?:PASSED|FAILED|SKIPPED|ERROR)\b")
_SECONDS = re.compile(r"\b\d+\.\d+ ?s\b")


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of nplusone_project with the module, code, allow entry and baseline above;
    the current directory, for ``pytester.runpytest_subprocess``."""
    for name in list(os.environ):
        if name.startswith("DJANGO_GATES_") or name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL"):
            monkeypatch.delenv(name)
    root = copy_project(PROJECT, pytester.path / "project")
    (root / "shop" / "ledger.py").write_text(LEDGER)
    (root / "test_grouped.py").write_text(TEST_GROUPED)
    with (root / "pyproject.toml").open("a") as f:
        f.write(STALE_ALLOW_ENTRY)
    (root / "q.json").write_text(json.dumps(BASELINE))
    monkeypatch.chdir(root)
    return root


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-v", "--django-gates", *args, timeout=600
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, "\n".join(result.outlines[-40:])
    return result


def _comparable(text: str, root: Path) -> str:
    """``text`` without this run's temporary paths and timings."""
    for where in {str(root), str(root.resolve())}:
        text = text.replace(where, "<project>")
    return _SECONDS.sub("<seconds>", text)


def _order(result: pytest.RunResult) -> list[str]:
    """The node ids in the order a run without xdist ran them (``-v``)."""
    return [m[1] for line in result.outlines if (m := _TEST_LINE.match(line))]


def _diff(expected: str, got: str, name: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(), got.splitlines(), "serial", name, lineterm="", n=2
    )
    return "\n".join(itertools.islice(lines, 80))


def _listed(message: str) -> list[str]:
    """The tests a grouped finding names (``in N tests: a, b, c (+k more)``)."""
    last = message.splitlines()[-1]
    match = re.fullmatch(r"in (\d+) tests: (.+?)(?: \(\+\d+ more\))?", last)
    return match[2].split(", ") if match else []


@pytest.mark.slow
def test_the_report_is_the_same_in_any_order_and_under_xdist(
    pytester: pytest.Pytester, project: Path
) -> None:
    reports: dict[str, str] = {}
    orders: dict[str, list[str]] = {}
    for i, (name, args) in enumerate(RUNS.items()):
        result = _run(
            pytester, f"--gates-report=report-{i}.json", "--gates-query-baseline=q.json", *args
        )
        out = result.stdout.str()
        random_order = "randomly" in args
        assert ("Using --randomly-seed=" in out) is random_order, name
        if "-n" in args:
            assert f"created: {args[args.index('-n') + 1]}/" in out, out[-2000:]
        else:
            orders[name] = _order(result)
        reports[name] = _comparable((project / f"report-{i}.json").read_text(), project)

    # The serial run kept the file's order (the smallest node ids do not run first), and
    # each seed gave another order of the same tests.
    serial_order = orders.pop("serial")
    ran = {nodeid.removeprefix("test_grouped.py::"): i for i, nodeid in enumerate(serial_order)}
    assert ran["test_n_plus_one[5]"] < ran["test_n_plus_one[2]"]
    assert ran["test_scaling[b]"] < ran["test_scaling[a]"]
    assert all(sorted(o) == sorted(serial_order) for o in orders.values())
    assert len({tuple(o) for o in orders.values()} | {tuple(serial_order)}) == len(SEEDS) + 1

    expected = reports["serial"]
    for name, text in reports.items():
        assert text == expected, _diff(expected, text, name)

    queries = gate(json.loads(expected), "queries")
    findings = queries["findings"]
    grouped = {f["code"] for f in findings if _listed(f["message"])}
    assert grouped == GROUPED_CODES, grouped
    for f in findings:
        tests = _listed(f["message"])
        if tests:
            # The smallest node id, and the sorted list of tests.
            assert tests == sorted(tests), f
            assert f["object"] == tests[0], f
    keys = [(f["path"] or "", f["line"] or 0, f["code"], f["object"]) for f in findings]
    assert keys == sorted(keys)
    # The representative is the smallest node id's finding, with its own count.
    n_plus_one = next(f for f in findings if f["object"] == "test_grouped.py::test_n_plus_one[2]")
    assert n_plus_one["message"].startswith("N+1: 2 x ")
    assert _listed(n_plus_one["message"]) == [
        f"test_grouped.py::test_n_plus_one[{n}]" for n in (2, 4, 5)
    ]
    latent = next(f for f in findings if f["object"] == "test_grouped.py::test_latent")
    assert latent["message"].startswith("latent N+1: 1 x ")
    assert "test_scenarios.py::test_catch_latent_single_row" in _listed(latent["message"])
    loop = next(f for f in findings if f["code"] == "DJG107")
    assert (loop["object"], loop["message"][:21]) == (
        "test_grouped.py::test_write_loop[3]",
        "write in a loop: 3 x ",
    )
    non_atomic = next(f for f in findings if f["code"] == "DJG108")
    assert non_atomic["object"] == "test_grouped.py::test_rename"


@pytest.mark.slow
def test_the_baseline_written_is_the_same_in_any_order_and_under_xdist(
    pytester: pytest.Pytester, project: Path
) -> None:
    written: dict[str, str] = {}
    for name in ("serial", "-n 4", "random order (seed 1)"):
        path = f"baseline-{len(written)}.json"
        _run(pytester, f"--gates-query-baseline={path}", "--gates-update-baseline", *RUNS[name])
        written[name] = (project / path).read_text()
    expected = written["serial"]
    assert '"test_grouped.py::test_baseline_grew[a]": 2' in expected
    for name, text in written.items():
        assert text == expected, _diff(expected, text, name)


# -------------------------------------------------------------------- without a run


def _finding(code: str, test: str, message: str, hint: str = "") -> Finding:
    return Finding(code, "warning", message, object=test, path="app/views.py", line=7, hint=hint)


FINDINGS = [
    _finding("DJG101", "t.py::test_b", "N+1: 5 x SELECT 1 at app/views.py:7", hint="b"),
    _finding("DJG101", "t.py::test_c", "N+1: 3 x SELECT 1 at app/views.py:7", hint="c"),
    _finding("DJG101", "t.py::test_a[2]", "N+1: 21 x SELECT 1 at app/views.py:7", hint="a2"),
    _finding("DJG101", "t.py::test_a[10]", "N+1: 2 x SELECT 1 at app/views.py:7", hint="a10"),
    _finding("DJG107", "t.py::test_z", "write in a loop: 3 x INSERT at app/views.py:7"),
    _finding("DJG107", "t.py::test_y", "write in a loop: 4 x INSERT at app/views.py:7"),
    _finding("DJG108", "t.py::test_y", "2 writes outside a transaction in one request"),
    _finding("DJG108", "t.py::test_x", "3 writes outside a transaction in one request"),
    Finding("DJG102", "error", "query budget exceeded", object="t.py::test_q", path="t.py"),
]


def _all_orders(findings: Sequence[Finding]) -> list[list[Finding]]:
    """Some orders of ``findings``: as given, reversed, and rotations of both."""
    orders = []
    for base in (list(findings), list(reversed(findings))):
        orders.extend(base[i:] + base[:i] for i in range(len(base)))
    return orders


def test_grouping_does_not_depend_on_the_order_findings_arrive_in() -> None:
    results = {tuple(group_findings(order)) for order in _all_orders(FINDINGS)}
    assert len(results) == 1
    (result,) = results
    # In Finding.sort_key order: path, line, code, object, message.
    assert [(f.code, f.object) for f in result] == [
        ("DJG101", "t.py::test_a[10]"),
        ("DJG107", "t.py::test_y"),
        ("DJG108", "t.py::test_x"),
        ("DJG102", "t.py::test_q"),
    ]
    n_plus_one, loop, non_atomic, _ = result
    # The smallest node id (string order: "[10]" < "[2]") gives the message and the hint.
    assert n_plus_one.message == (
        "N+1: 2 x SELECT 1 at app/views.py:7\n"
        "in 4 tests: t.py::test_a[10], t.py::test_a[2], t.py::test_b (+1 more)"
    )
    assert n_plus_one.hint == "a10"
    assert loop.message.startswith("write in a loop: 4 x INSERT")
    assert non_atomic.message.startswith("3 writes outside a transaction")


def test_renderings_do_not_depend_on_the_order_findings_were_added() -> None:
    outputs = set()
    for order in _all_orders(FINDINGS):
        report = Report(
            gates=(
                GateResult(name="queries", status="failed", summary="s", findings=tuple(order)),
            ),
            tool={"name": "pytest-django-gates", "version": "0"},
        )
        outputs.add(tuple(render.render(report, fmt) for fmt in render.RENDERERS))
    assert len(outputs) == 1
