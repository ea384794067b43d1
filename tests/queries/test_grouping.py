"""How the queries gate groups one problem reached by many tests (``group_findings``)."""

from __future__ import annotations

from pytest_django_gates.gates.queries import group_findings
from pytest_django_gates.report import Finding


def _unit(test: str, count: int, first: str) -> Finding:
    return Finding(
        code="DJG108",
        severity="warning",
        message=(
            f"{count} writes outside a transaction in one request: a failure between them "
            f"leaves the first ones committed\n  {first} (...) VALUES … at app/views.py:9\n"
            '  INSERT INTO "log" (...) VALUES … at app/log.py:5'
        ),
        object=test,
        path="app/middleware.py",
        line=20,
    )


def test_write_units_at_one_line_are_one_group_per_first_table() -> None:
    """A middleware every request passes is the line of many views' units: the units
    that start with writes to one table are one problem, whatever their write count;
    another table is another problem (and another allow entry of init)."""
    grouped = group_findings(
        [
            _unit("tests/test_b.py::test_2", 3, 'INSERT INTO "order"'),
            _unit("tests/test_a.py::test_1", 2, 'INSERT INTO "order"'),
            _unit("tests/test_c.py::test_3", 2, 'UPDATE "profile" SET'),
        ]
    )
    assert [(f.object, f.message.split("\n")[1].split(" (")[0].strip()) for f in grouped] == [
        ("tests/test_a.py::test_1", 'INSERT INTO "order"'),
        ("tests/test_c.py::test_3", 'UPDATE "profile" SET'),
    ]
    assert grouped[0].message.endswith(
        "in 2 tests: tests/test_a.py::test_1, tests/test_b.py::test_2"
    )
