"""What a ``RunPython`` function does to the schema, read from its source.

A data migration may also change the schema behind the migration state's back:
``schema_editor.remove_field(...)``, ``schema_editor.alter_db_table(...)``,
``schema_editor.execute("ALTER TABLE ...")`` or a cursor's ``execute`` of DDL.
:func:`schema_calls` parses the function's file with :mod:`ast` (never runs it)
and lists those calls with their lines:

* calls of a schema-editor method on the function's second parameter (the
  ``schema_editor`` Django passes), or on a name bound to it;
* ``.execute(sql)`` on any receiver when ``sql`` is readable and is DDL (a string
  literal, a module-level string constant, literals joined with ``+``, an
  f-string whose holes become the placeholder :data:`HOLE`); ``execute`` on the
  schema editor itself is listed even when the SQL cannot be read;
* the same, one call deep at a time (up to :data:`MAX_DEPTH`), inside functions
  of the same module that the function calls with the schema editor as an
  argument.

Helpers defined in another module are not followed: the finding would point at
code the migration does not show. Nothing here imports Django.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path
from types import CodeType

from pytest_django_gates.migrations.source import find_function, parse_file, source_text

HOLE = "djg_runtime_value"
"""Stands for an f-string hole (a table or column named at run time)."""
MAX_DEPTH = 3
SCHEMA_METHODS = frozenset(
    {
        "add_constraint",
        "add_field",
        "add_index",
        "alter_db_table",
        "alter_db_table_comment",
        "alter_db_tablespace",
        "alter_field",
        "alter_index_together",
        "alter_unique_together",
        "create_model",
        "delete_model",
        "execute",
        "remove_constraint",
        "remove_field",
        "remove_index",
        "rename_index",
    }
)
_DDL_WORDS = frozenset({"ALTER", "CREATE", "DROP", "TRUNCATE", "LOCK", "REINDEX", "CLUSTER"})


@dataclass(frozen=True)
class SchemaCall:
    path: Path
    line: int
    method: str
    """A schema-editor method name, or ``execute``."""
    sql: str | None
    """For ``execute``: the SQL as far as it can be read (holes as :data:`HOLE`)."""
    on_editor: bool
    """Called on the schema editor (else on a cursor or connection)."""
    keywords: frozenset[str]
    """Keyword arguments given literally ``True`` (``concurrently=True``)."""
    chain: tuple[str, ...]
    """Function names from the RunPython function to the one making the call."""

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def schema_calls(func: object) -> tuple[SchemaCall, ...]:
    """Schema changes ``func`` (a RunPython ``code``) makes; ``()`` when unreadable."""
    inner = getattr(func, "func", func)  # functools.partial
    code = getattr(inner, "__code__", None)
    if not isinstance(code, CodeType):
        return ()
    return _calls_of_code(code)


@functools.lru_cache(maxsize=4096)
def _calls_of_code(code: CodeType) -> tuple[SchemaCall, ...]:
    path = Path(code.co_filename)
    if not _may_change_schema(path):
        return ()
    tree = parse_file(path)
    if tree is None:
        return ()
    target = find_function(tree, code.co_firstlineno, code.co_name)
    if target is None:
        return ()
    editor = _parameter(target, 1)
    module = _Module(path, tree)
    return tuple(module.calls(target, {editor} if editor else set(), (code.co_name,), 0))


def _may_change_schema(path: Path) -> bool:
    """Cheap text test before walking the tree."""
    text = source_text(path)
    return "execute" in text or any(f".{method}(" in text for method in SCHEMA_METHODS)


def _parameter(function: ast.AST, position: int) -> str | None:
    args = getattr(function, "args", None)
    if not isinstance(args, ast.arguments):
        return None
    positional = [*args.posonlyargs, *args.args]
    return positional[position].arg if position < len(positional) else None


class _Module:
    def __init__(self, path: Path, tree: ast.Module) -> None:
        self.path = path
        self.functions = {
            node.name: node
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self.constants: dict[str, str] = {}
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                text = self.sql_of(node.value)
                if text is not None:
                    self.constants[node.targets[0].id] = text

    def sql_of(self, expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return expr.value
        if isinstance(expr, ast.JoinedStr):
            parts = []
            for value in expr.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    parts.append(value.value)
                else:
                    parts.append(HOLE)
            return "".join(parts)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self.sql_of(expr.left), self.sql_of(expr.right)
            return None if left is None or right is None else left + right
        if isinstance(expr, ast.Name):
            return self.constants.get(expr.id)
        return None

    def calls(
        self, function: ast.AST, editors: set[str], chain: tuple[str, ...], depth: int
    ) -> list[SchemaCall]:
        editors = set(editors)
        for node in ast.walk(function):  # names bound to the editor: se = schema_editor
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Name)
                and node.value.id in editors
            ):
                editors.update(t.id for t in node.targets if isinstance(t, ast.Name))
        found: list[SchemaCall] = []
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func
            if isinstance(callee, ast.Attribute):
                receiver_is_editor = isinstance(callee.value, ast.Name) and (
                    callee.value.id in editors
                )
                method = callee.attr
                if method == "execute" and node.args:
                    sql = self.sql_of(node.args[0])
                    if receiver_is_editor or (sql is not None and _is_ddl(sql)):
                        found.append(self._call(node, method, sql, receiver_is_editor, chain))
                elif receiver_is_editor and method in SCHEMA_METHODS:
                    found.append(self._call(node, method, None, True, chain))
            elif (
                isinstance(callee, ast.Name)
                and callee.id in self.functions
                and callee.id not in chain
                and depth < MAX_DEPTH
            ):
                helper = self.functions[callee.id]
                passed = _editor_parameters(node, helper, editors)
                if passed:
                    found.extend(self.calls(helper, passed, (*chain, callee.id), depth + 1))
        return sorted(found, key=lambda c: c.line)

    def _call(
        self, node: ast.Call, method: str, sql: str | None, on_editor: bool, chain: tuple[str, ...]
    ) -> SchemaCall:
        keywords = frozenset(
            k.arg
            for k in node.keywords
            if k.arg and isinstance(k.value, ast.Constant) and k.value.value is True
        )
        return SchemaCall(self.path, node.lineno, method, sql, on_editor, keywords, chain)


def _editor_parameters(call: ast.Call, helper: ast.AST, editors: set[str]) -> set[str]:
    """The helper's parameter names that receive the schema editor in ``call``."""
    names: set[str] = set()
    for position, arg in enumerate(call.args):
        if isinstance(arg, ast.Name) and arg.id in editors:
            name = _parameter(helper, position)
            if name:
                names.add(name)
    for keyword in call.keywords:
        if keyword.arg and isinstance(keyword.value, ast.Name) and keyword.value.id in editors:
            names.add(keyword.arg)
    return names


