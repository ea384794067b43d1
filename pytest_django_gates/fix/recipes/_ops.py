"""Small readers of an operation's call shared by the recipes."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from pytest_django_gates.fix.migration_files import (
    MigrationSource,
    Operation,
    app_and_name,
    insert_after,
    new_migration,
    new_migration_name,
)
from pytest_django_gates.fix.plan import Change, Context, NotFixable, Read, Target
from pytest_django_gates.fix.source_edit import EditError, Splice, apply, check_parses


def located(target: Target, read: Read) -> tuple[MigrationSource, Operation]:
    try:
        source = MigrationSource.read(target.path, read(target.path))
        return source, source.by_segment(target.segment)
    except EditError as exc:
        raise NotFixable(str(exc)) from None


def argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    """The argument passed at ``position`` or as ``name=`` (None when a ``*args`` at or
    before ``position`` hides which one it is)."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    if len(call.args) > position and not any(
        isinstance(a, ast.Starred) for a in call.args[: position + 1]
    ):
        return call.args[position]
    return None


def keyword_value(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def literal_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def called_name(node: ast.expr | None) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            return func.attr
        if isinstance(func, ast.Name):
            return func.id
    return ""


def other_kinds(source: MigrationSource, op: Operation) -> list[str]:
    return [o.kind or "an expression" for o in source.operations if o is not op]


def edited_in_place(target: Target, source: MigrationSource, splices: list[Splice | None]) -> str:
    """The migration's text with ``splices`` (and nothing else), parsed again."""
    try:
        text = apply(source.text, [s for s in splices if s is not None])
        check_parses(text, target.path.name)
    except EditError as exc:
        raise NotFixable(str(exc)) from None
    return text


@dataclass(frozen=True)
class NewMigration:
    """A migration a recipe adds right after the one it fixes."""

    suffix: str  # of its name: 0004_<suffix>
    operations: list[str]  # source texts of its operations
    imports: list[str]
    atomic: bool
    doc: str


def with_new_migration(
    target: Target,
    ctx: Context,
    read: Read,
    edited: str,
    new: NewMigration,
    *,
    refused: str,
    summary: str,
) -> Change:
    """The fixed migration's ``edited`` text plus ``new``, right after it; the later
    migrations of the branch rewired to depend on it (:func:`insert_after`). ``refused``
    and ``summary`` are formatted with ``exc`` (why it cannot go there) and ``new`` (its
    name)."""
    app, name = app_and_name(target.object)
    new_name = new_migration_name(target.path.parent, new.suffix, ctx.created)
    try:
        after, rewired = insert_after(
            ctx.root, target.path, app, name, ctx.created, new_name, ctx.editable, read
        )
    except EditError as exc:
        raise NotFixable(refused.format(exc=exc)) from None
    try:
        check_parses(edited, target.path.name)
        text = new_migration(
            imports=new.imports,
            app=app,
            depends=after,
            operations=new.operations,
            atomic=new.atomic,
            doc=new.doc,
        )
        check_parses(text, new_name)
    except EditError as exc:
        raise NotFixable(str(exc)) from None
    path = target.path.parent / f"{new_name}.py"
    return Change(
        {target.path: edited, path: text, **rewired},
        created=frozenset({path}),
        summary=summary.format(new=new_name),
    )
