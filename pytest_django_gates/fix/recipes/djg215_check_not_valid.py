"""DJG215: ``AddConstraint(CheckConstraint)`` -> ``AddConstraintNotValid`` and a new
migration that validates it.

``AddConstraintNotValid`` adds the constraint without reading the table (new and
updated rows are checked at once); ``ValidateConstraint``, in a migration of its own
that depends on it, checks the existing rows under a lock that lets reads and writes go
on. The new migration needs the edited one to be its app's last (nothing depends on
it); otherwise the fix is refused, as it is for a CHECK that comes from a field's type
(``PositiveIntegerField``) rather than from a ``CheckConstraint``.
"""

from __future__ import annotations

import ast

from pytest_django_gates.fix import migration_files as mf
from pytest_django_gates.fix.plan import Change, Context, NotFixable, Read, Target
from pytest_django_gates.fix.recipes._ops import (
    argument,
    called_name,
    keyword_value,
    literal_str,
    located,
)
from pytest_django_gates.fix.source_edit import (
    EditError,
    Splice,
    apply,
    check_parses,
    ensure_import,
    span,
)

OPERATIONS = "django.contrib.postgres.operations"


def plan(target: Target, ctx: Context, read: Read) -> Change:
    source, op = located(target, read)
    if op.kind != "AddConstraint" or op.call is None:
        raise NotFixable(
            "only an AddConstraint of a CheckConstraint is rewritten automatically; this is "
            f"{op.kind or 'not a call'} (a CHECK that comes with the field's type)"
        )
    call = op.call
    constraint = argument(call, 1, "constraint")
    if called_name(constraint) != "CheckConstraint":
        raise NotFixable("the constraint is not a CheckConstraint written in the migration")
    model = literal_str(argument(call, 0, "model_name"))
    assert isinstance(constraint, ast.Call)  # called_name is "" for anything else
    name = literal_str(keyword_value(constraint, "name"))
    if model is None or name is None:
        raise NotFixable("the model name or the constraint's name is not a string literal")
    app, migration = mf.app_and_name(target.object)
    try:
        after = mf.place_after(ctx.root, target.path, app, migration, ctx.created)
    except EditError as exc:
        raise NotFixable(
            f"validating it needs a migration after {migration}, and {exc}: add "
            "AddConstraintNotValid and ValidateConstraint by hand"
        ) from None
    try:
        func_start, func_end = span(source.text, call.func)
        splices = [Splice(func_start, func_end, "AddConstraintNotValid")]
        splices += [
            s
            for s in (ensure_import(source.text, source.tree, OPERATIONS, "AddConstraintNotValid"),)
            if s
        ]
        edited = apply(source.text, splices)
        check_parses(edited, target.path.name)
        new_name = mf.new_migration_name(target.path.parent, f"validate_{name}", ctx.created)
        new_text = mf.new_migration(
            imports=[f"from {OPERATIONS} import ValidateConstraint"],
            app=app,
            depends=after,
            operations=[f'ValidateConstraint(model_name="{model}", name="{name}")'],
            atomic=True,
            doc=f"Checks the existing rows against {name} without blocking reads or writes "
            "(django-gates fix, DJG215).",
        )
        check_parses(new_text, new_name)
    except EditError as exc:
        raise NotFixable(str(exc)) from None
    new_path = target.path.parent / f"{new_name}.py"
    return Change(
        {target.path: edited, new_path: new_text},
        created=frozenset({new_path}),
        summary=(
            f"AddConstraint -> AddConstraintNotValid, validated in the new migration {new_name}"
        ),
    )
