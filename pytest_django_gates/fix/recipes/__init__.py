"""The fix recipes, one module per finding code (``djg211_...``), as the migration rules.

A recipe turns one finding into a :class:`Change` (the new text of each file it edits
or creates), or raises :class:`NotFixable` with a sentence saying why it is not
offered. Recipes only plan: writing, proving and reverting belong to
:mod:`pytest_django_gates.fix.command` and :mod:`pytest_django_gates.fix.proof`.

Migration recipes (single-deploy, mechanical; see ``docs/fix.md``), in :data:`RECIPES`:

* ``DJG211`` ``AddIndex`` -> ``AddIndexConcurrently`` in a non-atomic migration;
* ``DJG215`` ``AddConstraint(CheckConstraint)`` -> ``AddConstraintNotValid`` plus a new
  migration with ``ValidateConstraint``;
* ``DJG201`` a NOT NULL ``AddField`` with a constant ``default`` -> the same value as
  ``db_default`` on the migration's field and the model's (Django 5.0+).
"""

from __future__ import annotations

from pytest_django_gates.fix.plan import Plan
from pytest_django_gates.fix.recipes import (
    djg201_db_default,
    djg211_add_index_concurrently,
    djg215_check_not_valid,
)

# finding code -> its recipe
RECIPES: dict[str, Plan] = {
    "DJG201": djg201_db_default.plan,
    "DJG211": djg211_add_index_concurrently.plan,
    "DJG215": djg215_check_not_valid.plan,
}
