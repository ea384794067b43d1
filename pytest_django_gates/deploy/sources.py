"""The project's own Python source, for the source-scanning deploy rules.

Scope: every ``*.py`` file under the Django project directory (the directory
the production settings package lives in), except

- hidden directories (``.git``, ``.venv``, ``.tox`` …) and ``__pycache__``;
- virtual environments (any directory holding ``pyvenv.cfg``), ``site-packages``,
  ``node_modules``, ``venv``, ``env``, ``build``, ``dist``;
- test code, which production never imports: ``tests`` directories and the files
  pytest and Django's runner collect (``test_*.py``, ``*_test.py``, ``tests.py``,
  ``conftest.py``);
- paths matching a ``deploy.exclude`` glob (project-relative, posix, ``fnmatch``;
  a glob matching a directory excludes everything under it).

Rules that must not look at migrations (raw SQL) skip files with a
``migrations`` directory in their path themselves: :meth:`ProjectSources.files`
with ``migrations=False``.
"""

from __future__ import annotations

import ast
import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SKIP_DIRS = frozenset(
    {"__pycache__", "site-packages", "node_modules", "venv", "env", "build", "dist"}
)
TEST_DIRS = frozenset({"tests"})


def is_test_file(name: str) -> bool:
    """A file name that pytest or Django's test runner collects as tests."""
    return (
        name in ("tests.py", "conftest.py")
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
    )


@dataclass(frozen=True)
class SourceFile:
    path: Path
    relpath: str  # relative to the project directory, posix
    tree: ast.Module

    @property
    def module(self) -> str:
        """Dotted module name relative to the project directory."""
        parts = self.relpath.removesuffix(".py").split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts)

    @property
    def in_migrations(self) -> bool:
        return "migrations" in self.relpath.split("/")[:-1]


@dataclass
class ProjectSources:
    """Lazily parsed project files; files that do not parse are listed in ``unparsable``."""

    project_dir: Path
    exclude: Sequence[str] = ()
    unparsable: list[tuple[Path, int | None, str]] = field(default_factory=list)
    _files: list[SourceFile] | None = field(default=None, repr=False)

    def _excluded(self, rel: str) -> bool:
        return any(
            fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern.rstrip("/") + "/*")
            for pattern in self.exclude
        )

    def paths(self) -> Iterator[Path]:
        root = self.project_dir
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            keep = []
            for name in sorted(dirnames):
                sub = here / name
                rel = sub.relative_to(root).as_posix()
                if (
                    name.startswith(".")
                    or name in SKIP_DIRS
                    or name in TEST_DIRS
                    or (sub / "pyvenv.cfg").exists()
                    or self._excluded(rel)
                ):
                    continue
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                if name.endswith(".py") and not is_test_file(name):
                    path = here / name
                    if not self._excluded(path.relative_to(root).as_posix()):
                        yield path

    def files(self, *, migrations: bool = True) -> list[SourceFile]:
        if self._files is None:
            self._files = []
            for path in self.paths():
                rel = path.relative_to(self.project_dir).as_posix()
                try:
                    text = path.read_bytes()
                    tree = ast.parse(text, filename=str(path))
                except SyntaxError as exc:
                    self.unparsable.append((path, exc.lineno, f"SyntaxError: {exc.msg}"))
                    continue
                except (OSError, ValueError) as exc:
                    self.unparsable.append((path, None, f"{type(exc).__name__}: {exc}"))
                    continue
                self._files.append(SourceFile(path, rel, tree))
        return [f for f in self._files if migrations or not f.in_migrations]


def qualname_at(tree: ast.Module, line: int) -> str:
    """The dotted name of the innermost function or class containing ``line``."""
    names: list[str] = []
    body: Sequence[ast.stmt] = tree.body
    while True:
        for node in body:
            if isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ) and node.lineno <= line <= (node.end_lineno or node.lineno):
                names.append(node.name)
                body = node.body
                break
        else:
            return ".".join(names)
