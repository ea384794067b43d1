"""How often each test ran each statement: whether an N+1 the gate reports only after a
fix was there before it.

Removing one N+1 can bring out another the gate did not report in the same test
before: a library reads two relations of each row to one table, and both loads were
one repeated statement until the fix took away one; a template reads the event of the
objects a log lists, and the gate saw the objects' own loads first. The edit did not
cause those queries, it uncovered them. Reverting the fix for them would throw away a
proven improvement and leave both N+1s.

So the proof's runs without the gate (the one before any edit and the one after each
edit) load this plugin too (``-p pytest_django_gates.fix.statements``, output path in
``DJANGO_GATES_STATEMENTS``). For each test it counts the statements its call ran
(fixtures and test data excluded, as the gate excludes them), by shape
(``sql.shape``), on every database alias. A finding the gate reports after the edit and
not before is **uncovered** when, in each test that reached it, each statement it shows
(an N+1's repeated one; each write a ``DJG108`` lists) ran at least once before the
edit and no more often after it; it is **caused** otherwise, and the fix is reverted as
before. A finding that shows no statement counts as caused. A statement the message
cuts short (``…``) stands for every shape it begins, counted together.

Counts come from one process per run, in the suite's order (``-p no:randomly``); a
test whose statements come out of a per-process cache may count differently between
the two runs, and then its findings count as caused: the proof errs towards
reverting.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Generator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates.queries import sql

ENV = "DJANGO_GATES_STATEMENTS"

# "N+1: 3 x <sql> at path:line (in f)", "latent N+1: 1 x ...", "write in a loop: ..."
_HEAD = re.compile(r"^[\w +\-]+?: \d+ x (?P<sql>.+?) at \S+:\d+(?: \(in .*\))?(?:, .*)?$")
# A statement a finding lists on a line of its own ("  INSERT INTO ... at path:line").
_LISTED = re.compile(r"^  (?P<sql>\S.*?) at \S+:\d+$")

Counts = Mapping[str, Mapping[str, int]]  # node id -> statement shape -> times run


def statement(first_line: str) -> str | None:
    """The statement a finding's first line shows (its shape, perhaps cut short with
    ``…``); None when the line shows none."""
    match = _HEAD.match(first_line)
    return match["sql"] if match else None


def shown(message: str) -> list[str]:
    """Every statement a finding's message shows: its first line's, and those it lists."""
    lines = message.splitlines()
    found = [s for s in [statement(lines[0])] if s] if lines else []
    return found + [m["sql"] for line in lines[1:] if (m := _LISTED.match(line))]


def _times(counts: Mapping[str, int], text: str) -> int:
    if text.endswith("…"):
        head = text[:-1]
        return sum(n for shape, n in counts.items() if shape.startswith(head))
    return sum(n for shape, n in counts.items() if shape == text)


def uncovered(message: str, tests: list[str], before: Counts, after: Counts) -> bool:
    """The finding (its ``message``, reached by ``tests``) was there before the edit:
    in each test, each statement it shows ran before, and no more often after."""
    texts = shown(message)
    if not texts or not tests:
        return False
    for test in tests:
        if test not in before or test not in after:
            return False
        for text in texts:
            was, now = _times(before[test], text), _times(after[test], text)
            if was == 0 or now > was:
                return False
    return True


def read(out: Path) -> dict[str, dict[str, int]]:
    """The counts the plugin wrote next to ``out`` (one file per process), by node id."""
    found: dict[str, dict[str, int]] = {}
    for file in sorted(out.parent.glob(f"{out.name}.*.json")):
        for test, counts in json.loads(file.read_text(encoding="utf-8")).items():
            found[str(test)] = {str(k): int(v) for k, v in counts.items()}
    return found


# --------------------------------------------------------------------- the plugin

_seen: dict[str, dict[str, int]] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    if not os.environ.get(ENV):
        return (yield)
    try:
        from django.core.exceptions import ImproperlyConfigured
        from django.db import connections
    except ImportError:  # not a Django test: none recorded, so its findings count as caused
        return (yield)
    try:
        aliases = list(connections.all())
    except ImproperlyConfigured:  # settings not configured: likewise
        return (yield)
    counts: Counter[str] = Counter()

    def count(execute: Any, text: str, params: Any, many: bool, context: Any) -> Any:
        if not sql.is_transaction_control(text):
            counts[sql.shape(text)] += 1
        return execute(text, params, many, context)

    with ExitStack() as stack:
        for connection in aliases:
            stack.enter_context(connection.execute_wrapper(count))
        try:
            return (yield)
        finally:
            _seen[item.nodeid] = dict(counts)


def pytest_unconfigure(config: pytest.Config) -> None:
    out = os.environ.get(ENV)
    if out:
        target = Path(out).with_name(f"{Path(out).name}.{os.getpid()}.json")
        target.write_text(json.dumps(_seen), encoding="utf-8")
