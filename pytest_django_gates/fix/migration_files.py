"""Reading and writing migration files for the fix recipes: the ``Migration`` class,
its operations, whether anything depends on a migration, and a new migration's name.

Everything here reads the files with :mod:`ast`; nothing imports the project.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pytest_django_gates.fix.source_edit import EditError, Splice, apply, check_parses, span

_NUMBERED = re.compile(r"^(\d{4})_\w+\.py$")


@dataclass(frozen=True)
class Operation:
    """One element of a migration's ``operations`` list."""

    node: ast.expr
    call: ast.Call | None  # the element when it is a call (``migrations.AddIndex(...)``)
    kind: str  # the called name's last part ("AddIndex"), "" when not a call
    segment: str  # its source text


@dataclass(frozen=True)
class MigrationSource:
    path: Path
    text: str
    tree: ast.Module
    cls: ast.ClassDef
    operations_list: ast.List
    operations: tuple[Operation, ...]

    @classmethod
    def read(cls, path: Path, text: str | None = None) -> MigrationSource:
        text = path.read_text(encoding="utf-8") if text is None else text
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            raise EditError(f"{path.name} does not parse ({exc.msg}, line {exc.lineno})") from None
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == "Migration":
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.Assign)
                        and any(
                            isinstance(t, ast.Name) and t.id == "operations" for t in stmt.targets
                        )
                        and isinstance(stmt.value, ast.List)
                    ):
                        ops = tuple(_operation(text, element) for element in stmt.value.elts)
                        return cls(path, text, tree, node, stmt.value, ops)
                raise EditError(f"{path.name}: the Migration class has no literal operations list")
        raise EditError(f"{path.name} has no Migration class")

    def at_line(self, line: int) -> Operation:
        """The operation that starts on ``line`` (a finding's line)."""
        found = [op for op in self.operations if op.node.lineno == line]
        if len(found) != 1:
            raise EditError(f"{self.path.name}:{line} is not the first line of one operation")
        return found[0]

    def by_segment(self, segment: str) -> Operation:
        """The one operation whose source text is ``segment``."""
        found = [op for op in self.operations if op.segment == segment]
        if len(found) != 1:
            raise EditError(f"{self.path.name}: the operation to fix is no longer there as it was")
        return found[0]

    def atomic_false(self) -> Splice | None:
        """A splice setting ``atomic = False`` on the class (None: it is already)."""
        for stmt in self.cls.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "atomic" for t in stmt.targets
            ):
                if isinstance(stmt.value, ast.Constant) and stmt.value.value is False:
                    return None
                start, end = span(self.text, stmt.value)
                return Splice(start, end, "False")
        first = self.cls.body[0]
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
            and len(self.cls.body) > 1
        ):
            first = self.cls.body[1]  # after the docstring
        start, _ = span(self.text, first)
        line_start = self.text.rfind("\n", 0, start) + 1
        indent = self.text[line_start:start]
        return Splice(line_start, line_start, f"{indent}atomic = False\n\n")

    def remove(self, op: Operation) -> Splice:
        """A splice taking ``op`` out of the list, with its comma and its line when it
        had the line to itself."""
        start, end = span(self.text, op.node)
        after = self.text[end:]
        stripped = after.lstrip(" \t")
        if stripped.startswith(","):
            end += len(after) - len(stripped) + 1
        line_start = self.text.rfind("\n", 0, start) + 1
        line_end = self.text.find("\n", end)
        if (
            not self.text[line_start:start].strip()
            and line_end != -1
            and not self.text[end:line_end].strip()
        ):
            return Splice(line_start, line_end + 1, "")
        return Splice(start, end, "")


def _operation(text: str, node: ast.expr) -> Operation:
    start, end = span(text, node)
    if isinstance(node, ast.Call):
        func = node.func
        kind = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return Operation(node, node, kind, text[start:end])
    return Operation(node, None, "", text[start:end])


def app_and_name(obj: str) -> tuple[str, str]:
    app, _, name = obj.partition(".")
    return app, name


def insert_after(
    root: Path,
    path: Path,
    app: str,
    name: str,
    created: set[Path],
    new_name: str,
    editable: frozenset[Path] | None = None,
    read: Callable[[Path], str] | None = None,
) -> tuple[str, dict[Path, str]]:
    """Where a new migration ``new_name`` written for the migration ``path`` (``app.name``)
    goes: (the migration it depends on, {file: new text} of the migrations to rewire).

    It goes right after ``name``, or after the migrations this run already created after
    it (followed as a chain). Every other migration that depended on that one is rewired
    to depend on the new one, in its ``dependencies`` list, so that the app keeps one
    leaf and the order of everything else is kept. Raises :class:`EditError` when a
    migration names it otherwise (``run_before``, ``replaces``), cannot be read, or is
    not in ``editable`` (the migrations the command may edit: None, any). ``read`` gives
    a file's text as the command sees it (with --dry-run, planned files included)."""
    reader = read or (lambda p: p.read_text(encoding="utf-8"))
    after = name
    chained = True
    while chained:
        chained = False
        for created_path in sorted(p for p in created if p.parent == path.parent):
            if created_path.stem != after and _depends_on(created_path, app, after, reader):
                after, chained = created_path.stem, True
                break
    rewired: dict[Path, str] = {}
    for user in depended_on(root, path.parent, app, after):
        user_path = Path(user)
        if user_path in created:
            continue
        if editable is not None and user_path.resolve() not in editable:
            try:
                shown = str(user_path.relative_to(root))
            except ValueError:
                shown = str(user_path)
            raise EditError(f"{shown} depends on {app}.{after} and is not new (never edited)")
        rewired[user_path] = _rewire(user_path, app, after, new_name, reader(user_path))
    return after, rewired


