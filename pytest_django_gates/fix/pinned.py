"""Tests that pin a query count, and the count a fix of an N+1 changes.

Many suites pin the number of queries a page runs, exactly:
``with django_assert_num_queries(9):`` (pytest-django) or
``with self.assertNumQueries(9):`` (Django's ``TransactionTestCase``). A fix that removes
an N+1 makes such a test fail with fewer queries than it pins ("Expected to perform 9
queries but 7 were done"). Updating the pinned number is part of that fix: it is what
the project's own developers do when they remove queries, and the test keeps pinning
the count exactly, now the lower one. So ``django-gates fix`` does it too, under these
rules, and says so in the fix's summary (``tests/test_x.py:46 pins 7 queries, was 9``):

* only for exact counts (``django_assert_max_num_queries`` never fails with fewer);
* only when every test of the fix that fails after the edit fails on a pinned count, and
  each count went *down* (a fix that adds queries to a test is not proven);
* only when the number is written as an integer at the call, on a line of the failure's
  traceback in the project, equal to the count the failure expected (a count taken from a
  parameter or a variable is left to the user, with the reason);
* one line's count is changed once, to one number (two tests of a parametrised test that
  now need different numbers are not fixed automatically);
* then the fix, with the new count, is proven again like any other: its tests pass and
  the query gate reports nothing new in them.

:func:`parse` reads the two failure messages. The plugin half of this module
(``-p pytest_django_gates.fix.pinned``, output path in ``DJANGO_GATES_PINNED``) records,
in the proof's run without the gate, each test whose call failed on a pinned count:
its expected and actual numbers and the traceback's frames, innermost first. Each
process (an xdist worker included) writes its own file next to the one asked for;
:func:`read` merges them.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates.fix.plan import NotFixable, Read
from pytest_django_gates.fix.source_edit import EditError, Splice, apply, check_parses, span

ENV = "DJANGO_GATES_PINNED"

# pytest-django's django_assert_num_queries (exact; "or less" is the max_num variant).
_PYTEST_DJANGO = re.compile(r"^Expected to perform (\d+) queries but (\d+) (?:was|were) done")
# Django's assertNumQueries: assertEqual(executed, num, "%d queries executed, %d expected").
_DJANGO = re.compile(r"^\d+ != \d+ : (\d+) queries executed, (\d+) expected")
# The calls whose first argument is the pinned count.
_CALLS = frozenset({"django_assert_num_queries", "assertNumQueries", "assert_num_queries"})


def parse(message: str) -> tuple[int, int] | None:
    """(expected, actual) of a pinned-count failure's message; None for any other."""
    text = message.strip()
    text = text.removeprefix("Failed: ").removeprefix("AssertionError: ")
    if match := _PYTEST_DJANGO.match(text):
        return int(match[1]), int(match[2])
    if match := _DJANGO.match(text):
        return int(match[2]), int(match[1])
    return None


@dataclass(frozen=True)
class Pinned:
    """One test that failed on a pinned query count."""

    test: str  # node id
    expected: int
    actual: int
    # The failure's traceback frames, innermost first: (absolute path, 1-based line).
    # The call that pins the count is on one of them, in a file of the project.
    frames: tuple[tuple[str, int], ...]


def read(out: Path) -> dict[str, Pinned]:
    """The pinned-count failures the plugin wrote next to ``out``, by node id."""
    found: dict[str, Pinned] = {}
    for file in sorted(out.parent.glob(f"{out.name}.*.json")):
        for entry in json.loads(file.read_text(encoding="utf-8")):
            frames = tuple((str(p), int(n)) for p, n in entry["frames"])
            found[str(entry["test"])] = Pinned(
                str(entry["test"]), int(entry["expected"]), int(entry["actual"]), frames
            )
    return found


@dataclass(frozen=True)
class CountEdit:
    """The pinned count of one call, to change: at ``path`` (absolute) ``line``."""

    path: Path
    line: int
    expected: int
    actual: int
    where: str  # the path as the summary shows it (relative to the project)

    def shown(self) -> str:
        return f"{self.where}:{self.line} pins {self.actual} queries, was {self.expected}"


