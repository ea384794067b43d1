"""Writes the code under test makes one row at a time, or outside a transaction.

Two rules over the queries of one test's call phase, next to the N+1 reads of
:mod:`pytest_django_gates.queries.detect`. Only writes (``INSERT``, ``UPDATE``,
``DELETE``) whose call path has a frame of the code under test count: the test's
own writes, Django's (a session saved by the test client) and those of test-data
builders (``queries.ignore_callers``: factory_boy, model_bakery...) never do.

``DJG107`` **writes in a loop** (``queries.write_loops``)
    at least ``threshold`` writes of the same shape, on the same database, from
    the same call path, with different values each time, repeated by a loop of
    the code under test or a template ``{% for %}``: a frame of the code under
    test on the path whose line a loop repeats (a test's own loop, or a loop over
    a fixed collection written in the code, is not one row at a time). Stricter
    than reads, which also count a repetition inside a library the code called
    once: a test model's ``save()`` called from two lines of a test, with the
    test's lines beyond the call path kept, looks like that and is not a loop.
    The hint gives the bulk form for what ran: ``bulk_create(objs)`` for
    inserts, ``bulk_update(objs, fields=[...])`` (the columns the ``UPDATE`` set)
    for saves of existing rows, one ``queryset.update(...)`` for per-row
    ``.update()`` calls, one ``queryset.delete()`` for deletes. When the model
    overrides ``save()`` / ``delete()`` or has ``pre_/post_save`` receivers, the
    hint says what the bulk form skips (``bulk_create`` and ``bulk_update`` call
    no ``save()`` and send no save signals; ``queryset.delete()`` does not call
    ``Model.delete()``, although it still sends the delete signals).

``DJG108`` **several writes outside a transaction** (``queries.non_atomic_writes``)
    one unit of work whose code makes writes from two or more lines in autocommit
    mode, so a failure between them leaves half of it in the database (the writes
    of one line, a library call such as ``login()``, count once). A unit is one HTTP
    request of the test client (every write it caused), else one call from a
    line of the test (a service function, a management command): a test line in
    the test's own loop makes one call per iteration, each its own unit
    (``for p in people: services.rename_one(p.pk, "x")`` is three units of one
    write, not three writes of one unit), and the same unit repeated is reported
    once. A write is in autocommit mode when no ``atomic()`` block was open on its
    connection beyond those open when the test body started: the test's own
    transaction (pytest-django's ``django_db``) does not count as the code's, while
    ``ATOMIC_REQUESTS``, ``@transaction.atomic`` and Django's own atomic blocks
    (``Model.delete()``, multi-table ``save()``) do. A ``with atomic():`` written
    in the test body around the call also counts as atomic: the rule cannot tell
    who opened a block. The hint names the function to decorate: the view the
    request ran, or the outermost function of the code under test that the test
    called.

Both report warnings by default (``report``); ``fail`` makes them fail their
test, ``off`` turns them off. ``queries.allow`` entries (test / location / sql)
allow them as they allow N+1 reads.
"""

from __future__ import annotations

import linecache
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pytest_django_gates.queries import detect, loops, sql
from pytest_django_gates.queries.capture import QueryEvent
from pytest_django_gates.queries.stack import Frame, relative

LOOP_CODE = "DJG107"
NON_ATOMIC_CODE = "DJG108"

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_TABLE = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+[`"]?([\w.]+)[`"]?',
    re.IGNORECASE,
)
_SET = re.compile(r"\bSET\s+(.*?)\s+WHERE\b", re.IGNORECASE | re.DOTALL)
_SET_COLUMN = re.compile(r'^[`"]?(\w+)[`"]?\s*=')


@lru_cache(maxsize=8192)
def kind(statement: str) -> str | None:
    """``INSERT`` / ``UPDATE`` / ``DELETE`` (``REPLACE`` counts as ``INSERT``), or None."""
    match = _WRITE.match(statement)
    if match is None:
        return None
    word = match.group(1).upper()
    return "INSERT" if word == "REPLACE" else word


def code_writes(events: Iterable[QueryEvent]) -> list[QueryEvent]:
    """The writes the two rules judge: those with a frame of the code under test on their
    call path, not run by a test-data builder (computed once, given to both)."""
    return [
        e
        for e in events
        if not e.site.ignored and e.site.innermost_code is not None and kind(e.sql) is not None
    ]


