"""Fix what the migration gate reports, and prove each fix (``django-gates fix``).

Steps, in this order:

1. Unless ``--dry-run`` or ``--allow-dirty``: the git work tree must be clean
   (``git status --porcelain`` prints nothing, untracked files included), so that
   ``git diff`` shows the fixes alone and ``git checkout`` undoes them; outside a git
   work tree the command refuses too.
2. The migration gate runs, in a fresh interpreter, with the selection
   ``django-gates migrations`` would use (``--since``, ``--all``, the configuration,
   ``GITHUB_BASE_REF`` in a pull request).
3. Each finding with a recipe (:mod:`pytest_django_gates.fix.recipes`), in file and
   line order, is planned on the files as they are then. A migration is edited only
   when it is new: added since the ``--since`` base, or, without one, not committed
   yet (untracked or only staged). A migration that has been deployed is history:
   editing it changes nothing in production, so it is never touched.
4. Without ``--dry-run`` the edit is written (each file atomically, only inside the
   project) and proven (:mod:`pytest_django_gates.fix.proof`); a fix whose proof fails
   is reverted byte for byte and reported as not fixed, with why.
   With ``--dry-run`` nothing is written and nothing is proven: the unified diff of
   every planned fix goes to stdout (``git apply`` takes it), the summary to stderr.

Exit status: 0 when no finding is left unfixed (``--dry-run``: when every finding
has a planned fix), 1 when some are left (no recipe, refused, or their proof failed),
2 for a usage or configuration error (a dirty tree included), 3 when the gate could
not run.
"""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.report import EXIT_ERROR, EXIT_FAILED, EXIT_PASSED, Finding

GATES = ("migrations",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "codes",
        nargs="*",
        metavar="CODE",
        help="Fix only findings with these codes (default: every code a recipe exists for).",
    )
    parser.add_argument(
        "--only",
        default="migrations",
        metavar="GATES",
        help="Comma-separated gates whose findings are fixed (default and only choice: "
        "migrations).",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="Print the unified diff of the fixes and change nothing (the fixes are not proven).",
    )
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="Edit files even though the git work tree has uncommitted changes.",
    )
    parser.add_argument("--settings", metavar="MODULE", help="Django settings module.")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--since",
        metavar="REF",
        help="Fix the migrations added since the merge-base with REF (the base branch).",
    )
    which.add_argument(
        "--all",
        action="store_true",
        default=None,
        help="Look at every migration (only uncommitted ones are edited).",
    )
    parser.add_argument("--database", metavar="ALIAS", help="Database alias (default: default).")
    parser.add_argument(
        "--backend",
        choices=("auto", "postgresql"),
        help="Apply the PostgreSQL rules even when the settings use another database.",
    )
    parser.add_argument("--baseline", metavar="PATH", help="Baseline file of accepted migrations.")


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "migrations.settings": args.settings,
        "migrations.since": args.since,
        "migrations.all": args.all,
        "migrations.database": args.database,
        "migrations.backend": args.backend,
        "migrations.baseline": str(Path(args.baseline).resolve()) if args.baseline else None,
    }


@dataclass
class Outcome:
    finding: Finding
    status: str  # "fixed", "planned", "not fixed"
    detail: str  # the change made, or why not
    files: tuple[Path, ...] = ()


def _codes(args: argparse.Namespace) -> set[str]:
    from pytest_django_gates.fix.recipes import RECIPES

    gates = {g.strip() for g in str(args.only).split(",") if g.strip()}
    unknown = sorted(gates - set(GATES))
    if unknown:
        raise ConfigError(
            f"--only {args.only}: {', '.join(unknown)} cannot be fixed by this version; "
            f"choose from: {', '.join(GATES)}"
        )
    codes = {c.upper() for c in args.codes}
    missing = sorted(codes - set(RECIPES))
    if missing:
        raise ConfigError(
            f"no fix exists for {', '.join(missing)}; fixes exist for {', '.join(sorted(RECIPES))}"
        )
    return codes or set(RECIPES)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def _require_clean(root: Path) -> None:
    status = _git(root, "status", "--porcelain")
    if status.returncode != 0:
        raise ConfigError(
            f"{root} is not a git work tree: nothing could undo the fixes; pass --allow-dirty "
            "to edit anyway, or --dry-run to see them"
        )
    dirty = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise ConfigError(
            f"the git work tree has uncommitted changes ({shown}): commit or stash them so "
            "that the fixes can be reviewed and undone alone, or pass --allow-dirty"
        )


