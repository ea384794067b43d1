"""``@pytest.mark.query_scaling`` (DJG109) end to end, on the scenario project ``scaling_project``.

The project has a constant view (``select_related``), two growing views (a foreign
key per row, a ``count()`` per category), factory_boy factories and a populate
fixture. Each scenario of ``scaling_project/test_scaling.py`` is run by a real
pytest process, without and with pytest-xdist (``-n 2``); the bodies write what they
saw to ``seen.txt`` so the rows of each scale can be checked from here.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import copy_project, gate, load_report, run_pytest

PROJECT = Path(__file__).resolve().parent / "scaling_project"
FK_SHAPE = (
    'SELECT "shop_category"."id", "shop_category"."name" FROM "shop_category" '
    'WHERE "shop_category"."id" = ? LIMIT 21'
)
COUNT_SHAPE = (
    'SELECT COUNT(*) AS "__count" FROM "shop_product" WHERE "shop_product"."category_id" = ?'
)
FAILED = {
    "test_grows_view",
    "test_grows_callable_populate",
    "test_param[/growing/]",
    "test_fails_in_the_smaller_run",
}
PASSED = {
    "test_ok_constant_view",
    "test_ok_fixture_populate",
    "test_param[/constant/]",
    "test_ok_budget_judges_the_larger_run_only",
    "test_ok_rows_do_not_leak",
    "test_ok_nothing_left_after_a_scaled_test",
    "test_ok_fixture_rows_at_both_scales",
    "test_ok_async_view_through_async_to_sync",
}

Run = tuple[Path, str, dict[str, Any]]


def _run(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = run_pytest(root, "-rA", *args, env={"DJANGO_GATES_GATES": "queries", **(env or {})})
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module", params=["serial", "xdist"])
def scenarios(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = copy_project(PROJECT, tmp_path_factory.mktemp(request.param) / "scaling_project")
    xdist = ("-n", "2") if request.param == "xdist" else ()
    code, out = _run(root, "--django-gates", "--gates-report=report.json", *xdist)
    assert code == 1, out
    return root, out, gate(load_report(root / "report.json"), "queries")


def _outcomes(out: str) -> dict[str, str]:
    """Test name -> PASSED / FAILED, from the ``-rA`` summary."""
    found: dict[str, str] = {}
    for line in out.splitlines():
        for word in ("PASSED", "FAILED"):
            prefix = f"{word} test_scaling.py::"
            if line.startswith(prefix):
                found[line[len(prefix) :].split(" ", 1)[0]] = word
    return found


def _findings(queries: dict[str, Any], code: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for finding in queries["findings"]:
        if finding["code"] == code:
            found.setdefault(finding["object"].split("::", 1)[1], []).append(finding)
    return found


def test_constant_passes_and_growing_fails(scenarios: Run) -> None:
    _, out, queries = scenarios
    outcomes = _outcomes(out)
    assert {t for t, o in outcomes.items() if o == "FAILED"} == FAILED, out
    assert {t for t, o in outcomes.items() if o == "PASSED"} == PASSED, out
    assert queries["status"] == "failed"
    assert set(_findings(queries, "DJG109")) == FAILED - {"test_fails_in_the_smaller_run"}


def test_growing_view_lists_shape_line_and_growth(scenarios: Run) -> None:
    _, out, queries = scenarios
    (finding,) = _findings(queries, "DJG109")["test_grows_view"]
    expected = (
        f"query count grows with the data: {FK_SHAPE} ran 3 times at populate(3) and "
        "7 times at populate(7) (+4) at shop/views.py:13"
    )
    assert finding["message"] == expected
    assert (finding["object"], finding["path"], finding["line"]) == (
        "test_scaling.py::test_grows_view",
        "shop/views.py",
        13,
    )
    assert finding["severity"] == "error"
    # (Django 6.1+ adds "; or, on Django 6.1+, Product.objects.fetch_mode(models.FETCH_PEERS)")
    assert finding["hint"].startswith("Product.objects.select_related('category')")
    # The test's own failure says the same, and the next step.
    assert f"{expected}\nfix: Product.objects.select_related('category')" in out


def test_populate_as_callable_and_as_fixture_name(scenarios: Run) -> None:
    _, _, queries = scenarios
    (finding,) = _findings(queries, "DJG109")["test_grows_callable_populate"]
    assert finding["message"] == (
        f"query count grows with the data: {COUNT_SHAPE} ran 2 times at populate(2) and "
        "5 times at populate(5) (+3) at shop/views.py:17"
    )
    assert "annotate(products_count=Count('products'))" in finding["hint"]
    (param,) = _findings(queries, "DJG109")["test_param[/growing/]"]
    assert "ran 2 times at populate(2) and 5 times at populate(5) (+3)" in param["message"]


def test_other_rules_and_budgets_judge_the_larger_run_only(scenarios: Run) -> None:
    _, out, queries = scenarios
    # test_grows_view's N+1: 7 lazy loads, the larger run alone (not 3 + 7).
    assert f"N+1: 7 x {FK_SHAPE} at shop/views.py:13" in out
    assert "N+1: 10 x" not in out
    assert "N+1: 3 x" not in out
    assert "test_ok_budget_judges_the_larger_run_only" not in _findings(queries, "DJG102")


def test_each_scale_sees_only_its_own_rows(scenarios: Run) -> None:
    root, out, _ = scenarios
    seen: dict[str, list[str]] = {}
    for line in (root / "seen.txt").read_text().splitlines():
        label, counts = line.split(" ", 1)
        seen.setdefault(label, []).append(counts)
    # "<products> <categories>": the smaller scale first, then the larger one alone.
    assert seen["leak"] == ["2 2", "5 5"]
    assert seen["constant"] == ["2 2", "5 5"]
    assert seen["growing"] == ["3 3", "7 7"]
    # The test's own fixture row is there at both scales.
    assert seen["fixture"] == ["3 3", "6 6"]
    assert _outcomes(out)["test_ok_nothing_left_after_a_scaled_test"] == "PASSED"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes are Python 3.11+")
def test_failure_of_the_smaller_run_names_its_scale(scenarios: Run) -> None:
    _, out, _ = scenarios
    assert "(query_scaling: this failure is from the run at populate(2))" in out
    assert "assert 2 == 5" in out


@pytest.mark.parametrize("gates", ["off", "migrations"])
def test_without_the_queries_gate_the_body_runs_once(tmp_path: Path, gates: str) -> None:
    root = copy_project(PROJECT, tmp_path / "scaling_project")
    args = ["-k", "test_ok_constant_view or test_grows_view"]
    if gates != "off":
        args = ["--django-gates", *args]
    proc = run_pytest(root, "-rA", *args, env={"DJANGO_GATES_GATES": gates})
    out = proc.stdout + proc.stderr
    assert _outcomes(out) == {"test_ok_constant_view": "PASSED", "test_grows_view": "PASSED"}
    assert sorted((root / "seen.txt").read_text().splitlines()) == ["constant 0 0", "growing 0 0"]


HEADER = """
import unittest