def _is_ddl(sql: str) -> bool:
    from pytest_django_gates.migrations.sqltext import split_sql

    return any(stmt.tokens[:1] and stmt.tokens[0] in _DDL_WORDS for stmt in split_sql(sql))


# Queryset and manager methods that write every row they are called on.
_BULK_WRITES = frozenset({"update", "delete", "bulk_update"})


def updated_models(func: object) -> tuple[tuple[str, str], ...]:
    """The models whose rows ``func`` (a RunPython ``code``) writes in bulk, as
    ``(app_label, ModelName)``, read from its source: a model bound from
    ``apps.get_model("app", "Model")`` (or ``"app.Model"``) on the function's first
    parameter, then ``.update(...)``, ``.delete()`` or ``.bulk_update(...)`` on a chain
    that starts at it (``Ticket.objects.filter(priority__isnull=True).update(...)``), or
    ``.save()`` on the target of a ``for`` over such a chain. ``()`` when unreadable.
    Helpers in other functions are not followed."""
    inner = getattr(func, "func", func)
    code = getattr(inner, "__code__", None)
    if not isinstance(code, CodeType):
        return ()
    return _updated_of_code(code)


@functools.lru_cache(maxsize=4096)
def _updated_of_code(code: CodeType) -> tuple[tuple[str, str], ...]:
    path = Path(code.co_filename)
    if "get_model" not in source_text(path):
        return ()
    tree = parse_file(path)
    target = find_function(tree, code.co_firstlineno, code.co_name) if tree else None
    apps = _parameter(target, 0) if target is not None else None
    if target is None or apps is None:
        return ()
    bound: dict[str, tuple[str, str]] = {}
    for node in ast.walk(target):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            model = _get_model(node.value, apps)
            if model is not None and isinstance(node.targets[0], ast.Name):
                bound[node.targets[0].id] = model
    found: list[tuple[str, str]] = []
    for node in ast.walk(target):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _BULK_WRITES
        ):
            model = _chain_model(node.func.value, apps, bound)
            if model is not None:
                found.append(model)
        elif isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
            model = _chain_model(node.iter, apps, bound)
            row = node.target.id
            saves = any(
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Attribute)
                and sub.func.attr == "save"
                and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id == row
                for stmt in node.body
                for sub in ast.walk(stmt)
            )
            if model is not None and saves:
                found.append(model)
    return tuple(dict.fromkeys(found))


def _get_model(node: ast.AST, apps: str) -> tuple[str, str] | None:
    """``apps.get_model("app", "Model")`` / ``apps.get_model("app.Model")``."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get_model"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == apps
    ):
        return None
    values = [
        a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
    ]
    if len(values) != len(node.args):
        return None
    if len(values) == 2:
        return values[0], values[1]
    if len(values) == 1 and "." in values[0]:
        app, _, name = values[0].partition(".")
        return app, name
    return None


def _chain_model(
    node: ast.AST, apps: str, bound: dict[str, tuple[str, str]]
) -> tuple[str, str] | None:
    """The model a chain of attributes and calls starts at (``Ticket.objects.filter(...)``)."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        model = _get_model(node, apps)
        if model is not None:
            return model
        node = node.func if isinstance(node, ast.Call) else node.value
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    return None
