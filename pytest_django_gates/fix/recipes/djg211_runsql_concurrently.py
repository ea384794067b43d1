"""DJG211: ``RunSQL("CREATE INDEX ...")`` -> ``CREATE INDEX CONCURRENTLY`` in a migration
with ``atomic = False``; its ``DROP INDEX`` reverse made ``CONCURRENTLY`` too.

The word is inserted in the string literal as it is written (its quotes, line breaks
and the rest of the SQL kept), and the new value is checked to be the old one with
``CONCURRENTLY`` added. Offered when each string of ``sql`` (one string, or a list of
strings) is a single statement: several statements in one string run as one
transaction, where ``CONCURRENTLY`` is refused. The migration must build indexes and
nothing else (Django's SQL of every other operation is read from the project's
database, :mod:`pytest_django_gates.fix.sql_worker`): in a non-atomic migration a
failure half-way would leave other changes applied.
"""

from __future__ import annotations

import ast
import re

from pytest_django_gates.fix import migration_files as mf
from pytest_django_gates.fix.plan import Change, Context, NotFixable, Read, Target
from pytest_django_gates.fix.recipes._ops import argument, located
from pytest_django_gates.fix.recipes.djg211_index_sql_concurrently import builds_only_indexes
from pytest_django_gates.fix.source_edit import EditError, Splice, apply, check_parses, span
from pytest_django_gates.migrations import sqltext

_CREATE = re.compile(r"\bCREATE(\s+UNIQUE)?\s+INDEX\b", re.I)
_DROP = re.compile(r"\bDROP\s+INDEX\b", re.I)


def _strings(node: ast.expr | None) -> list[ast.Constant]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, (ast.List, ast.Tuple)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return [e for e in node.elts if isinstance(e, ast.Constant)]
    return []


def _edit(text: str, literal: ast.Constant, pattern: re.Pattern[str]) -> Splice | None:
    """``CONCURRENTLY`` after the literal's ``CREATE [UNIQUE] INDEX`` / ``DROP INDEX``
    (None: its statement is not one), checked against the literal's value."""
    value = str(literal.value)
    statements = sqltext.split_sql(value)
    if len(statements) != 1:
        raise NotFixable(
            "a string of the RunSQL holds several statements, which run as one transaction "
            "where CONCURRENTLY is refused: give each statement its own string"
        )
    match = pattern.search(value)
    if match is None or value[match.end() :].lstrip().upper().startswith("CONCURRENTLY"):
        return None
    start, end = span(text, literal)
    source = text[start:end]
    found = pattern.search(source)
    if found is None:
        raise NotFixable("the SQL string is written with escapes the fix does not edit")
    at = start + found.end()
    expected = value[: match.end()] + " CONCURRENTLY" + value[match.end() :]
    new_source = source[: found.end()] + " CONCURRENTLY" + source[found.end() :]
    try:
        parsed = ast.literal_eval(new_source)
    except (ValueError, SyntaxError):
        parsed = None
    if parsed != expected:
        raise NotFixable("the SQL string is written in a way the fix does not edit")
    return Splice(at, at, " CONCURRENTLY")


def plan(target: Target, ctx: Context, read: Read) -> Change:
    source, op = located(target, read)
    if op.call is None or op.kind != "RunSQL":
        raise NotFixable(f"{op.kind or 'this expression'} is not rewritten automatically")
    sql = _strings(argument(op.call, 0, "sql"))
    if not sql:
        raise NotFixable("the RunSQL's sql is not a string or a list of strings written here")
    splices = [s for literal in sql if (s := _edit(source.text, literal, _CREATE)) is not None]
    if not splices:
        raise NotFixable("no CREATE INDEX without CONCURRENTLY is written in the RunSQL")
    reverse = _strings(argument(op.call, 1, "reverse_sql"))
    splices += [s for literal in reverse if (s := _edit(source.text, literal, _DROP)) is not None]
    others = [o for o in source.operations if o is not op]
    if others:
        if ctx.sql_of is None:
            raise NotFixable("reading Django's SQL of the other operations needs the database")
        app, name = mf.app_and_name(target.object)
        _vendor, operations = ctx.sql_of(app, name)
        position = source.operations.index(op)
        if len(operations) != len(source.operations) or not all(
            builds_only_indexes(e) for i, e in enumerate(operations) if i != position
        ):
            raise NotFixable(
                "the migration does more than build indexes: move the RunSQL to a migration "
                "of its own with atomic = False"
            )
    atomic = source.atomic_false()
    try:
        text = apply(source.text, [*splices, *([atomic] if atomic else [])])
        check_parses(text, target.path.name)
    except EditError as exc:
        raise NotFixable(str(exc)) from None
    return Change(
        {target.path: text},
        summary="CONCURRENTLY in the RunSQL's CREATE INDEX (and its DROP INDEX), and "
        "atomic = False on the migration",
    )
