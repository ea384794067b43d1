"""The fix recipes, one module per finding code (``djg211_...``), as the migration rules.

A recipe turns one finding into a :class:`Change` (the new text of each file it edits
or creates), or raises :class:`NotFixable` with a sentence saying why it is not
offered. Recipes only plan: writing, proving and reverting belong to
:mod:`pytest_django_gates.fix.command` and :mod:`pytest_django_gates.fix.proof`.

Migration recipes (single-deploy, mechanical; see ``docs/fix.md``), in :data:`RECIPES`:

* ``DJG211`` ``AddIndex`` -> ``AddIndexConcurrently`` in a non-atomic migration; an
  index or unique constraint of a field or model option (``AlterField``, ``AddField``,
  ``AlterUniqueTogether``, ``AlterIndexTogether``, ``AddConstraint``) -> the operation
  kept as the state change and Django's own SQL built ``CONCURRENTLY``; a ``RunSQL``'s
  ``CREATE INDEX`` (and its ``DROP INDEX`` reverse) made ``CONCURRENTLY``;
* ``DJG215`` ``AddConstraint(CheckConstraint)`` -> ``AddConstraintNotValid`` plus a new
  migration with ``ValidateConstraint``; a ``ValidateConstraint`` in the migration that
  added the constraint ``NOT VALID`` moved to a new migration;
* ``DJG201`` a NOT NULL ``AddField`` with a constant ``default`` -> the same value as
  ``db_default`` on the migration's field and the model's (Django 5.0+).
"""

from __future__ import annotations

from pytest_django_gates.fix.plan import Change, Context, Plan, Read, Target
from pytest_django_gates.fix.recipes import (
    djg201_db_default,
    djg211_add_index_concurrently,
    djg211_index_sql_concurrently,
    djg211_runsql_concurrently,
    djg215_check_not_valid,
    djg215_validate_apart,
)
from pytest_django_gates.fix.recipes._ops import located


def _djg211(target: Target, ctx: Context, read: Read) -> Change:
    """``AddIndex`` by its own recipe; a field or model option by Django's SQL; a
    ``RunSQL`` in its string."""
    _source, op = located(target, read)
    if op.kind in djg211_index_sql_concurrently.KINDS:
        return djg211_index_sql_concurrently.plan(target, ctx, read)
    if op.kind == "RunSQL":
        return djg211_runsql_concurrently.plan(target, ctx, read)
    return djg211_add_index_concurrently.plan(target, ctx, read)


def _djg215(target: Target, ctx: Context, read: Read) -> Change:
    """A validation in the migration that added the constraint moves out; a CHECK added
    and validated at once becomes NOT VALID plus a validation."""
    _source, op = located(target, read)
    if op.kind == "ValidateConstraint":
        return djg215_validate_apart.plan(target, ctx, read)
    return djg215_check_not_valid.plan(target, ctx, read)


# finding code -> its recipe
RECIPES: dict[str, Plan] = {
    "DJG201": djg201_db_default.plan,
    "DJG211": _djg211,
    "DJG215": _djg215,
}
