"""Where each setting is set: the production settings source, read with :mod:`ast`.

Nothing is imported or executed. Starting from the production settings module,
:class:`SettingsSource` walks its top-level statements in order and follows
``from .base import *`` (and ``from .base import NAME``) into the imported
module, so that the *bindings* of a setting come out in the order Python would
execute them. A binding is an assignment (``X = …``, ``X: T = …``), an
augmented assignment (``X += …``), an item or attribute assignment
(``X["k"] = …``) or an explicit import of the name.

Statements nested in ``if`` / ``try`` / ``for`` / ``while`` / ``match`` are
*conditional*; ``with`` bodies are not. Function and class bodies are skipped.

Modules are found as files under the given roots (the project directory):
``a.b.c`` is ``a/b/c.py`` or ``a/b/c/__init__.py``. A module that is not a file
under a root (a settings base shipped in an installed package) is not followed;
:attr:`SettingsSource.unresolved` lists it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

BindingKind = Literal["assign", "augassign", "item", "import"]

# How many settings modules a chain of ``from x import *`` is followed through (each one
# is a few generator frames deep: a longer chain would exhaust Python's recursion limit).
MAX_DEPTH = 100

ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Callee names (the last part of ``a.b.name``) that read one environment variable.
_ENV_CALLEES = {"get", "getenv", "env", "environ", "config", "str", "list", "bool", "int", "json"}


@dataclass(frozen=True)
class Binding:
    """One statement that (re)binds a setting."""

    name: str
    module: str
    path: Path
    line: int
    kind: BindingKind
    value: ast.expr | None
    conditional: bool


@dataclass
class _Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool


@dataclass
class SettingsSource:
    """The source of one settings module and every settings module it star-imports."""

    module: str
    roots: tuple[Path, ...]
    path: Path | None = None
    unresolved: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _modules: dict[str, _Module | None] = field(default_factory=dict, repr=False)
    _bindings: list[Binding] | None = field(default=None, repr=False)
    # Each module's bindings, walked once (a real project's settings import the same
    # modules along many paths: without it the walk grows exponentially).
    _walked: dict[tuple[str, tuple[tuple[str, str], ...], bool], list[Binding]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def load(
        cls, module: str, roots: Sequence[Path], *, path: Path | None = None
    ) -> SettingsSource:
        """Read ``module`` (found under ``roots``, or at ``path`` when given)."""
        source = cls(module=module, roots=tuple(Path(r) for r in roots))
        if path is not None:
            source._parse(module, Path(path))
        source.path = source._module_path(module)
        return source

    # -- module lookup -------------------------------------------------------

    def find(self, module: str) -> Path | None:
        parts = module.split(".")
        for root in self.roots:
            base = root.joinpath(*parts)
            for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def _parse(self, module: str, path: Path) -> _Module | None:
        try:
            # Bytes: Python's own decoding (a BOM, a ``# -*- coding: ... -*-`` line).
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (OSError, SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            # MemoryError / RecursionError: the parser on expressions nested too deep.
            detail = str(exc) or f"{type(exc).__name__} (nested too deep)"
            self.problems.append(
                f"{path}: cannot read settings source: {detail}; fix the file (Python, "
                "UTF-8 or with a coding line) so its settings can be located"
            )
            self._modules[module] = None
            return None
        parsed = _Module(module, path, tree, path.name == "__init__.py")
        self._modules[module] = parsed
        return parsed

    def _get(self, module: str) -> _Module | None:
        if module in self._modules:
            return self._modules[module]
        path = self.find(module)
        if path is None:
            self.unresolved.append(module)
            self._modules[module] = None
            return None
        return self._parse(module, path)

    def _module_path(self, module: str) -> Path | None:
        parsed = self._get(module)
        return parsed.path if parsed else None

    @property
    def modules(self) -> list[str]:
        """Every settings module read (found), the production module first."""
        self.bindings()
        return [name for name, m in self._modules.items() if m is not None]

    @property
    def files(self) -> list[Path]:
        """Every settings file read, the production module first."""
        self.bindings()
        return [m.path for m in self._modules.values() if m is not None]

    # -- bindings --------------------------------------------------------------

    def bindings(self, name: str | None = None) -> list[Binding]:
        """Bindings of ``name`` (every name when ``None``), in execution order."""
        if self._bindings is None:
            self._bindings = list(self._walk(self.module, (), frozenset()))
        if name is None:
            return list(self._bindings)
        return [b for b in self._bindings if b.name == name]

    def live(self, name: str) -> list[Binding]:
        """The bindings that can give ``name`` its final value.

        That is the last unconditional binding and every later (conditional)
        one; all of them when every binding is conditional.
        """
        found = self.bindings(name)
        for i in range(len(found) - 1, -1, -1):
            if not found[i].conditional:
                return found[i:]
        return found

    def where(self, name: str) -> tuple[Path | None, int | None]:
        """The file and line that set ``name`` last; the module itself (no line) for a default."""
        found = self.bindings(name)
        if found:
            last = found[-1]
            return last.path, last.line
        return self.path, None

    def where_last(self, names: Sequence[str]) -> tuple[Path | None, int | None]:
        """Like :meth:`where`, for whichever of ``names`` was bound last in execution order."""
        best: Binding | None = None
        for binding in self.bindings():
            if binding.name in names:
                best = binding
        if best is None:
            return self.path, None
        return best.path, best.line

    def expressions(self, binding: Binding) -> list[ast.expr]:
        """The expression ``binding`` assigns, and the values its names had just before
        (``INSTALLED_APPS = DJANGO_APPS + PROJECT_APPS``, ``SECRET_KEY = env(KEY_NAME)``)."""
        if binding.value is None:
            return []
        found = [binding.value]
        for name in sorted(names_used(binding.value)):
            value = self.module_value(binding.module, name, binding.line)
            if value is not None:
                found.append(value)
        return found

    def module_value(self, module: str, name: str, before: int) -> ast.expr | None:
        """The value last assigned to ``name`` in ``module`` before line ``before``."""
        value: ast.expr | None = None
        for b in self.bindings():
            if b.module == module and b.name == name and b.line < before and b.kind == "assign":
                value = b.value
        return value

    def _walk(
        self,
        module: str,
        only: tuple[tuple[str, str], ...],
        stack: frozenset[str],
        conditional: bool = False,
    ) -> Iterator[Binding]:
        """Bindings made by executing ``module``.

        ``only`` (pairs of source name, bound name) restricts and renames them,
        for ``from module import A as B``; empty means every public name.
        """
        key = (module, only, conditional)
        if key in self._walked:
            yield from self._walked[key]
            return
        parsed = self._get(module)
        if parsed is None or module in stack:
            return
        if len(stack) >= MAX_DEPTH:
            self.problems.append(
                f"{parsed.path}: star-imported through more than {MAX_DEPTH} settings "
                "modules; its settings are not located (import fewer modules in a chain)"
            )
            return
        inner = stack | {module}
        wanted = dict(only)
        found: list[Binding] = []
        for binding in self._statements(parsed, parsed.tree.body, inner, conditional):
            if not only:
                found.append(binding)
            elif binding.name in wanted:
                found.append(
                    Binding(
                        wanted[binding.name],
                        binding.module,
                        binding.path,
                        binding.line,
                        binding.kind,
                        binding.value,
                        binding.conditional or conditional,
                    )
                )
        self._walked[key] = found
        yield from found

    def _statements(
        self,
        mod: _Module,
        body: Sequence[ast.stmt],
        stack: frozenset[str],
        conditional: bool,
    ) -> Iterator[Binding]:
        for node in body:
            yield from self._statement(mod, node, stack, conditional)

    def _statement(
        self, mod: _Module, node: ast.stmt, stack: frozenset[str], conditional: bool
    ) -> Iterator[Binding]:
        def bind(name: str, kind: BindingKind, value: ast.expr | None) -> Binding:
            return Binding(name, mod.name, mod.path, node.lineno, kind, value, conditional)

        if isinstance(node, ast.Assign):
            for target in node.targets:
                yield from (
                    bind(n, k, node.value if k == "assign" else None)
                    for n, k in _target_names(target)
                )
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                for n, k in _target_names(node.target):
                    yield bind(n, k, node.value if k == "assign" else None)
        elif isinstance(node, ast.AugAssign):
            for n, _ in _target_names(node.target):
                yield bind(n, "augassign", node.value)
        elif isinstance(node, ast.ImportFrom):
            imported_module = _resolve_import(mod, node)
            if imported_module is None:
                return
            if any(alias.name == "*" for alias in node.names):
                yield from self._walk(imported_module, (), stack, conditional)
                return
            pairs = tuple((a.name, a.asname or a.name) for a in node.names)
            # Only settings (UPPER_CASE names) are followed into the module they come
            # from: `from sentry_sdk.integrations.django import DjangoIntegration` binds
            # no setting, and walking libraries' imports is what made this slow.
            pairs = tuple((name, bound) for name, bound in pairs if bound.isupper())
            if not pairs:
                return
            imported = list(self._walk(imported_module, pairs, stack, conditional))
            seen = {b.name for b in imported}
            yield from imported
            for _, bound in pairs:
                if bound not in seen and bound.isupper():
                    yield bind(bound, "import", None)
        elif isinstance(node, ast.If | ast.For | ast.AsyncFor | ast.While):
            yield from self._statements(mod, node.body, stack, True)
            yield from self._statements(mod, node.orelse, stack, True)
        elif isinstance(node, ast.Try) or _is_try_star(node):
            try_node = cast(ast.Try, node)  # ast.TryStar has the same fields
            yield from self._statements(mod, try_node.body, stack, True)
            for handler in try_node.handlers:
                yield from self._statements(mod, handler.body, stack, True)
            yield from self._statements(mod, try_node.orelse, stack, True)
            yield from self._statements(mod, try_node.finalbody, stack, conditional)
        elif isinstance(node, ast.With | ast.AsyncWith):
            yield from self._statements(mod, node.body, stack, conditional)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                yield from self._statements(mod, case.body, stack, True)


def _is_try_star(node: ast.stmt) -> bool:
    try_star = getattr(ast, "TryStar", None)
    return try_star is not None and isinstance(node, try_star)


def _target_names(target: ast.expr) -> Iterator[tuple[str, BindingKind]]:
    if isinstance(target, ast.Name):
        yield target.id, "assign"
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            for name, _ in _target_names(element):
                yield name, "item"  # unpacking: the value is not one expression
    elif isinstance(target, ast.Starred):
        for name, _ in _target_names(target.value):
            yield name, "item"
    elif isinstance(target, ast.Subscript | ast.Attribute):
        root: ast.expr = target
        while isinstance(root, ast.Subscript | ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name):
            yield root.id, "item"


def _resolve_import(mod: _Module, node: ast.ImportFrom) -> str | None:
    if node.level == 0:
        return node.module
    package = mod.name.split(".") if mod.is_package else mod.name.split(".")[:-1]
    if node.level - 1 > len(package):
        return None
    base = package[: len(package) - (node.level - 1)]
    if node.module:
        base = [*base, *node.module.split(".")]
    return ".".join(base) if base else None


# -- reading values ------------------------------------------------------------


def dotted(node: ast.expr) -> str:
    """``a.b.c`` for a Name/Attribute chain, else ``""``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call):
        inner = dotted(node.func)
        if inner:
            parts.append(inner + "()")
            return ".".join(reversed(parts))
    return ""


