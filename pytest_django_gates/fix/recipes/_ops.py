"""Small readers of an operation's call shared by the recipes."""

from __future__ import annotations

import ast

from pytest_django_gates.fix.migration_files import MigrationSource, Operation
from pytest_django_gates.fix.plan import NotFixable, Read, Target
from pytest_django_gates.fix.source_edit import EditError


def located(target: Target, read: Read) -> tuple[MigrationSource, Operation]:
    try:
        source = MigrationSource.read(target.path, read(target.path))
        return source, source.by_segment(target.segment)
    except EditError as exc:
        raise NotFixable(str(exc)) from None


def argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    """The argument passed at ``position`` or as ``name=``."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    if len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args):
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
