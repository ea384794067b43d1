"""DJG215: ``ValidateConstraint`` in the atomic migration that added the constraint
``NOT VALID`` -> the validation moved to a new migration of its own, after it.

In one transaction the ACCESS EXCLUSIVE lock that ``AddConstraintNotValid`` took is
held while every row is checked; in a migration of its own, ``VALIDATE CONSTRAINT``
takes SHARE UPDATE EXCLUSIVE, and reads and writes go on. The operation is moved as it
is written. The new migration needs the edited one to be its app's last (nothing
depends on it); otherwise the fix is refused.
"""

from __future__ import annotations

from pytest_django_gates.fix import migration_files as mf
from pytest_django_gates.fix.plan import Change, Context, NotFixable, Read, Target
from pytest_django_gates.fix.recipes._ops import (
    argument,
    edited_in_place,
    literal_str,
    located,
    with_new_migration,
)
from pytest_django_gates.fix.recipes.djg215_check_not_valid import validation
from pytest_django_gates.fix.source_edit import span


def plan(target: Target, ctx: Context, read: Read) -> Change:
    source, op = located(target, read)
    if op.kind != "ValidateConstraint" or op.call is None:
        raise NotFixable(f"{op.kind or 'this expression'} is not moved automatically")
    if len(source.operations) == 1:
        raise NotFixable("the validation is the migration's only operation already")
    name = literal_str(argument(op.call, 1, "name")) or "constraint"
    start, end = span(source.text, op.call)
    new = validation(
        name,
        source.text[start:end],
        mf.imports_for(source.tree, source.text, mf.used_names(op.call)),
    )
    return with_new_migration(
        target,
        ctx,
        read,
        edited_in_place(target, source, [source.remove(op)]),
        new,
        refused="the validation needs a migration right after this one, and {exc}: move it by hand",
        summary="ValidateConstraint moved to the new migration {new}",
    )
