"""DJG211: ``AddIndex`` -> ``AddIndexConcurrently`` in a migration with ``atomic = False``.

When every operation of the migration is an index operation, the migration itself is
made non-atomic and the ``AddIndex`` becomes ``AddIndexConcurrently``. When it has
other operations (``makemigrations`` writes ``AddField`` and ``AddIndex`` together),
the index moves to a new migration of its own that depends on it, as Django's
documentation advises: a non-atomic migration that fails half-way leaves only the
index to retry. That needs the migration to be its app's last (nothing depends on
it); otherwise the fix is refused. ``db_index`` / ``unique`` on a field and unique
constraints are not offered: their recipes change the state apart from the database.
"""

from __future__ import annotations

import ast

from pytest_django_gates.fix import migration_files as mf
from pytest_django_gates.fix.plan import Change, Context, NotFixable, Read, Target
from pytest_django_gates.fix.recipes._ops import (
    NewMigration,
    argument,
    edited_in_place,
    keyword_value,
    literal_str,
    located,
    other_kinds,
    with_new_migration,
)
from pytest_django_gates.fix.source_edit import (
    Splice,
    ensure_import,
    span,
)

OPERATIONS = "django.contrib.postgres.operations"
NEW = "AddIndexConcurrently"
_INDEX_ONLY = {"AddIndex", "AddIndexConcurrently", "RemoveIndexConcurrently"}


def plan(target: Target, ctx: Context, read: Read) -> Change:
    source, op = located(target, read)
    if op.kind != "AddIndex" or op.call is None:
        raise NotFixable(
            f"only AddIndex is rewritten automatically; this is {op.kind or 'not a call'}"
        )
    call = op.call
    func_start, func_end = span(source.text, call.func)
    _call_start, call_end = span(source.text, call)
    arguments_text = source.text[func_end:call_end]
    index = argument(call, 1, "index")
    index_name = literal_str(keyword_value(index, "name")) if isinstance(index, ast.Call) else None
    if all(o.kind in _INDEX_ONLY for o in source.operations):
        text = edited_in_place(
            target,
            source,
            [
                Splice(func_start, func_end, NEW),
                ensure_import(source.text, source.tree, OPERATIONS, NEW),
                source.atomic_false(),
            ],
        )
        return Change(
            {target.path: text}, summary=f"AddIndex -> {NEW}, and atomic = False on the migration"
        )
    arguments = [*call.args, *(k.value for k in call.keywords)]
    names: set[str] = set().union(*(mf.used_names(a) for a in arguments)) if arguments else set()
    _app, name = mf.app_and_name(target.object)
    new = NewMigration(
        suffix=f"{index_name or 'index'}_concurrently",
        operations=[NEW + arguments_text],
        imports=[
            *mf.imports_for(source.tree, source.text, names),
            f"from {OPERATIONS} import {NEW}",
        ],
        atomic=False,
        doc=f"Builds the index {index_name or ''} of {name} without blocking writes "
        "(django-gates fix, DJG211).",
    )
    kinds = ", ".join(sorted(set(other_kinds(source, op))))
    return with_new_migration(
        target,
        ctx,
        read,
        edited_in_place(target, source, [source.remove(op)]),
        new,
        refused=f"the migration also has {kinds}, and {{exc}}: move the index to a "
        "migration of its own by hand",
        summary=f"AddIndex moved to a new non-atomic migration {{new}} as {NEW}",
    )
