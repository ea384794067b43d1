"""Exact figures and floors: a failing figure is never rounded into a pass."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pytest_django_gates.coverage.baseline import distinct_percents
from pytest_django_gates.coverage.figures import (
    Figure,
    Floor,
    check,
    format_arcs,
    format_floor,
    format_percent,
    line_ranges,
    total,
)
from pytest_django_gates.coverage.floors import gap_text, glob_matches


def test_79_996_percent_against_80_fails_and_prints_below() -> None:
    figure = Figure(19999, 25000)  # exactly 79.996%
    assert figure.percent == Fraction(79996, 1000)
    verdict = check(figure, Floor.parse(80))
    assert not verdict.ok
    assert verdict.text.startswith("79.99% < 80.00%")
    assert "80.00% <" not in verdict.text
    assert verdict.needed == 1  # 20000 of 25000 is exactly 80%
    assert gap_text(verdict, "line", "orders") == "1 more line needed in orders"


def test_where_coverage_py_rounds_into_a_pass_the_gate_fails() -> None:
    from coverage.results import should_fail_under

    assert not should_fail_under(79.996, 80, 2)  # coverage.py / pytest-cov: passes
    assert not check(Figure(19999, 25000), Floor.parse(80)).ok  # here: fails


def test_exactly_on_the_floor_passes() -> None:
    verdict = check(Figure(4, 5), Floor.parse(80))
    assert verdict.ok
    assert verdict.needed == 0
    assert verdict.text.startswith("80.00% >= 80.00%")


def test_floor_is_read_as_the_decimal_written_not_the_binary_float() -> None:
    # 80.1 as a binary float is 80.099999999999994315658...; 801/1000 must meet it.
    assert check(Figure(801, 1000), Floor.parse(80.1)).ok
    assert not check(Figure(800, 1000), Floor.parse(80.1)).ok
    assert format_floor(Floor.parse(80.125).percent or Fraction(0)) == "80.125"


def test_one_third_is_truncated_not_rounded() -> None:
    assert format_percent(Fraction(200, 3)) == "66.66"
    assert format_percent(Fraction(99999, 1000)) == "99.99"
    assert format_percent(Fraction(100)) == "100.00"


@pytest.mark.parametrize(
    ("covered", "total_", "floor", "needed"),
    [(170, 200, 90, 10), (0, 3, 100, 3), (1, 3, 50, 1), (2, 3, 66.67, 1), (2, 3, 66.66, 0)],
)
def test_lines_needed_is_the_smallest_that_meets_the_floor(
    covered: int, total_: int, floor: float, needed: int
) -> None:
    verdict = check(Figure(covered, total_), Floor.parse(floor))
    assert verdict.needed == needed
    if needed:
        assert check(Figure(covered + needed, total_), Floor.parse(floor)).ok
        assert not check(Figure(covered + needed - 1, total_), Floor.parse(floor)).ok


def test_negative_floor_is_a_maximum_of_uncovered_lines() -> None:
    floor = Floor.parse(-3)
    assert floor.max_missing == 3
    assert check(Figure(7, 10), floor).ok
    verdict = check(Figure(5, 10, "branch"), floor)
    assert not verdict.ok
    assert verdict.needed == 2
    assert verdict.text.startswith("5 uncovered branches > 3 allowed")
    assert gap_text(verdict, "branch", "total") == "2 more branches needed in total"


def test_nothing_to_cover_meets_any_floor() -> None:
    verdict = check(Figure(0, 0), Floor.parse(100))
    assert verdict.ok
    assert "n/a" in verdict.text


@pytest.mark.parametrize("bad", [100.5, -2.5, float("nan"), float("inf"), True, "80"])
def test_invalid_floors_are_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match=r"coverage\.line"):
        Floor.parse(bad, "coverage.line")  # type: ignore[arg-type]


def test_figures_add_up_and_compare_exactly() -> None:
    assert total([Figure(1, 2), Figure(3, 4)]) == Figure(4, 6)
    assert Figure(2, 3).below(Figure(67, 100))
    assert not Figure(2, 4).below(Figure(1, 2))
    assert not Figure(0, 0).below(Figure(1, 2))
    with pytest.raises(ValueError, match="impossible"):
        Figure(3, 2)


def test_distinct_percents_shows_enough_decimals_to_see_the_drop() -> None:
    assert distinct_percents(Figure(92304, 100000), Figure(92305, 100000)) == ("92.304", "92.305")
    assert distinct_percents(Figure(1, 2), Figure(3, 4)) == ("50.00", "75.00")


def test_line_ranges_join_across_non_statements() -> None:
    statements = [1, 2, 3, 5, 8, 9, 12]
    missing = [2, 3, 5, 9, 12]
    assert line_ranges(statements, missing) == [(2, 5), (9, 12)]
    assert format_arcs([(4, 6), (10, -1)]) == "4->6, 10->exit"


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("apps/*/services.py", "apps/orders/services.py", True),
        ("apps/*/services.py", "apps/orders/sub/services.py", False),
        ("apps/**/services.py", "apps/orders/sub/services.py", True),
        ("apps/**/services.py", "apps/services.py", True),
        ("**/views.py", "views.py", True),
        ("apps/orders/*.py", "apps/orders/models.py", True),
        ("apps/orders/?odels.py", "apps/orders/models.py", True),
        ("apps/[ab]*/x.py", "apps/billing/x.py", True),
        ("apps/[!ab]*/x.py", "apps/billing/x.py", False),
        ("./apps/x.py", "apps/x.py", True),
        ("apps/x.py", "apps/x.pyc", False),
    ],
)
def test_globs(pattern: str, path: str, matches: bool) -> None:
    assert glob_matches(pattern, path) is matches
