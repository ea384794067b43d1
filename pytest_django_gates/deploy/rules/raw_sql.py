"""DJG316: raw SQL built with f-strings, ``%`` / ``.format()`` formatting or concatenation.

Scans the project's own source, **migrations excluded** (their SQL is fixed at
write time and never sees user input), for SQL passed to:

- ``<anything>.raw(sql, …)`` (``Manager.raw``), ``<anything>.execute(sql, …)`` /
  ``.executemany(sql, …)`` (DB-API cursors, whatever the variable is called),
  ``RawSQL(sql, params)``;
- ``.extra(where=[…], select={…}, tables=[…], order_by=[…])``.

The SQL is reported when it is an f-string with a ``{…}`` field, a string
``%``-formatted with a non-literal, a string's ``.format(…)``, or a string
concatenated with a non-literal. A variable is followed to its last assignment
earlier in the same function (or module), up to three hops. Parameterised SQL
(``cursor.execute("… WHERE id = %s", [pk])``) is what the fix asks for and is
never reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from pytest_django_gates.deploy.rules._base import Issue, SourceContext, SourceRule
from pytest_django_gates.deploy.sources import SourceFile, qualname_at

_SQL_METHODS = {"raw", "execute", "executemany"}
_EXTRA_KEYWORDS = {"where", "select", "tables", "order_by"}
_SQL_KEYWORDS = {"sql", "raw_query", "query"}

Scope = dict[str, list[tuple[int, ast.expr]]]


def _is_str(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
        node, ast.JoinedStr
    )


def _stringish(node: ast.expr, scope: Scope, line: int, hops: int = 3) -> bool:
    """A string literal, or a variable last assigned one (earlier in the scope)."""
    if _is_str(node):
        return True
    if isinstance(node, ast.Name) and hops > 0:
        earlier = [value for at, value in scope.get(node.id, []) if at < line]
        return bool(earlier) and _stringish(earlier[-1], scope, line, hops - 1)
    return False


def _constant(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Tuple | ast.List):
        return all(_constant(e) for e in node.elts)
    return False


def _how(node: ast.expr, scope: Scope, line: int, hops: int = 3) -> str | None:
    """How ``node`` builds SQL from non-literal pieces, or ``None`` when it does not."""
    if isinstance(node, ast.JoinedStr):
        if any(isinstance(v, ast.FormattedValue) for v in node.values):
            return "an f-string"
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        if _stringish(node.left, scope, line) and not _constant(node.right):
            return "%-formatting"
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _how(node.left, scope, line, hops)
        right = _how(node.right, scope, line, hops)
        if left or right:
            return left or right
        if (_is_str(node.left) and not _constant(node.right)) or (
            _is_str(node.right) and not _constant(node.left)
        ):
            return "string concatenation"
        return None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and _stringish(node.func.value, scope, line)
        and (node.args or node.keywords)
    ):
        return "str.format()"
    if isinstance(node, ast.Name) and hops > 0:
        earlier = [(at, value) for at, value in scope.get(node.id, []) if at < line]
        if earlier:
            at, value = earlier[-1]
            how = _how(value, scope, line, hops - 1)
            return f"{how} (assigned to {node.id} on line {at})" if how else None
    return None


def _scope_of(body: Sequence[ast.stmt]) -> Scope:
    """Simple ``name = value`` assignments in a body, not descending into nested functions."""
    scope: Scope = {}
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                scope.setdefault(target.id, []).append((node.lineno, node.value))
        elif (
            isinstance(node, ast.AnnAssign)
            and node.value is not None
            and isinstance(node.target, ast.Name)
        ):
            scope.setdefault(node.target.id, []).append((node.lineno, node.value))
        stack.extend(ast.iter_child_nodes(node))
    for values in scope.values():
        values.sort(key=lambda item: item[0])
    return scope


def _calls(body: Sequence[ast.stmt]) -> Iterator[ast.Call]:
    """Calls in a body, not descending into nested functions (they get their own scope)."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _bodies(tree: ast.Module) -> Iterator[Sequence[ast.stmt]]:
    yield tree.body
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.body


def _sql_arguments(call: ast.Call) -> Iterator[tuple[str, ast.expr]]:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if (name in _SQL_METHODS and isinstance(func, ast.Attribute)) or name == "RawSQL":
        label = f".{name}()" if name != "RawSQL" else "RawSQL()"
        if call.args:
            yield label, call.args[0]
        for kw in call.keywords:
            if kw.arg in _SQL_KEYWORDS:
                yield label, kw.value
    elif name == "extra" and isinstance(func, ast.Attribute):
        for kw in call.keywords:
            if kw.arg not in _EXTRA_KEYWORDS:
                continue
            label = f".extra({kw.arg}=…)"
            if isinstance(kw.value, ast.List | ast.Tuple | ast.Set):
                for element in kw.value.elts:
                    yield label, element
            elif isinstance(kw.value, ast.Dict):
                for element in kw.value.values:
                    yield label, element
            else:
                yield label, kw.value


def _check_file(source: SourceFile) -> Iterator[Issue]:
    for body in _bodies(source.tree):
        scope = _scope_of(body)
        for call in _calls(body):
            for label, argument in _sql_arguments(call):
                how = _how(argument, scope, call.lineno)
                if how is None:
                    continue
                where = qualname_at(source.tree, call.lineno)
                yield RULE.issue(
                    f"SQL passed to {label} is built with {how}: a value that reaches it "
                    "from a request is an SQL injection.",
                    object=f"{source.module}.{where}" if where else source.module,
                    path=source.path,
                    line=call.lineno,
                )


def check(ctx: SourceContext) -> Iterator[Issue]:
    for source in ctx.sources.files(migrations=False):
        yield from _check_file(source)


RULE = SourceRule(
    code="DJG316",
    setting="raw SQL",
    level="error",
    title="raw SQL built with f-strings or % formatting",
    fix='pass values as parameters: cursor.execute("... WHERE id = %s", [pk]), '
    'Model.objects.raw("... = %s", [value]), .extra(where=["x = %s"], params=[value]); '
    "or use the ORM",
    check=check,
)