@dataclass(frozen=True)
class WriteLoop:
    """One write repeated once per row by a loop of the code under test."""

    count: int
    shape: str
    alias: str
    first: QueryEvent

    @property
    def frame(self) -> Frame | None:
        """The line a loop of the code under test repeats (where to make it bulk): the
        innermost such frame, else the innermost frame of the code under test."""
        for frame, code, lasti in self.first.site.code_spots():
            if loops.repeats(frame[0], frame[1], code, lasti):
                return frame
        return self.first.site.shown

    def location(self, root: Path) -> tuple[str | None, int | None]:
        frame = self.frame
        return (relative(frame[0], root), frame[1]) if frame else (None, None)

    def message(self, root: Path) -> str:
        path, line = self.location(root)
        where = f"{path}:{line}" if path else "an unknown location"
        frame = self.frame
        lines = [
            f"write in a loop: {self.count} x {sql.short(self.shape)} at {where} "
            f"(in {frame[2] if frame else '?'}), one statement per row"
        ]
        if self.alias != "default":
            lines.append(f"database: {self.alias}")
        return "\n".join(lines)

    def hint(self) -> str:
        return bulk_fix(self.first)


@dataclass(frozen=True)
class NonAtomic:
    """A unit of work (a request, a call from the test) with autocommit writes."""

    writes: tuple[QueryEvent, ...]
    request: bool

    def location(self, root: Path) -> tuple[str | None, int | None]:
        frame = self.writes[0].site.shown
        return (relative(frame[0], root), frame[1]) if frame else (None, None)

    def entry(self) -> tuple[str, int, str] | None:
        """The outermost function of the code under test (what the test or the request
        called): its file, the line of its ``def`` and its name."""
        site = self.writes[0].site
        outer = [(f, c) for f, is_test, c, _l in site.all_spots() if not is_test]
        if not outer:
            return None
        frame, code = outer[-1]
        return frame[0], code.co_firstlineno if code is not None else frame[1], frame[2]

    def message(self, root: Path) -> str:
        unit = "one request" if self.request else "one call from the test"
        listed = []
        for event in self.writes[:10]:
            frame = event.site.shown
            where = f"{relative(frame[0], root)}:{frame[1]}" if frame else "?"
            listed.append(f"  {sql.short(sql.shape(event.sql), 100)} at {where}")
        if len(self.writes) > 10:
            listed.append(f"  ... and {len(self.writes) - 10} more")
        return "\n".join(
            [
                f"{len(self.writes)} writes outside a transaction in {unit}: a failure between "
                "them leaves the first ones committed",
                *listed,
            ]
        )

    def hint(self, root: Path) -> str:
        frame = self.entry()
        if frame is None:
            return "wrap the writes in transaction.atomic()"
        where = f"{relative(frame[0], root)}:{frame[1]}"
        return (
            f"decorate {frame[2]} ({where}) with @transaction.atomic, or wrap its writes in "
            "`with transaction.atomic():`" + ("; or set ATOMIC_REQUESTS" if self.request else "")
        )


def find_loops(written: Iterable[QueryEvent], threshold: int) -> list[WriteLoop]:
    """``DJG107``: writes (of :func:`code_writes`) of one shape a loop of the code under
    test repeats."""
    groups: dict[tuple[object, ...], list[QueryEvent]] = {}
    for event in written:
        groups.setdefault(_loop_key(event), []).append(event)
    found = []
    for (alias, shape, _site, _request), group in groups.items():
        if len(group) < threshold or not detect.varies(group):
            continue
        if not detect.looped(group[0].site):
            continue
        found.append(WriteLoop(len(group), str(shape), str(alias), group[0]))
    return found


def find_non_atomic(
    written: Iterable[QueryEvent],
    depths: Mapping[str, int],
    loops_found: Iterable[WriteLoop] = (),
) -> list[NonAtomic]:
    """``DJG108``: units of work with two or more autocommit writes (of :func:`code_writes`).

    ``depths``: the open ``atomic()`` blocks of each connection when the test body
    started (an alias missing from it had none). What counts is the writes of the
    code (see :func:`_statements`): the writes one library call makes from one line
    count once (the code cannot split them), and a ``DJG107`` loop counts once (its
    bulk form is one statement), so a unit whose only writes are one loop is that
    loop's finding, not a second one.
    """
    looped = {_loop_key(loop.first) for loop in loops_found}
    units: dict[tuple[object, ...], list[QueryEvent]] = {}
    for event in written:
        if event.depth > depths.get(event.alias, 0):
            continue
        units.setdefault(_unit(event), []).append(event)
    found = []
    seen: set[tuple[object, ...]] = set()
    for group in units.values():
        if _statements(group, looped) >= 2:
            # The same writes from the same lines again (a test calling the code in its
            # own loop, each call a unit): one finding.
            same = tuple((sql.shape(e.sql), e.site.key) for e in group)
            if same not in seen:
                seen.add(same)
                found.append(NonAtomic(tuple(group), request=bool(group[0].request)))
    return found


