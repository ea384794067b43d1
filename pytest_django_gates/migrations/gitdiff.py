"""``--since REF``: the files added since the merge-base of REF and HEAD.

Added files are those ``git diff --diff-filter=A <merge-base>`` reports (tracked
changes, committed or not) plus untracked files that are not ignored, so a
migration just generated is checked before it is committed. Renames count as
additions (``--no-renames``). The merge base is found as every gate finds it
(:mod:`pytest_django_gates.gitbase`): a base missing from a CI clone is fetched, a
shallow clone deepened. A ref that does not exist anywhere, or no git repository, is
a :class:`ConfigError` (exit 2); a merge base that deepening did not reach is
:class:`~pytest_django_gates.gitbase.BaseUnreachable` (the gate could not look: exit
3), naming ``fetch-depth: 0``.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pytest_django_gates.config import ConfigError


@dataclass(frozen=True)
class Since:
    ref: str
    merge_base: str
    toplevel: Path
    added: tuple[Path, ...]

    @property
    def label(self) -> str:
        return f"added since {self.ref} (merge-base {self.merge_base[:10]})"


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise ConfigError("--since needs git, and git is not on PATH")
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return subprocess.run(
        [git, *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )


def in_git_work_tree(root: Path) -> bool:
    if shutil.which("git") is None:
        return False
    proc = _git(["rev-parse", "--is-inside-work-tree"], root)
    return proc.returncode == 0 and proc.stdout.strip() == "true"


def added_since(root: Path, ref: str, source: str = "--since") -> Since:
    """The migrations added since ``ref``; ``source`` says where the base came from (for
    the errors: ``--since``, the pull request's base ...)."""
    top = _git(["rev-parse", "--show-toplevel"], root)
    if top.returncode != 0:
        raise ConfigError(
            f"--since {ref}: {root} is not inside a git repository "
            f"({top.stderr.strip() or 'git rev-parse failed'}); use --all or --unapplied"
        )
    from pytest_django_gates import gitbase

    try:
        found = gitbase.resolve(root, gitbase.Base(ref, source), "the migration gate")
    except ConfigError as exc:
        raise ConfigError(f"--since {ref}: {exc}") from None
    except gitbase.BaseUnreachable as exc:
        raise gitbase.BaseUnreachable(f"--since {ref}: {exc}") from None
    toplevel, merge_base = found.top, found.merge_base
    diff = _git(
        ["diff", "--name-only", "--no-renames", "--diff-filter=A", "-z", merge_base, "--"],
        toplevel,
    )
    if diff.returncode != 0:
        raise ConfigError(f"--since {ref}: git diff failed: {diff.stderr.strip()}")
    untracked = _git(["ls-files", "--others", "--exclude-standard", "--full-name", "-z"], toplevel)
    names = [n for n in diff.stdout.split("\0") if n]
    if untracked.returncode == 0:
        names.extend(n for n in untracked.stdout.split("\0") if n)
    added = tuple(sorted({(toplevel / name).resolve() for name in names if name.endswith(".py")}))
    return Since(ref=ref, merge_base=merge_base, toplevel=toplevel, added=added)


def _operations_dump(source: str) -> str | None:
    """The ``operations`` (and ``atomic``) of the ``Migration`` class, formatting and
    comments left out; None when the file has no such class or does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            parts = []
            for stmt in node.body:
                if isinstance(stmt, ast.Assign):
                    targets, value = stmt.targets, stmt.value
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    targets, value = [stmt.target], stmt.value
                else:
                    continue
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                if names & {"operations", "atomic"}:
                    parts.append(f"{sorted(names)}={ast.dump(value)}")
            return "\n".join(parts)
    return None


def edited_since(since: Since) -> tuple[Path, ...]:
    """Migration files that exist at the merge base and whose operations changed since.

    A file under a ``migrations`` directory, modified (not added) since the merge base,
    whose ``Migration.operations`` or ``atomic`` differ as code: a reformat, a comment
    or a new docstring is no edit.
    """
    diff = _git(
        ["diff", "--name-only", "--no-renames", "--diff-filter=M", "-z", since.merge_base, "--"],
        since.toplevel,
    )
    if diff.returncode != 0:
        raise ConfigError(f"--since {since.ref}: git diff failed: {diff.stderr.strip()}")
    edited: list[Path] = []
    for name in (n for n in diff.stdout.split("\0") if n):
        path = since.toplevel / name
        if not name.endswith(".py") or "migrations" not in Path(name).parts[:-1]:
            continue
        if path.name == "__init__.py" or not path.is_file():
            continue
        old = _git(["show", f"{since.merge_base}:{name}"], since.toplevel)
        if old.returncode != 0:
            continue
        before = _operations_dump(old.stdout)
        after = _operations_dump(path.read_text(encoding="utf-8"))
        if before is not None and before != after:
            edited.append(path.resolve())
    return tuple(sorted(edited))
