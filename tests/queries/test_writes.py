"""DJG107 (writes in a loop) and DJG108 (several writes outside a transaction), end to end.

The scenario project ``writes_project`` has one service per case: a loop of
``create()`` / ``save()`` / ``.update()`` / ``delete()``, the same inside
``@transaction.atomic``, two saves outside a transaction, a loop over a fixed tuple,
a model whose ``save()`` is overridden and has a receiver, a view with two writes
(with and without ``ATOMIC_REQUESTS``), the test's own writes (never counted), and a
test calling a service in its own loop (each call is a unit of work: one write per
call is not DJG108, two per call are).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import copy_project, gate, load_report, run_pytest

PROJECT = Path(__file__).resolve().parent / "writes_project"

# (code, test, path, line) of every finding in the default run.
EXPECTED = {
    ("DJG107", "test_import", "shop/services.py", 8),
    ("DJG107", "test_import_atomic", "shop/services.py", 14),
    ("DJG107", "test_restock", "shop/services.py", 20),
    ("DJG107", "test_rename", "shop/services.py", 25),
    ("DJG107", "test_remove", "shop/services.py", 30),
    ("DJG108", "test_transfer", "shop/services.py", 35),
    ("DJG108", "test_seed_defaults", "shop/services.py", 47),
    ("DJG107", "test_tags", "shop/services.py", 52),
    ("DJG108", "test_checkout", "shop/urls.py", 8),
    ("DJG108", "test_rename_and_restock_in_the_tests_loop", "shop/services.py", 66),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(PROJECT, tmp_path / "writes_project")


def _run(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    env = {"DJANGO_GATES_GATES": "queries", **(env or {})}
    proc = run_pytest(root, "--django-gates", "--gates-report=report.json", *args, env=env)
    report = load_report(root / "report.json")
    return proc.returncode, gate(report, "queries"), proc.stdout + proc.stderr


def _found(queries: dict[str, Any]) -> set[tuple[str, str, str, int]]:
    return {
        (f["code"], f["object"].split("::")[1], f["path"], f["line"])
        for f in queries["findings"]
        if f["code"] in ("DJG107", "DJG108")
    }


def _finding(queries: dict[str, Any], code: str, test: str) -> dict[str, Any]:
    (found,) = [
        f for f in queries["findings"] if f["code"] == code and f["object"].endswith(f"::{test}")
    ]
    return found


def test_writes_are_reported_as_warnings_with_the_bulk_form(project: Path) -> None:
    code, queries, out = _run(project)
    assert code == 0, out
    assert "17 passed" in out, out
    assert _found(queries) == EXPECTED
    assert {f["severity"] for f in queries["findings"]} == {"warning"}
    assert queries["status"] == "passed"

    restock = _finding(queries, "DJG107", "test_restock")
    assert restock["message"].startswith('write in a loop: 3 x UPDATE "shop_item" SET')
    assert restock["hint"] == (
        "change the objects in the loop and write them at once after it: "
        "Item.objects.bulk_update(objs, fields=['name', 'stock'])"
    )
    imports = _finding(queries, "DJG107", "test_import")
    assert "bulk_create(objs)" in imports["hint"]
    # 3 rows in one test, 2 in another: one problem, one finding naming both tests.
    assert (
        "in 2 tests: test_writes.py::test_import, test_writes.py::test_import_two"
        in (imports["message"])
    )
    assert "queryset.update(...)" in _finding(queries, "DJG107", "test_rename")["hint"]
    assert "filter(pk__in=ids).delete()" in _finding(queries, "DJG107", "test_remove")["hint"]
    tags = _finding(queries, "DJG107", "test_tags")["hint"]
    assert "Tag.save() is overridden (models.py:15): the bulk form skips it" in tags
    assert "post_save receivers are connected: the bulk form sends none" in tags

    transfer = _finding(queries, "DJG108", "test_transfer")
    assert transfer["message"].startswith("2 writes outside a transaction in one call from")
    assert "at shop/services.py:35" in transfer["message"]
    assert "at shop/services.py:37" in transfer["message"]
    assert transfer["hint"].startswith("decorate transfer (shop/services.py:33) with @transaction")
    # The transactional test's finding is the same problem: one finding naming both tests.
    assert "test_transfer_transactional" in transfer["message"]
    # A test's loop calling a service: each call is a unit (test_rename_one_in_the_tests_loop
    # makes one write per call: no finding), the same unit thrice is one finding.
    each = _finding(queries, "DJG108", "test_rename_and_restock_in_the_tests_loop")
    assert each["message"].startswith("2 writes outside a transaction in one call from")
    checkout = _finding(queries, "DJG108", "test_checkout")
    assert "in one request" in checkout["message"]
    assert checkout["hint"].endswith("; or set ATOMIC_REQUESTS")


def test_atomic_requests_make_a_view_atomic(project: Path) -> None:
    _, queries, out = _run(project, env={"WRITES_ATOMIC_REQUESTS": "1"})
    assert _found(queries) == EXPECTED - {("DJG108", "test_checkout", "shop/urls.py", 8)}, out


def test_fail_mode_fails_exactly_the_tests_with_findings(project: Path) -> None:
    code, queries, out = _run(project, "--gates-write-loops=fail", "--gates-non-atomic-writes=fail")
    assert code == 1
    assert queries["status"] == "failed"
    failed = {
        line.split("::")[1].split(" ")[0] for line in out.splitlines() if line.startswith("FAILED")
    }
    also = {"test_transfer_transactional", "test_import_two"}
    assert failed == {test for _, test, _, _ in EXPECTED} | also, out
    assert "fix: decorate transfer (shop/services.py:33) with @transaction.atomic" in out


def test_off_and_allow_entries(project: Path) -> None:
    _, queries, _ = _run(project, "--gates-write-loops=off", "--gates-non-atomic-writes=off")
    assert _found(queries) == set()
    with (project / "pyproject.toml").open("a") as f:
        f.write(
            '\n[[tool.django-gates.queries.allow]]\nlocation = "shop/services.py:8"\n'
            'reason = "imports are rare and small"\n'
        )
    _, queries, out = _run(project)
    assert _found(queries) == EXPECTED - {("DJG107", "test_import", "shop/services.py", 8)}, out


def test_same_findings_under_xdist(project: Path) -> None:
    _, queries, out = _run(project, "-n", "2")
    assert _found(queries) == EXPECTED, out
