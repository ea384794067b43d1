"""DJG215: ``AddConstraint(CheckConstraint)`` -> ``AddConstraintNotValid`` and a new
migration that validates it.

``AddConstraintNotValid`` adds the constraint without reading the table (new and
updated rows are checked at once); ``ValidateConstraint``, in a migration of its own
that depends on it, checks the existing rows under a lock that lets reads and writes go
on. The new migration needs the edited one to be its app's last (nothing depends on
it); otherwise the fix is refused, as it is for a CHECK that comes from a field's type
(``PositiveIntegerField``) rather than from a ``CheckConstraint``. The constraint is
known to be a CHECK when it is written as ``CheckConstraint(...)``, or when the finding
says so (``adds the CHECK constraint 'name'``: the rule saw the object a helper built).
"""

from __future__ import annotations

import ast
import re

from pytest_django_gates.fix.plan import Change, Context, NotFixable, Read, Target
from pytest_django_gates.fix.recipes._ops import (
    NewMigration,
    argument,
    called_name,
    edited_in_place,
    keyword_value,
    literal_str,
    located,
    with_new_migration,
)
from pytest_django_gates.fix.source_edit import (
    Splice,
    ensure_import,
    span,
)

OPERATIONS = "django.contrib.postgres.operations"
_CHECK_NAMED = re.compile(r"adds the CHECK constraint '(?P<name>[^']+)'")


def validation(name: str, operation: str, imports: list[str]) -> NewMigration:
    """The migration that validates the constraint ``name`` on its own."""
    return NewMigration(
        suffix=f"validate_{name}",
        operations=[operation],
        imports=imports,
        atomic=True,
        doc=f"Checks the existing rows against {name} without blocking reads or writes "
        "(django-gates fix, DJG215).",
    )


def plan(target: Target, ctx: Context, read: Read) -> Change:
    source, op = located(target, read)
    if op.kind != "AddConstraint" or op.call is None:
        raise NotFixable(
            "only an AddConstraint of a CheckConstraint is rewritten automatically; this is "
            f"{op.kind or 'not a call'} (a CHECK that comes with the field's type)"
        )
    call = op.call
    constraint = argument(call, 1, "constraint")
    said = _CHECK_NAMED.search(target.message)
    if called_name(constraint) == "CheckConstraint":
        assert isinstance(constraint, ast.Call)  # called_name is "" for anything else
        name = literal_str(keyword_value(constraint, "name"))
    elif said is not None:
        name = said["name"]
    else:
        raise NotFixable("the constraint is not a CheckConstraint written in the migration")
    model = literal_str(argument(call, 0, "model_name"))
    if model is None or name is None:
        raise NotFixable("the model name or the constraint's name is not a string literal")
    func_start, func_end = span(source.text, call.func)
    edited = edited_in_place(
        target,
        source,
        [
            Splice(func_start, func_end, "AddConstraintNotValid"),
            ensure_import(source.text, source.tree, OPERATIONS, "AddConstraintNotValid"),
        ],
    )
    new = validation(
        name,
        f'ValidateConstraint(model_name="{model}", name="{name}")',
        [f"from {OPERATIONS} import ValidateConstraint"],
    )
    return with_new_migration(
        target,
        ctx,
        read,
        edited,
        new,
        refused="validating it needs a migration right after this one, and {exc}: add "
        "AddConstraintNotValid and ValidateConstraint by hand",
        summary="AddConstraint -> AddConstraintNotValid, validated in the new migration {new}",
    )