def _uncommitted(root: Path) -> set[Path]:
    """Files git does not have at HEAD: untracked, or added to the index only."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        return set()
    toplevel = Path(top.stdout.strip())
    names = _git(root, "ls-files", "--others", "--exclude-standard", "--full-name").stdout.split(
        "\n"
    )
    names += _git(root, "diff", "--cached", "--name-only", "--diff-filter=A").stdout.split("\n")
    return {(toplevel / n).resolve() for n in names if n.strip()}


def run(args: argparse.Namespace, cfg: GatesConfig, root: Path, out: IO[str], err: IO[str]) -> int:
    codes = _codes(args)
    if not args.dry_run and not args.allow_dirty:
        _require_clean(root)
    from pytest_django_gates.fix import proof
    from pytest_django_gates.gitbase import BaseUnreachable
    from pytest_django_gates.migrations.project import resolve_project
    from pytest_django_gates.migrations.request import build_request

    try:
        request = build_request(cfg, root, in_pytest=False)
    except BaseUnreachable as exc:
        print(f"django-gates fix: the migration gate could not run: {exc}", file=err)
        return EXIT_ERROR
    project = resolve_project(cfg, root, os.environ)
    target_project = proof.Project(
        root=root.resolve(),
        settings=project.settings,
        paths=tuple(str(p) for p in project.paths),
        request=request.to_json(),
        database=request.database,
    )
    before = proof.run_gate(target_project)
    if before.status == "error":
        print(f"django-gates fix: the migration gate could not run: {before.summary}", file=err)
        return EXIT_ERROR
    if request.mode == "since":
        new_files = {Path(p).resolve() for p in request.changed_files}
        new_why = f"it is not new since {request.mode_label}"
    else:
        new_files = _uncommitted(root)
        new_why = (
            "it is committed, and without --since nothing tells whether it has been deployed "
            "(a deployed migration is never edited): run with --since <base branch>"
        )
    fixer = _Fixer(root.resolve(), target_project, before, dry_run=args.dry_run)
    outcomes: list[Outcome] = []
    findings = sorted(before.findings, key=lambda f: (f.path or "", f.line or 0, f.code, f.message))
    for finding in findings:
        if finding.code not in codes:
            continue
        path = (root / finding.path).resolve() if finding.path else None
        if path is None or finding.line is None:
            outcomes.append(Outcome(finding, "not fixed", "the finding names no file and line"))
        elif path not in new_files:
            outcomes.append(Outcome(finding, "not fixed", f"{_rel(path, root)}: {new_why}"))
        else:
            outcomes.append(fixer.fix(finding, path))
    left = [f for f in before.findings if f.code not in codes]
    _print_summary(outcomes, left, root, args.dry_run, err if args.dry_run else out)
    if args.dry_run:
        out.write(fixer.diff())
    unfixed = [o for o in outcomes if o.status == "not fixed"]
    return EXIT_FAILED if unfixed or left else EXIT_PASSED


class _Fixer:
    """Plans, writes, proves and reverts, one finding at a time."""

    def __init__(self, root: Path, project: Any, before: Any, *, dry_run: bool) -> None:
        import django

        from pytest_django_gates.fix.plan import Context

        self.root = root
        self.project = project
        self.before = before
        self.dry_run = dry_run
        self.context = Context(root=root, django_version=(django.VERSION[0], django.VERSION[1]))
        self.original: dict[Path, bytes | None] = {}  # as found before any fix (None: absent)
        self.current: dict[Path, str] = {}  # dry run: the planned texts

    def read(self, path: Path) -> str:
        if path in self.current:
            return self.current[path]
        return path.read_bytes().decode("utf-8")

    def fix(self, finding: Finding, path: Path) -> Outcome:
        from pytest_django_gates.fix import proof
        from pytest_django_gates.fix.migration_files import MigrationSource
        from pytest_django_gates.fix.plan import NotFixable, Target
        from pytest_django_gates.fix.recipes import RECIPES
        from pytest_django_gates.fix.source_edit import EditError

        assert finding.line is not None
        try:
            first = self.original.get(path)
            text = first.decode("utf-8") if first is not None else path.read_bytes().decode("utf-8")
            segment = MigrationSource.read(path, text).at_line(finding.line).segment
            target = Target(
                finding.code, finding.object, finding.message, path, finding.line, segment
            )
            change = RECIPES[finding.code](target, self.context, self.read)
        except (NotFixable, EditError) as exc:
            return Outcome(finding, "not fixed", str(exc))
        except (OSError, UnicodeDecodeError) as exc:
            return Outcome(finding, "not fixed", f"cannot read {path.name}: {exc}")
        outside = [p for p in change.files if not _inside(p, self.root)]
        if outside:
            return Outcome(
                finding, "not fixed", f"the fix would edit {outside[0]}, outside the project"
            )
        files = tuple(sorted(change.files))
        if self.dry_run:
            for p, new in change.files.items():
                self.original.setdefault(p, p.read_bytes() if p.exists() else None)
                self.current[p] = new
            self.context.created.update(change.created)
            return Outcome(finding, "planned", change.summary, files)
        saved = {p: (p.read_bytes() if p.exists() else None) for p in change.files}
        for p, data in saved.items():
            self.original.setdefault(p, data)
        try:
            self._write(change.files)
            after = proof.run_gate(self.project)
            why = proof.judge_gate(self.before, after, proof.key(finding))
            vendor = ""
            if why is None:
                why, vendor = proof.apply_migrations(self.project)
        except BaseException:
            self._restore(saved)
            raise
        if why is not None:
            self._restore(saved)
            return Outcome(finding, "not fixed", f"{change.summary}, reverted: {why}")
        self.before = after
        self.context.created.update(change.created)
        proven = (
            "proven: the migration gate no longer reports it and reports nothing new; "
            f"every migration applied to a new {vendor or 'test'} database"
        )
        return Outcome(finding, "fixed", f"{change.summary}; {proven}", files)

    def _write(self, files: dict[Path, str]) -> None:
        from pytest_django_gates.report import atomic_write_text

        for p, text in sorted(files.items()):
            atomic_write_text(p, text)

    def _restore(self, saved: dict[Path, bytes | None]) -> None:
        from pytest_django_gates.report import atomic_write_bytes

        for p, data in saved.items():
            if data is None:
                p.unlink(missing_ok=True)
            else:
                atomic_write_bytes(p, data)

    def diff(self) -> str:
        chunks: list[str] = []
        for p in sorted(self.current):
            before = self.original.get(p)
            old = before.decode("utf-8").splitlines(keepends=True) if before is not None else []
            new = self.current[p].splitlines(keepends=True)
            name = _rel(p, self.root)
            chunks.extend(
                difflib.unified_diff(
                    old,
                    new,
                    fromfile=f"a/{name}" if before is not None else "/dev/null",
                    tofile=f"b/{name}",
                )
            )
        return "".join(chunks)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _print_summary(
    outcomes: Sequence[Outcome], left: Sequence[Finding], root: Path, dry_run: bool, out: IO[str]
) -> None:
    fixed = sum(o.status in ("fixed", "planned") for o in outcomes)
    verb = "planned (not proven: --dry-run)" if dry_run else "fixed and proven"
    out.write(
        f"django-gates fix: {len(outcomes)} finding(s) with a recipe, {fixed} {verb}, "
        f"{len(outcomes) - fixed} not fixed; {len(left)} other finding(s) have no recipe\n"
    )
    for o in outcomes:
        f = o.finding
        where = f"{f.path}:{f.line}" if f.path else f.object
        out.write(f"  {o.status:<9} {f.code} {f.object} ({where}): {o.detail}\n")
        if o.status == "not fixed" and f.hint:
            out.write(f"            hint: {f.hint}\n")
    for f in left:
        where = f"{f.path}:{f.line}" if f.path and f.line else (f.path or f.object)
        out.write(f"  no recipe {f.code} {f.object} ({where}): {f.message}\n")
    changed = sorted({p for o in outcomes if o.status in ("fixed", "planned") for p in o.files})
    if changed:
        out.write("files " + ("to change" if dry_run else "changed") + ": ")
        out.write(", ".join(_rel(p, root) for p in changed) + "\n")