def _statements(group: list[QueryEvent], looped: set[tuple[object, ...]]) -> int:
    """How many writes the code made: a ``DJG107`` loop is one; the writes of one line
    are as many as the times that line ran, which is the count of its most repeated
    shape (one ``login()`` call cycles the session and saves ``last_login``: two shapes,
    one write of the code; a loop over a fixed tuple of three creates: three)."""
    loops_seen: set[tuple[object, ...]] = set()
    per_line: dict[tuple[object, ...], Counter[str]] = {}
    for event in group:
        key = _loop_key(event)
        if key in looped:
            loops_seen.add(key)
            continue
        frame = event.site.innermost_code
        line = (frame[0], frame[1]) if frame else (id(event),)
        per_line.setdefault(line, Counter())[sql.shape(event.sql)] += 1
    return len(loops_seen) + sum(max(shapes.values()) for shapes in per_line.values())


def _loop_key(event: QueryEvent) -> tuple[object, ...]:
    return (event.alias, sql.shape(event.sql), event.site.key, event.request)


def _unit(event: QueryEvent) -> tuple[object, ...]:
    if event.request:
        return ("request", event.request, event.alias)
    tests = [f for f, is_test, _c, _l in event.site.all_spots() if is_test]
    if tests:
        # One call the test made (the innermost test frame's callee): a test line in a
        # loop makes one call per iteration, each its own unit.
        anchor = tests[0]
        return ("call", anchor[0], anchor[1], event.site.call, event.alias)
    # Without a test frame, the outermost frame of the code (a thread, a callback).
    anchor = event.site.frames[-1]
    return ("call", anchor[0], anchor[1], 0, event.alias)


# -- the bulk forms --------------------------------------------------------------------


def bulk_fix(event: QueryEvent) -> str:
    """The bulk form of the write ``event`` (see the module docstring)."""
    statement = kind(event.sql) or ""
    model = _model_of(event)
    name = model.__name__ if model is not None else "<Model>"
    frame = event.site.shown
    line = linecache.getline(frame[0], frame[1]) if frame else ""
    called = re.search(
        r"\.(a?(?:save|create|update|delete|get_or_create|update_or_create))\(", line
    )
    call = called.group(1).lstrip("a") if called else ""
    if statement == "INSERT":
        fix = (
            f"build the objects in the loop and insert them at once after it: "
            f"{name}.objects.bulk_create(objs)"
        )
        return fix + _skipped_by_bulk(model, "save")
    if statement == "UPDATE":
        if call == "update":
            return (
                "one UPDATE for all the rows: queryset.update(...) on the rows the loop walks "
                f"({name}.objects.filter(pk__in=ids).update(...)), with Case/When for "
                "per-row values"
            )
        fields = _set_fields(event.sql, model)
        listed = ", ".join(repr(f) for f in fields) if fields else "..."
        fix = (
            f"change the objects in the loop and write them at once after it: "
            f"{name}.objects.bulk_update(objs, fields=[{listed}])"
        )
        return fix + _skipped_by_bulk(model, "save")
    fix = f"delete the rows at once: {name}.objects.filter(pk__in=ids).delete()"
    return fix + _skipped_by_bulk(model, "delete")


def _skipped_by_bulk(model: Any, action: str) -> str:
    """What the bulk form does not do for ``model`` (its overrides and receivers)."""
    if model is None:
        return ""
    from django.db import models
    from django.db.models import signals

    notes = []
    override = getattr(model, action, None)
    if override is not None and override is not getattr(models.Model, action):
        code = getattr(override, "__code__", None)
        where = f" ({Path(code.co_filename).name}:{code.co_firstlineno})" if code else ""
        notes.append(f"{model.__name__}.{action}() is overridden{where}: the bulk form skips it")
    names = [
        name
        for name in (f"pre_{action}", f"post_{action}")
        if getattr(signals, name).has_listeners(model)
    ]
    if names and action == "save":
        notes.append(f"{' and '.join(names)} receivers are connected: the bulk form sends none")
    elif names:
        notes.append(f"{' and '.join(names)} receivers still run (sent for each row)")
    return f"; note: {'; '.join(notes)}" if notes else ""


def _model_of(event: QueryEvent) -> Any:
    match = _TABLE.match(event.sql)
    if match is None:
        return None
    table = match.group(1).split(".")[-1].strip('"`')
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model
    return None


def _set_fields(statement: str, model: Any) -> list[str]:
    """The fields an ``UPDATE`` sets (its top-level ``"column" = ...`` pairs), pk left out."""
    match = _SET.search(statement)
    if match is None:
        return []
    columns = []
    for part in _top_level(match.group(1)):
        column = _SET_COLUMN.match(part.strip())
        if column:
            columns.append(column.group(1))
    if model is None:
        return columns
    by_column: dict[str, str] = {str(f.column): str(f.name) for f in model._meta.concrete_fields}
    pk = model._meta.pk.column if model._meta.pk is not None else None
    return [by_column.get(c, c) for c in columns if c != pk]


def _top_level(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