def _depends_on(path: Path, app: str, name: str, read: Callable[[Path], str]) -> bool:
    try:
        source = MigrationSource.read(path, read(path))
    except (EditError, OSError, UnicodeDecodeError):
        return False
    return bool(_dependency_names(source, app, name))


def _dependency_names(source: MigrationSource, app: str, name: str) -> list[ast.Constant]:
    """The ``name`` constants of the ``(app, name)`` tuples of ``dependencies``."""
    found: list[ast.Constant] = []
    for stmt in source.cls.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "dependencies" for t in stmt.targets
        ):
            if not isinstance(stmt.value, (ast.List, ast.Tuple)):
                continue
            for element in stmt.value.elts:
                if (
                    isinstance(element, (ast.Tuple, ast.List))
                    and len(element.elts) == 2
                    and all(isinstance(e, ast.Constant) for e in element.elts)
                ):
                    first, second = element.elts
                    assert isinstance(first, ast.Constant)
                    assert isinstance(second, ast.Constant)
                    if first.value == app and second.value == name:
                        found.append(second)
    return found


def _rewire(path: Path, app: str, old: str, new: str, text: str) -> str:
    """``path``'s ``text`` with ``(app, old)`` in its dependencies made ``(app, new)``."""
    source = MigrationSource.read(path, text)
    names = _dependency_names(source, app, old)
    rest = re.sub(r"#.*", "", text)
    mentions = len(re.findall(r"""["']""" + re.escape(old) + r"""["']""", rest))
    if not names or mentions != len(names):
        raise EditError(
            f"{path.name} names {app}.{old} outside its dependencies (run_before, replaces)"
        )
    splices = []
    for constant in names:
        start, end = span(text, constant)
        quote = text[start] if text[start] in "'\"" else '"'
        splices.append(Splice(start, end, f"{quote}{new}{quote}"))
    edited = apply(text, splices)
    check_parses(edited, path.name)
    return edited


def depended_on(root: Path, migrations_dir: Path, app: str, name: str) -> list[str]:
    """The migration files that name (app, name) in a dependency, run_before or replaces:
    in this app's directory and in every ``migrations`` directory under ``root``."""
    found: list[str] = []
    pattern = re.compile(r"""["']""" + re.escape(name) + r"""["']""")
    for path in sorted({*migrations_dir.glob("*.py"), *_project_migrations(root)}):
        if path.stem == name and path.parent == migrations_dir:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if pattern.search(text) and (app in text or path.parent == migrations_dir):
            found.append(str(path))
    return found


_SKIPPED_DIRS = {".git", "node_modules", "site-packages", ".venv", "venv", ".tox", ".nox"}


def _project_migrations(root: Path) -> list[Path]:
    out: list[Path] = []
    for path in root.rglob("migrations/*.py"):
        if not _SKIPPED_DIRS.intersection(path.relative_to(root).parts):
            out.append(path)
    return out


def new_migration_name(migrations_dir: Path, suffix: str, created: set[Path]) -> str:
    """The name of a new migration after every numbered one of the directory (and the
    ones this run created)."""
    files = {*migrations_dir.glob("*.py"), *(p for p in created if p.parent == migrations_dir)}
    numbers = [int(m.group(1)) for p in files if (m := _NUMBERED.match(p.name))]
    slug = re.sub(r"[^0-9a-zA-Z_]+", "_", suffix).strip("_").lower()[:60] or "fix"
    return f"{max(numbers, default=0) + 1:04d}_{slug}"


def used_names(node: ast.AST) -> set[str]:
    """The top-level names an expression reads (``models`` in ``models.Index(...)``)."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def imports_for(tree: ast.Module, text: str, names: set[str]) -> list[str]:
    """The import lines of ``tree`` that bind one of ``names``, cut down to those names."""
    lines: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            kept = [a for a in node.names if (a.asname or a.name.partition(".")[0]) in names]
            if kept:
                lines.append("import " + ", ".join(_alias(a) for a in kept))
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            kept = [a for a in node.names if (a.asname or a.name) in names]
            if kept:
                lines.append(f"from {node.module} import " + ", ".join(_alias(a) for a in kept))
    return lines


def _alias(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name


def new_migration(
    *, imports: list[str], app: str, depends: str, operations: list[str], atomic: bool, doc: str
) -> str:
    """The text of a new migration file; ``operations`` are source texts of calls."""
    wanted = {*imports, "from django.db import migrations"}
    merged = _merge_from_imports(sorted(wanted))
    body = "".join(f"        {op},\n" for op in operations)
    head = _docstring(doc)
    atomic_line = "    atomic = False\n\n" if not atomic else ""
    return (
        "\n".join(merged)
        + "\n\n\nclass Migration(migrations.Migration):\n"
        + head
        + atomic_line
        + f'    dependencies = [("{app}", "{depends}")]\n\n'
        + "    operations = [\n"
        + body
        + "    ]\n"
    )


def _docstring(doc: str) -> str:
    if not doc:
        return ""
    if len(doc) <= 80:
        return f'    """{doc}"""\n\n'
    lines = textwrap.wrap(doc, 84)
    return (
        '    """' + lines[0] + "\n" + "".join(f"    {line}\n" for line in lines[1:]) + '    """\n\n'
    )


def _merge_from_imports(lines: list[str]) -> list[str]:
    """``from m import a`` and ``from m import b`` as one line; plain imports first."""
    plain = sorted(line for line in lines if line.startswith("import "))
    froms: dict[str, set[str]] = {}
    for line in lines:
        if line.startswith("from "):
            module, _, names = line[5:].partition(" import ")
            froms.setdefault(module, set()).update(n.strip() for n in names.split(","))
    return plain + [f"from {m} import {', '.join(sorted(froms[m]))}" for m in sorted(froms)]