import pytest
from shop.factories import ProductFactory
"""


@pytest.mark.parametrize(
    ("test", "message"),
    [
        (
            "@pytest.mark.query_scaling(populate='make_products', scale=(2, 5))\n"
            "@pytest.mark.django_db\ndef test_x(): pass",
            "*test_bad.py::test_x: @pytest.mark.query_scaling: unknown argument(s) scale; "
            "allowed: populate, scales (the signature is query_scaling(populate, *, "
            "scales=(2, 5)))*",
        ),
        (
            "@pytest.mark.query_scaling\n@pytest.mark.django_db\ndef test_x(): pass",
            "*test_x: @pytest.mark.query_scaling: expected exactly one populate argument, got 0*",
        ),
        (
            "@pytest.mark.query_scaling(populate=3)\n@pytest.mark.django_db\ndef test_x(): pass",
            "*test_x: @pytest.mark.query_scaling: populate=3 is not allowed; give a callable*",
        ),
        (
            "@pytest.mark.query_scaling('make_products', scales=(5, 2))\n"
            "@pytest.mark.django_db\ndef test_x(): pass",
            "*query_scaling: scales=(5, 2) is not allowed; give two row counts >= 1, "
            "the smaller first, e.g. scales=(2, 5)*",
        ),
        (
            "@pytest.mark.query_scaling('make_products', scales=(0, 3))\n"
            "@pytest.mark.django_db\ndef test_x(): pass",
            "*scales=(0, 3) is not allowed*",
        ),
        (
            "@pytest.mark.query_scaling('make_products', scales=(2, 5, 9))\n"
            "@pytest.mark.django_db\ndef test_x(): pass",
            "*scales=(2, 5, 9) is not allowed*",
        ),
        (
            "@pytest.mark.query_scaling('make_products')\n"
            "@pytest.mark.django_db(transaction=True)\ndef test_x(): pass",
            "*test_x: @pytest.mark.query_scaling: needs @pytest.mark.django_db without "
            "transaction=True, got django_db(transaction=True): each scale runs in a savepoint*",
        ),
        (
            "@pytest.mark.query_scaling('make_products')\ndef test_x(transactional_db): pass",
            "*needs @pytest.mark.django_db without transaction=True, got transactional_db*",
        ),
        (
            "@pytest.mark.query_scaling(populate=ProductFactory)\n"
            "@pytest.mark.django_db\nasync def test_x(): pass",
            "*test_x: @pytest.mark.query_scaling: async tests are not supported*async_to_sync*",
        ),
        (
            "class TestX(unittest.TestCase):\n"
            "    @pytest.mark.query_scaling('make_products')\n    def test_x(self): pass",
            "*TestX::test_x: @pytest.mark.query_scaling: unittest-style tests are not supported*",
        ),
        (
            "@pytest.mark.allow_n_plus_one(reason='x', reasn='y')\ndef test_x(): pass",
            "*test_x: @pytest.mark.allow_n_plus_one: unknown argument(s) reasn; allowed: reason*",
        ),
    ],
)
@pytest.mark.parametrize("flag", [True, False], ids=["gates", "no-gates"])
def test_bad_arguments_are_usage_errors(
    tmp_path: Path, test: str, message: str, flag: bool
) -> None:
    root = copy_project(PROJECT, tmp_path / "scaling_project")
    (root / "test_bad.py").write_text(HEADER + "\n\n" + test + "\n")
    code, out = _run(root, *(["--django-gates"] if flag else []), "test_bad.py")
    assert code == pytest.ExitCode.USAGE_ERROR, out
    pytest.LineMatcher(out.splitlines()).fnmatch_lines([message])


def test_wrong_populate_or_no_database_fails_the_test(tmp_path: Path) -> None:
    root = copy_project(PROJECT, tmp_path / "scaling_project")
    (root / "test_wrong.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.fixture
            def not_callable(db):
                return 3

            @pytest.mark.query_scaling("no_such_fixture")
            @pytest.mark.django_db
            def test_unknown_fixture():
                pass

            @pytest.mark.query_scaling("not_callable")
            @pytest.mark.django_db
            def test_not_callable():
                pass

            @pytest.mark.query_scaling(populate=lambda n: None)
            def test_no_database():
                pass
            """
        )
    )
    code, out = _run(root, "--django-gates", "test_wrong.py")
    assert code == 1, out
    pytest.LineMatcher(out.splitlines()).fnmatch_lines(
        [
            "*test_wrong.py::test_unknown_fixture: @pytest.mark.query_scaling: "
            "populate='no_such_fixture': no fixture of that name is visible from this test*",
            "*test_wrong.py::test_not_callable: @pytest.mark.query_scaling: the fixture "
            "'not_callable' returned int, not a callable taking the row count n*",
            "*test_wrong.py::test_no_database: @pytest.mark.query_scaling: no database "
            "transaction is open when the test runs; mark it @pytest.mark.django_db*",
        ],
    )
    assert "3 failed" in out