def _pinning_call(tree: ast.AST, line: int, expected: int) -> ast.Constant | None:
    """The integer ``expected`` written as the first argument of a pinning call that
    starts on ``line``; None when there is none."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or node.lineno != line or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0]
        if (
            name in _CALLS
            and isinstance(first, ast.Constant)
            and type(first.value) is int
            and first.value == expected
        ):
            return first
    return None


def edits(failures: list[Pinned], root: Path, read_text: Read) -> list[CountEdit]:
    """The count edits that account for ``failures`` (every failing test of one fix),
    under the module docstring's rules; :class:`NotFixable` with the reason otherwise."""
    chosen: dict[tuple[Path, int], CountEdit] = {}
    for failure in failures:
        if failure.actual >= failure.expected:
            raise NotFixable(
                f"{failure.test} pins {failure.expected} queries and runs {failure.actual} "
                "after the edit: the fix does not lower its count"
            )
        found: CountEdit | None = None
        for filename, line in failure.frames:
            path = Path(filename)
            if not path.is_file() or not _of_project(path, root):
                continue
            try:
                tree = ast.parse(read_text(path))
            except SyntaxError:
                continue
            if _pinning_call(tree, line, failure.expected) is not None:
                where = path.resolve().relative_to(root.resolve()).as_posix()
                found = CountEdit(path, line, failure.expected, failure.actual, where)
                break
        if found is None:
            raise NotFixable(
                f"{failure.test} pins {failure.expected} queries (now {failure.actual}), "
                "but not as a number written at the call (a parameter or a variable): "
                "update it by hand"
            )
        known = chosen.setdefault((found.path, found.line), found)
        if known != found:
            raise NotFixable(
                f"the count pinned at {found.where}:{found.line} would have to be "
                f"both {known.actual} and {found.actual} (two tests share it): update it by hand"
            )
    return sorted(chosen.values(), key=lambda e: (str(e.path), e.line))


def plan(edit: CountEdit, read_text: Read) -> str:
    """The text of ``edit.path`` with the pinned count changed (:class:`NotFixable` when
    the call is no longer there as it was)."""
    text = read_text(edit.path)
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise NotFixable(f"{edit.path} does not parse: {exc.msg}") from None
    number = _pinning_call(tree, edit.line, edit.expected)
    if number is None:
        raise NotFixable(
            f"{edit.path}:{edit.line} no longer pins {edit.expected} queries: update it by hand"
        )
    start, end = span(text, number)
    try:
        new = apply(text, [Splice(start, end, str(edit.actual))])
        check_parses(new, str(edit.path))
    except EditError as exc:
        raise NotFixable(str(exc)) from None
    return new


def _of_project(path: Path, root: Path) -> bool:
    """``path`` is a file of the project's own (under ``root``, not in a virtualenv
    there): the only files whose pinned counts are edited."""
    return path.resolve().is_relative_to(root.resolve()) and not any(
        part in ("site-packages", "dist-packages") for part in path.parts
    )


# --------------------------------------------------------------------- the plugin

_seen: list[dict[str, Any]] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if os.environ.get(ENV) and call.when == "call" and call.excinfo is not None:
        counts = parse(str(call.excinfo.value))
        if counts is not None:
            # Every frame; :func:`edits` keeps those in the project's own files.
            frames = [
                (str(entry.path), entry.lineno + 1) for entry in reversed(call.excinfo.traceback)
            ]
            _seen.append(
                {"test": item.nodeid, "expected": counts[0], "actual": counts[1], "frames": frames}
            )
    return report


def pytest_unconfigure(config: pytest.Config) -> None:
    out = os.environ.get(ENV)
    if out:
        target = Path(out).with_name(f"{Path(out).name}.{os.getpid()}.json")
        target.write_text(json.dumps(_seen), encoding="utf-8")
