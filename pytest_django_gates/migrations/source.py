"""What the source of a migration file says: operation lines and RunPython imports.

Line numbers come from parsing the migration file with :mod:`ast`: the
elements of ``operations = [...]`` in the ``Migration`` class, in order (and,
for ``SeparateDatabaseAndState``, the elements of its ``database_operations``).
When ``operations`` is not a literal list the line of the assignment is used.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType


@dataclass
class OpNode:
    line: int
    children: dict[str, list[OpNode]] = field(default_factory=dict)


@dataclass
class MigrationSource:
    class_line: int | None = None
    operations_line: int | None = None
    operations: list[OpNode] | None = None
    attribute_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, index: tuple[int, ...], expected: int | None = None) -> int | None:
        """Line of the operation at ``index`` (a path through nested operation lists).

        ``expected`` is the real number of top-level operations: when the literal
        list has a different length (built dynamically) the assignment line is used.
        """
        nodes = self.operations
        if nodes is None or (expected is not None and len(nodes) != expected):
            return self.operations_line or self.class_line
        node: OpNode | None = None
        for depth, i in enumerate(index):
            if nodes is None or i >= len(nodes):
                return node.line if node else self.operations_line
            node = nodes[i]
            if depth + 1 < len(index):
                nodes = node.children.get("database_operations")
        return node.line if node else self.operations_line


@functools.lru_cache(maxsize=4096)
def parse_file(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None


def migration_source(path: Path | None) -> MigrationSource:
    if path is None:
        return MigrationSource()
    tree = parse_file(path)
    if tree is None:
        return MigrationSource()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            return _class_source(node)
    return MigrationSource()


def _class_source(cls: ast.ClassDef) -> MigrationSource:
    source = MigrationSource(class_line=cls.lineno)
    for stmt in cls.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            targets, value = [stmt.target], stmt.value
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            source.attribute_lines[target.id] = stmt.lineno
            if target.id == "operations":
                source.operations_line = stmt.lineno
                if isinstance(value, (ast.List, ast.Tuple)):
                    source.operations = [_op_node(elt) for elt in value.elts]
    return source


def _op_node(expr: ast.expr) -> OpNode:
    node = OpNode(line=expr.lineno)
    if isinstance(expr, ast.Call):
        for keyword in expr.keywords:
            if keyword.arg in ("database_operations", "state_operations") and isinstance(
                keyword.value, (ast.List, ast.Tuple)
            ):
                node.children[keyword.arg] = [_op_node(e) for e in keyword.value.elts]
        if expr.args and isinstance(expr.args[0], (ast.List, ast.Tuple)):
            node.children.setdefault(
                "database_operations", [_op_node(e) for e in expr.args[0].elts]
            )
    return node


@dataclass(frozen=True)
class ModelUse:
    line: int
    what: str


def models_used_by(func: object, models_modules: frozenset[str]) -> list[ModelUse]:
    """Where a ``RunPython`` function reaches for the real (current) models instead of
    ``apps.get_model``: imports of an app's ``models`` module inside it, names bound by
    such imports at module level, and ``get_user_model()`` calls."""
    inner = getattr(func, "func", func)  # functools.partial
    code = getattr(inner, "__code__", None)
    module_name = getattr(inner, "__module__", None)
    if code is None:
        return []
    return list(_models_used_by_code(code, module_name, models_modules))


@functools.lru_cache(maxsize=4096)
def _models_used_by_code(
    code: CodeType, module_name: object, models_modules: frozenset[str]
) -> tuple[ModelUse, ...]:
    """Memoised per function: ``RunPython.noop`` (Django's own, in every other
    migration) is looked at once, not once per operation."""
    path = Path(code.co_filename)
    if not _may_use_models(path, models_modules):
        return ()
    tree = parse_file(path)
    if tree is None:
        return ()
    target = find_function(tree, code.co_firstlineno, code.co_name)
    if target is None:
        return ()
    package = module_name.rpartition(".")[0] if isinstance(module_name, str) else ""
    bound = _module_level_model_names(tree, models_modules, package)
    for local in _local_names(target):
        bound.pop(local, None)  # shadowed inside the function
    uses: list[ModelUse] = []
    for node in ast.walk(target):
        if isinstance(node, ast.ImportFrom):
            module = _resolve(node.module, node.level, package)
            if _is_models_module(module, models_modules):
                names = ", ".join(a.name for a in node.names)
                uses.append(ModelUse(node.lineno, f"from {module} import {names}"))
            else:
                for alias in node.names:
                    if _is_models_module(f"{module}.{alias.name}", models_modules):
                        uses.append(ModelUse(node.lineno, f"from {module} import {alias.name}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_models_module(alias.name, models_modules):
                    uses.append(ModelUse(node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in bound:
            uses.append(ModelUse(node.lineno, f"{node.id} (imported from {bound[node.id]})"))
        elif isinstance(node, ast.Call):
            callee = node.func
            name = (
                callee.id
                if isinstance(callee, ast.Name)
                else callee.attr
                if isinstance(callee, ast.Attribute)
                else None
            )
            if name == "get_user_model":
                uses.append(ModelUse(node.lineno, "get_user_model()"))
    seen: set[tuple[int, str]] = set()
    unique: list[ModelUse] = []
    for use in sorted(uses, key=lambda u: u.line):
        if (use.line, use.what) not in seen:
            seen.add((use.line, use.what))
            unique.append(use)
    return tuple(unique)


@functools.lru_cache(maxsize=4096)
def source_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _may_use_models(path: Path, models_modules: frozenset[str]) -> bool:
    """Cheap text test before parsing: can the file mention a models module at all?"""
    text = source_text(path)
    if "get_user_model" in text or "from ." in text:
        return True
    return any(module in text for module in models_modules) or any(
        f"from {module.rpartition('.')[0]} import" in text for module in models_modules
    )


def find_function(tree: ast.Module, first_line: int, name: str) -> ast.AST | None:
    for top in tree.body:  # the usual case: a module-level function
        if (
            isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef))
            and top.name == name
            and first_line in {top.lineno, *(d.lineno for d in top.decorator_list)}
        ):
            return top
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = {node.lineno, *(d.lineno for d in node.decorator_list)}
            if first_line in lines and node.name == name:
                return node
        elif isinstance(node, ast.Lambda) and name == "<lambda>" and node.lineno == first_line:
            return node
    return None


def _local_names(function: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _module_level_model_names(
    tree: ast.Module, models_modules: frozenset[str], package: str
) -> dict[str, str]:
    bound: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = _resolve(node.module, node.level, package)
            for alias in node.names:
                local = alias.asname or alias.name
                if _is_models_module(module, models_modules):
                    bound[local] = module
                elif _is_models_module(f"{module}.{alias.name}", models_modules):
                    bound[local] = f"{module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_models_module(alias.name, models_modules):
                    local = alias.asname or alias.name.split(".")[0]
                    bound[local] = alias.name
    return bound


def _resolve(module: str | None, level: int, package: str) -> str:
    if not level:
        return module or ""
    try:
        return importlib.util.resolve_name("." * level + (module or ""), package)
    except (ImportError, ValueError):
        return module or ""


def _is_models_module(module: str, models_modules: frozenset[str]) -> bool:
    if not module:
        return False
    return any(module == m or module.startswith(m + ".") for m in models_modules)