@dataclass(frozen=True)
class EnvRead:
    """One read of an environment variable in a settings expression."""

    variable: str
    default: ast.expr | None
    line: int


def env_reads(expr: ast.AST) -> list[EnvRead]:
    """Environment variables read by ``expr``.

    Recognised: ``os.environ["X"]``, ``os.environ.get("X", d)``,
    ``os.getenv("X", d)``, django-environ's ``env("X", default=d)`` /
    ``env.str("X")`` / ``env.list("X")``, python-decouple's ``config("X")``: a
    call whose callee ends in one of those names, or mentions ``env``, with an
    UPPER_CASE string as first argument.
    """
    reads: list[EnvRead] = []
    for node in ast.walk(expr):
        if isinstance(node, ast.Subscript):
            key = node.slice
            if (
                dotted(node.value).split(".")[-1] == "environ"
                and isinstance(key, ast.Constant)
                and isinstance(key.value, str)
                and ENV_NAME.match(key.value)
            ):
                reads.append(EnvRead(key.value, None, node.lineno))
        elif isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            name = dotted(node.func)
            last = name.split(".")[-1].removesuffix("()")
            if not (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and ENV_NAME.match(first.value)
                and (last in _ENV_CALLEES or "env" in name.lower())
            ):
                continue
            if last in {"str", "list", "bool", "int", "json", "get"} and "env" not in name.lower():
                continue  # str("X") / some_dict.get("X"): not an environment read
            default: ast.expr | None = node.args[1] if len(node.args) > 1 else None
            for kw in node.keywords:
                if kw.arg == "default":
                    default = kw.value
            reads.append(EnvRead(first.value, default, node.lineno))
    return reads


def literal_text(node: ast.expr | None) -> str | None:
    """The text of a string built only from literals (``"a"``, ``"a" "b"``, ``"a" + "b"``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        value = node.value
        return value.decode("latin-1") if isinstance(value, bytes) else value
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in node.values):
        return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mult):
        left, right = literal_text(node.left), literal_text(node.right)
        if isinstance(node.op, ast.Add) and left is not None and right is not None:
            return left + right
        if isinstance(node.op, ast.Mult) and left is not None:
            return left
    return None


def names_used(expr: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
