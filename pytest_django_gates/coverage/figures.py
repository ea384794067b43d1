"""Exact coverage figures and floors.

Every comparison is done on integers and :class:`fractions.Fraction`, never on
floats: ``covered * 100 >= floor * total``. A figure is printed truncated (not
rounded) to two decimals, so a failing figure can never be shown as reaching
its floor (79.996% against 80 prints ``79.99% < 80.00%``).

A floor is either a percentage (``0 <= floor <= 100``) or, when negative, the
largest number of uncovered lines (or branches) allowed: ``-3`` means "at most
3 uncovered lines".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

Unit = Literal["line", "branch"]


def plural(n: int, unit: str) -> str:
    """``1 line``, ``2 lines``, ``1 branch``, ``3 branches``."""
    if n == 1:
        return f"{n} {unit}"
    return f"{n} {unit}es" if unit.endswith("ch") else f"{n} {unit}s"


@dataclass(frozen=True)
class Figure:
    """``covered`` out of ``total`` lines (or branches)."""

    covered: int
    total: int
    unit: Unit = "line"

    def __post_init__(self) -> None:
        if self.total < 0 or not 0 <= self.covered <= self.total:
            raise ValueError(f"impossible coverage figure {self.covered}/{self.total}")

    @property
    def missing(self) -> int:
        return self.total - self.covered

    @property
    def percent(self) -> Fraction | None:
        """The exact percentage, or None when there is nothing to cover."""
        if self.total == 0:
            return None
        return Fraction(self.covered * 100, self.total)

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.covered + other.covered, self.total + other.total, self.unit)

    def text(self) -> str:
        """``85.71% (6/7 lines)``; ``n/a (no lines)`` when there is nothing to cover."""
        if self.percent is None:
            return f"n/a (no {plural(0, self.unit)[2:]})"
        return f"{format_percent(self.percent)}% ({self.covered}/{plural(self.total, self.unit)})"

    def below(self, other: Figure) -> bool:
        """True when this figure's percentage is strictly below ``other``'s (exactly).

        A figure with nothing to cover is never below anything, and nothing is
        below a figure with nothing to cover.
        """
        if self.total == 0 or other.total == 0:
            return False
        return self.covered * other.total < other.covered * self.total


def total(figures: Iterable[Figure], unit: Unit = "line") -> Figure:
    result = Figure(0, 0, unit)
    for figure in figures:
        result = result + figure
    return result


@dataclass(frozen=True)
class Floor:
    """A configured floor: a percentage, or a maximum number of uncovered units."""

    percent: Fraction | None = None
    max_missing: int | None = None

    @classmethod
    def parse(cls, value: float | int, where: str = "floor") -> Floor:
        """Turn a configured number into a floor, exactly.

        The number is read through its shortest decimal form (``80.1`` is
        exactly 80.1, not the nearest binary float). Raises ``ValueError``
        naming ``where`` for anything that is not a valid floor.
        """
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{where}: expected a finite number, got {value!r}")
        exact = Fraction(Decimal(repr(value)))
        if exact > 100:
            raise ValueError(
                f"{where}: {value!r} is above 100; a floor is a percentage (0 to 100) "
                "or a negative whole number (at most that many uncovered lines)"
            )
        if exact < 0:
            if exact.denominator != 1:
                raise ValueError(
                    f"{where}: {value!r} is negative but not a whole number; a negative "
                    "floor means 'at most N uncovered lines', e.g. -3"
                )
            return cls(max_missing=int(-exact))
        return cls(percent=exact)

    def describe(self, unit: Unit = "line") -> str:
        if self.max_missing is not None:
            return f"at most {plural(self.max_missing, 'uncovered ' + unit)}"
        assert self.percent is not None
        return f"{format_floor(self.percent)}%"


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing a figure to a floor.

    ``needed`` is the smallest number of further covered units that would meet
    the floor (0 when it is met).
    """

    ok: bool
    needed: int
    text: str


def check(figure: Figure, floor: Floor) -> Verdict:
    """Compare exactly. Nothing to cover always meets the floor."""
    unit = figure.unit
    if figure.total == 0:
        return Verdict(True, 0, f"{figure.text()}, floor {floor.describe(unit)}")
    if floor.max_missing is not None:
        ok = figure.missing <= floor.max_missing
        needed = max(0, figure.missing - floor.max_missing)
        relation = "<=" if ok else ">"
        return Verdict(
            ok,
            needed,
            f"{plural(figure.missing, 'uncovered ' + unit)} {relation} "
            f"{floor.max_missing} allowed ({figure.text()})",
        )
    assert floor.percent is not None
    assert figure.percent is not None
    ok = figure.covered * 100 >= floor.percent * figure.total
    needed = 0 if ok else math.ceil(floor.percent * figure.total / 100 - figure.covered)
    relation = ">=" if ok else "<"
    return Verdict(
        ok,
        needed,
        f"{format_percent(figure.percent)}% {relation} {format_floor(floor.percent)}% "
        f"({figure.covered}/{plural(figure.total, unit)})",
    )


def format_percent(value: Fraction) -> str:
    """Two decimals, truncated toward zero: 79.996 -> ``79.99``, 99.999 -> ``99.99``."""
    hundredths = math.floor(value * 100)
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def format_floor(value: Fraction) -> str:
    """A configured floor exactly as written, with at least two decimals (``80.00``, ``80.125``)."""
    if (value * 100).denominator == 1:
        return format_percent(value)
    # Floors come from decimal text, so the denominator is a product of 2s and 5s.
    digits = 3
    while (value * 10**digits).denominator != 1 and digits < 12:
        digits += 1
    return f"{Decimal(value.numerator) / Decimal(value.denominator):.{digits}f}"


def line_ranges(statements: Iterable[int], lines: Iterable[int]) -> list[tuple[int, int]]:
    """Group ``lines`` into ranges, joining runs that are consecutive *statements*.

    Like coverage.py's "Missing" column: non-statement lines (blank lines,
    comments) between two uncovered statements do not break a range.
    """
    wanted = set(lines)
    ordered = sorted(set(statements) | wanted)
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    for number in ordered:
        if number in wanted:
            if start is None:
                start = number
            end = number
        elif start is not None:
            ranges.append((start, end))
            start = None
    if start is not None:
        ranges.append((start, end))
    return ranges


def format_ranges(ranges: Sequence[tuple[int, int]], limit: int = 12) -> str:
    """``12-15, 40, 52-60`` (and ``, ... (+N more)`` beyond ``limit`` ranges)."""
    parts = [str(a) if a == b else f"{a}-{b}" for a, b in ranges[:limit]]
    if len(ranges) > limit:
        parts.append(f"... (+{len(ranges) - limit} more)")
    return ", ".join(parts)


def format_arcs(arcs: Sequence[tuple[int, int]], limit: int = 12) -> str:
    """Missing branches as coverage.py shows them: ``12->14, 20->exit``."""
    parts = [f"{a}->{'exit' if b < 0 else b}" for a, b in arcs[:limit]]
    if len(arcs) > limit:
        parts.append(f"... (+{len(arcs) - limit} more)")
    return ", ".join(parts)
