"""Fix what the query and migration gates report, and prove each fix (``django-gates fix``).

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

The query gate's N+1 findings take steps 1 and 4 the same way; where they come from,
how they are grouped and how a fix is proven: :mod:`pytest_django_gates.fix.queries`.

A proof runs the project's tests, which on a real suite takes minutes to an hour: each
step says what it is running on stderr as it starts (``django-gates fix: proving 12
fixes together, round 1: 40 tests without the gate, then under it``), unless
``--quiet``. The summary is printed once, at the end.

Exit status: 0 when no finding is left unfixed (``--dry-run``: when every finding
has a planned fix), 1 when some are left (no recipe, refused, or their proof failed),
2 for a usage or configuration error (a dirty tree included), 3 when the gate could
not run.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.fix import pinned
from pytest_django_gates.report import EXIT_ERROR, EXIT_FAILED, EXIT_PASSED, Finding

GATES = ("migrations", "queries")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "codes",
        nargs="*",
        metavar="CODE",
        help="Fix only findings with these codes (default: every code a recipe exists for).",
    )
    parser.add_argument(
        "--only",
        metavar="GATES",
        help="Comma-separated gates whose findings are fixed: migrations, queries (default: "
        "those of the two that are enabled).",
    )
    parser.add_argument(
        "--from-report",
        type=Path,
        metavar="PATH",
        help="The query gate's findings from this JSON report (django-gates run --report, "
        "pytest --gates-report) instead of a run of the whole suite under the gate.",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="Print the unified diff of the fixes and change nothing (the fixes are not proven).",
    )
    parser.add_argument(
        "--patch-only",
        type=Path,
        metavar="PATH",
        help="Prove the fixes, write their unified diff to PATH and put every file back as "
        "it was (CI: a proven fixes.patch, the checkout left untouched).",
    )
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="Edit files even though the git work tree has uncommitted changes.",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="Do not say on stderr what each step is running (the summary is printed still).",
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


class Progress:
    """Says on stderr what a long step is about to run (nothing with ``--quiet``)."""

    def __init__(self, err: IO[str] | None) -> None:
        self._err = err

    def __call__(self, text: str) -> None:
        if self._err is not None:
            self._err.write(f"django-gates fix: {text}\n")
            self._err.flush()


def _tests(count: int) -> str:
    return f"{count} test" + ("" if count == 1 else "s")


@dataclass
class Outcome:
    finding: Finding
    status: str  # "fixed", "planned", "not fixed"
    detail: str  # the change made, or why not
    files: tuple[Path, ...] = ()


def _selection(args: argparse.Namespace, cfg: GatesConfig) -> tuple[set[str], set[str]]:
    """(the gates whose findings are fixed, the codes fixed)."""
    from pytest_django_gates.fix.queries import FIXABLE
    from pytest_django_gates.fix.recipes import RECIPES

    if args.only is None:
        enabled = set(cfg["gates"])
        gates = {g for g in GATES if g in enabled}
        if not gates:
            raise ConfigError(
                "neither the migrations nor the queries gate is enabled ([tool.django-gates] "
                "gates): nothing to fix; pass --only migrations or --only queries"
            )
    else:
        gates = {g.strip() for g in str(args.only).split(",") if g.strip()}
        unknown = sorted(gates - set(GATES))
        if unknown or not gates:
            raise ConfigError(
                f"--only {args.only}: {', '.join(unknown) or 'no gate'} cannot be fixed; "
                f"choose from: {', '.join(GATES)}"
            )
    known = {**dict.fromkeys(RECIPES, "migrations"), **dict.fromkeys(FIXABLE, "queries")}
    offered = {code for code, gate in known.items() if gate in gates}
    codes = {c.upper() for c in args.codes}
    missing = sorted(codes - offered)
    if missing:
        raise ConfigError(
            f"no fix exists for {', '.join(missing)} (with --only {','.join(sorted(gates))}); "
            f"fixes exist for {', '.join(sorted(offered))}"
        )
    return gates, codes or offered


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
    gates, codes = _selection(args, cfg)
    if args.patch_only is not None and args.dry_run:
        raise ConfigError("--patch-only proves the fixes and --dry-run does not: choose one")
    if args.patch_only is not None and not args.patch_only.resolve().parent.is_dir():
        raise ConfigError(
            f"--patch-only {args.patch_only}: the directory {args.patch_only.parent} does not "
            "exist; create it first"
        )
    if not args.dry_run and not args.allow_dirty:
        _require_clean(root)
    workspace = Workspace(root.resolve(), dry_run=args.dry_run)
    progress = Progress(None if args.quiet else err)
    outcomes: list[Outcome] = []
    left: list[Finding] = []
    if "migrations" in gates:
        error = _fix_migrations(args, cfg, root, workspace, codes, outcomes, left, progress)
        if error is not None:
            print(f"django-gates fix: the migration gate could not run: {error}", file=err)
            return EXIT_ERROR
    if "queries" in gates:
        error = _fix_queries(args, cfg, root, workspace, codes, outcomes, left, progress)
        if error is not None:
            print(f"django-gates fix: the query gate could not run: {error}", file=err)
            return EXIT_ERROR
    _print_summary(outcomes, left, root, args.dry_run, err if args.dry_run else out)
    if args.dry_run:
        out.write(workspace.diff())
    elif args.patch_only is not None:
        from pytest_django_gates.report import atomic_write_text

        patch = workspace.diff()
        workspace.restore(dict(workspace.original))
        atomic_write_text(args.patch_only, patch)
        out.write(f"the fixes' diff: {args.patch_only} (git apply takes it); no file changed\n")
    unfixed = [o for o in outcomes if o.status == "not fixed"]
    return EXIT_FAILED if unfixed or left else EXIT_PASSED


def _fix_migrations(
    args: argparse.Namespace,
    cfg: GatesConfig,
    root: Path,
    workspace: Workspace,
    codes: set[str],
    outcomes: list[Outcome],
    left: list[Finding],
    progress: Progress,
) -> str | None:
    """Fix the migration gate's findings; the gate's error, or None."""
    from pytest_django_gates.fix import proof
    from pytest_django_gates.gitbase import BaseUnreachable
    from pytest_django_gates.migrations.project import resolve_project
    from pytest_django_gates.migrations.request import build_request

    try:
        request = build_request(cfg, root, in_pytest=False)
    except BaseUnreachable as exc:
        return str(exc)
    project = resolve_project(cfg, root, os.environ)
    target_project = proof.Project(
        root=root.resolve(),
        settings=project.settings,
        paths=tuple(str(p) for p in project.paths),
        request=request.to_json(),
        database=request.database,
    )
    progress("running the migration gate")
    before = proof.run_gate(target_project)
    if before.status == "error":
        return before.summary
    if request.mode == "since":
        new_files = {Path(p).resolve() for p in request.changed_files}
        new_why = f"it is not new since {request.mode_label}"
    else:
        new_files = _uncommitted(root)
        new_why = (
            "it is committed, and without --since nothing tells whether it has been deployed "
            "(a deployed migration is never edited): run with --since <base branch>"
        )
    fixer = _MigrationFixer(workspace, target_project, before, frozenset(new_files), progress)
    for finding in _in_order(before.findings):
        if finding.code not in codes:
            left.append(finding)
            continue
        path = (root / finding.path).resolve() if finding.path else None
        if path is None or finding.line is None:
            outcomes.append(Outcome(finding, "not fixed", "the finding names no file and line"))
        elif path not in new_files:
            outcomes.append(Outcome(finding, "not fixed", f"{_rel(path, root)}: {new_why}"))
        else:
            outcomes.append(fixer.fix(finding, path))
    return None


def _fix_queries(
    args: argparse.Namespace,
    cfg: GatesConfig,
    root: Path,
    workspace: Workspace,
    codes: set[str],
    outcomes: list[Outcome],
    left: list[Finding],
    progress: Progress,
) -> str | None:
    """Fix the query gate's N+1 findings, one queryset at a time; the gate's error, or None."""
    from pytest_django_gates.fix import queries
    from pytest_django_gates.fix.plan import NotFixable
    from pytest_django_gates.fix.recipes import djg101_related

    if args.from_report is None:
        progress("running the whole suite under the query gate to find what to fix")
    before = queries.findings(root, args.from_report)
    if before.status == "error":
        return before.summary
    groups: dict[tuple[Any, ...], list[Finding]] = {}
    plans: dict[tuple[Any, ...], djg101_related.Rows] = {}
    for finding in _in_order(before.findings):
        if finding.code not in codes:
            left.append(finding)
            continue
        try:
            rows = djg101_related.rows_of(finding.message, finding.hint)
            test_file = finding.object.partition("::")[0]
        except NotFixable as exc:
            outcomes.append(Outcome(finding, "not fixed", str(exc)))
            continue
        group = (rows.path, rows.line, rows.call)
        groups.setdefault(group, []).append(finding)
        rows = dataclasses.replace(rows, test_files=frozenset({test_file}))
        plans[group] = plans[group].joined(rows) if group in plans else rows
    planned: list[_QueryFix] = []
    for group, members in groups.items():
        rows = plans[group]
        path = (root / rows.path).resolve()
        if not _inside(path, workspace.root) or not path.is_file():
            outcomes += [
                Outcome(f, "not fixed", f"{rows.path} is not a file of the project")
                for f in members
            ]
            continue
        planned.append(_QueryFix(rows, path, members))
    planned = _locate_built(root, workspace, planned, cfg, outcomes, progress)
    if workspace.dry_run:
        for fix in planned:
            try:
                change = djg101_related.plan(fix.rows, fix.path, workspace.read)
            except NotFixable as exc:
                outcomes += [Outcome(f, "not fixed", str(exc)) for f in fix.members]
                continue
            workspace.stage(change)
            outcomes += [
                Outcome(f, "planned", change.summary, tuple(change.files)) for f in fix.members
            ]
        return None
    if planned:
        outcomes += _prove_query_fixes(root, workspace, planned, before, progress)
    return None


def _locate_built(
    root: Path,
    workspace: Workspace,
    planned: list[_QueryFix],
    cfg: GatesConfig,
    outcomes: list[Outcome],
    progress: Progress,
) -> list[_QueryFix]:
    """The fixes whose rows line holds no queryset (a template, a generic view or a form
    set evaluated it: the line is a middleware's or the view's) moved to the line of the
    code under test that built the queryset, found by running their tests once with
    :mod:`pytest_django_gates.fix.locate`; those that cannot be moved get their outcome."""
    from pytest_django_gates.fix import locate, queries
    from pytest_django_gates.fix.plan import NotFixable
    from pytest_django_gates.fix.recipes import djg101_related

    moving: list[_QueryFix] = []  # the rows line itself cannot be edited
    for fix in planned:
        if fix.rows.path in fix.rows.test_files:
            # Evaluated under the test's own line: a library's view the test requested,
            # or rows the test built (then located in the test file, and refused).
            moving.append(fix)
            continue
        try:
            djg101_related.plan(fix.rows, fix.path, workspace.read)
        except djg101_related.NoQuerysetThere:
            moving.append(fix)
        except NotFixable:
            pass
    if not moving:
        return planned
    targets = sorted({(f.rows.model, f.rows.path, f.rows.line) for f in moving})
    tests = sorted({t for fix in moving for t in queries.tests_of(fix.members)})
    where = f"to find where the rows of {len(moving)} fix(es) are built"
    progress(f"running {_tests(len(tests))} once more {where}")
    found = locate.locate(root, targets, tests, list(cfg["queries.ignore_callers"]))
    kept: list[_QueryFix] = []
    for fix in planned:
        if fix not in moving:
            kept.append(fix)
            continue
        # Each finding alone: findings grouped by a rows line that builds nothing (a
        # middleware's) may be rows of different views.
        for finding in fix.members:
            moved = _moved(root, workspace, fix.rows, finding, found)
            if isinstance(moved, _QueryFix):
                kept.append(moved)
            else:
                outcomes.append(Outcome(finding, "not fixed", moved))
    # Rows of several findings found built on one line are one fix (one edit, proven
    # with all their tests), as findings naming one rows line are.
    merged: dict[tuple[object, ...], _QueryFix] = {}
    for fix in kept:
        others = tuple((r.path, r.line, r.call) for r, _ in fix.places)
        place = (fix.rows.path, fix.rows.line, fix.rows.call, others)
        if place not in merged:
            merged[place] = fix
            continue
        known = merged[place]
        merged[place] = _QueryFix(
            known.rows.joined(fix.rows),
            known.path,
            [*known.members, *fix.members],
            origin=known.origin,
            places=known.places,
        )
    return list(merged.values())


def _moved(
    root: Path,
    workspace: Workspace,
    rows: Any,
    finding: Finding,
    found: dict[tuple[str, tuple[str, str, int]], set[Any]] | str,
) -> _QueryFix | str:
    """The fix of ``finding`` at the line that built its rows (``found``: what
    :func:`pytest_django_gates.fix.locate.locate` saw), or why not."""
    from pytest_django_gates.fix import queries
    from pytest_django_gates.fix.plan import NotFixable
    from pytest_django_gates.fix.recipes import djg101_related

    if isinstance(found, str):
        return (
            f"no {rows.model} queryset is written at {rows.path}:{rows.line}, and its tests "
            f"could not run to find where it is built: {found}"
        )
    target = (rows.model, rows.path, rows.line)
    builds = {b for test in queries.tests_of([finding]) for b in found.get((test, target), set())}
    places: list[tuple[Any, Path]] = []
    try:
        for built in djg101_related.built_at(rows, builds):
            path = (root / built.path).resolve()
            if not _inside(path, workspace.root) or not path.is_file():
                raise NotFixable(f"{built.path} is not a file of the project")
            djg101_related.plan(built, path, workspace.read)
            places.append((built, path))
    except NotFixable as exc:
        return str(exc)
    (first, path), *more = places
    return _QueryFix(first, path, [finding], origin=(rows.path, rows.line), places=more)


@dataclass
class _QueryFix:
    rows: Any  # djg101_related.Rows
    path: Path
    members: list[Finding]
    change: Any = None  # the Change staged last
    why: str | None = None  # why it is not kept
    # The rows line the findings name (the rows may have been moved to where they are
    # built): a finding the edit brings out on the same rows is one this fix can extend.
    origin: tuple[str, int] | None = None
    # Relations of the same rows added after the proof found them (see _extension).
    extra: list[Any] = field(default_factory=list)
    # Query counts pinned by its tests, lowered by the fix (pinned.CountEdit).
    counts: list[Any] = field(default_factory=list)
    # The other lines that built the same rows, each with the same call: (Rows, path).
    places: list[tuple[Any, Path]] = field(default_factory=list)
    # Findings its proof brought out that ran as often before it (kept with them).
    uncovered: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.origin is None:
            self.origin = (self.rows.path, self.rows.line)


# How many times a fix is extended with a relation its own proof brought out.
EXTEND_ROUNDS = 3


def _plan_fix(fix: _QueryFix, read: Callable[[Path], str]) -> Any:
    """The fix's change: its relation, then each extra one on the text it leaves."""
    from pytest_django_gates.fix.recipes import djg101_related

    change = djg101_related.plan(fix.rows, fix.path, read)
    files: dict[Path, str] = dict(change.files)

    def planned(path: Path) -> str:
        return files[path] if path in files else read(path)

    # The other places' lines are lines of the text before this fix: follow them
    # through the edits made before them (a view's new ``queryset =`` line).
    lines = _Lines()
    for path, text in change.files.items():
        lines.edited(path, read(path), text)
    for rows, path in fix.places:
        prior = planned(path)
        moved = dataclasses.replace(rows, line=lines.now(path, rows.line))
        other = djg101_related.plan(moved, path, planned)
        lines.edited(path, prior, other.files[path])
        files.update(other.files)
        change = dataclasses.replace(
            change, files=dict(files), summary=f"{change.summary}, and {other.summary}"
        )
    for more in fix.extra:
        files.update(djg101_related.plan(more, fix.path, planned).files)
        change = dataclasses.replace(
            change,
            files=dict(files),
            summary=f"{change.summary}, and {more.name} (its proof found it read per row too)",
        )
    for count in fix.counts:
        files[count.path] = pinned.plan(count, planned)
        change = dataclasses.replace(
            change, files=dict(files), summary=f"{change.summary}; {count.shown()}"
        )
    return change


def _counts(
    mine: Any, others: Sequence[Any], root: Path, read: Callable[[Path], str]
) -> list[Any] | str:
    """The pinned counts to lower when the fix's proof failed only because tests that pin
    a query count (its own, or a kept fix's that are its own too) now run fewer queries:
    a list of ``pinned.CountEdit``, empty when the failure is anything else, or the
    reason (a sentence) when those counts cannot be changed automatically."""
    from pytest_django_gates.fix.plan import NotFixable

    if not mine.counts:
        return []
    own = {count.test for count in mine.counts}
    for other in others:
        theirs = {count.test for count in other.counts}
        if other.why is not None and not other.uncovered and (not theirs or not theirs <= own):
            return []
    try:
        return pinned.edits(list(mine.counts), root, read)
    except NotFixable as exc:
        return str(exc)


def _extension(fix: _QueryFix, verdict: Any) -> list[Any]:
    """The relations to add when the fix's proof failed only because the gate now
    reports N+1s on the rows the fix is about: the same rows line, the hint a plain
    ``select_related`` / ``prefetch_related``. Rows of the same model: another relation
    of them (two relations to one table read in one statement: the finding named one,
    the edit uncovered the other). Rows of another model: the rows the fix itself now
    fetches in one batch (evaluated at the same line), whose own relation is read per
    row: the lookup goes through the fixed one (``prefetch_related("a__b")``, a
    ``select_related("a__b")`` when both are). Empty when the failure is anything else,
    and for a fix made at several lines (rows built at each); what is added is proven
    again like the rest."""
    from pytest_django_gates.fix.plan import NotFixable
    from pytest_django_gates.fix.recipes import djg101_related

    if verdict.why is None or not verdict.added or fix.places:
        return []
    known = {(r.method, r.name) for r in (fix.rows, *fix.extra)}
    more: list[Any] = []
    for finding in verdict.added:
        if finding.code != "DJG101":
            return []
        try:
            rows = djg101_related.rows_of(finding.message, finding.hint)
        except NotFixable:
            return []
        if (rows.path, rows.line) != fix.origin:
            return []
        method, name = rows.method, rows.name
        through = fix.rows.through
        if through is not None and rows.model == through[0]:
            # Another relation of the rows the fix reaches through related managers.
            method, name = "prefetch_related", f"{through[1]}__{rows.name}"
        elif rows.model != fix.rows.model:
            both = {fix.rows.method, rows.method} == {"select_related"}
            method = "select_related" if both else "prefetch_related"
            name = f"{fix.rows.name}__{rows.name}"
        if (method, name) not in known:
            known.add((method, name))
            more.append(dataclasses.replace(fix.rows, method=method, name=name))
    return more


def _stage_all(
    workspace: Workspace, fixes: Sequence[_QueryFix], start: dict[Path, bytes | None]
) -> list[_QueryFix]:
    """The files the query fixes touched back as they were before them (``start``, filled
    as they are first touched), then ``fixes`` planned and written one after another
    (each on the files the ones before it left); those that plan (the others get why)."""
    from pytest_django_gates.fix.plan import NotFixable

    workspace.restore(dict(start))
    staged: list[_QueryFix] = []
    # The lines the fixes name are lines of the files before any fix; an edit staged
    # before (a view's new ``queryset =`` line) moves the lines below it.
    lines = _Lines()
    for fix in fixes:
        now = lines.now  # where each of the fix's lines is after the fixes staged before it
        current = dataclasses.replace(
            fix,
            rows=dataclasses.replace(fix.rows, line=now(fix.path, fix.rows.line)),
            places=[(dataclasses.replace(r, line=now(p, r.line)), p) for r, p in fix.places],
            extra=[dataclasses.replace(e, line=now(fix.path, e.line)) for e in fix.extra],
        )
        try:
            fix.change = _plan_fix(current, workspace.read)
        except NotFixable as exc:
            fix.why = str(exc)
            continue
        before = {path: workspace.read(path) for path in fix.change.files if path.is_file()}
        for path, data in workspace.stage(fix.change).items():
            start.setdefault(path, data)
        for path, text in before.items():
            lines.edited(path, text, fix.change.files[path])
        staged.append(fix)
    return staged


class _Lines:
    """Lines of files as they were before the edits :meth:`edited` recorded, found in
    the text those edits left (:func:`_line_map`, one edit after another)."""

    def __init__(self) -> None:
        self._moves: dict[Path, list[Callable[[int], int]]] = {}

    def edited(self, path: Path, before: str, after: str) -> None:
        self._moves.setdefault(path, []).append(_line_map(before, after))

    def now(self, path: Path, line: int) -> int:
        for move in self._moves.get(path, []):
            line = move(line)
        return line


def _line_map(before: str, after: str) -> Callable[[int], int]:
    """Where each line of ``before`` is in ``after`` (an edited line stays in place;
    the lines after an inserted one move down)."""
    ops = difflib.SequenceMatcher(
        None, before.splitlines(), after.splitlines(), autojunk=False
    ).get_opcodes()

    def moved(line: int) -> int:
        index = line - 1
        for tag, i1, i2, j1, j2 in ops:
            if i1 <= index < i2:
                if tag == "equal":
                    return j1 + (index - i1) + 1
                return j1 + min(index - i1, max(j2 - j1 - 1, 0)) + 1
        return line

    return moved


def _prove_query_fixes(
    root: Path, workspace: Workspace, planned: list[_QueryFix], before: Any, progress: Progress
) -> list[Outcome]:
    """Fix and prove (see :mod:`pytest_django_gates.fix.queries`): tests that fail before
    any edit rule their findings out; then every fix at once, narrowed until a set is
    proven whole; then each one set aside, alone on top of that set."""
    from pytest_django_gates.fix import queries

    all_tests = sorted({t for fix in planned for t in queries.tests_of(fix.members)})
    if all_tests:
        progress(f"running the {_tests(len(all_tests))} of {len(planned)} fix(es) before any edit")
    first = queries.failures(root, all_tests) if all_tests else queries.Ran(set(), {}, {})
    # The statements each test ran before any edit: what an N+1 a fix brings out is
    # compared with (uncovered or caused, queries.judge).
    counted = first.statements if isinstance(first, queries.Ran) else {}
    ready: list[_QueryFix] = []
    for fix in planned:
        if isinstance(first, str):
            fix.why = f"its tests could not run before any edit: {first}"
        else:
            broken = sorted(first.failed & set(queries.tests_of(fix.members)))
            if broken:
                fix.why = f"its tests fail before any edit: FAILED {broken[0]}"
        if fix.why is None:
            ready.append(fix)
    kept: list[_QueryFix] = []
    aside: list[_QueryFix] = []
    start: dict[Path, bytes | None] = {}  # the files the query fixes touch, before them
    try:
        attempt = 0
        while ready:
            attempt += 1
            staged = _stage_all(workspace, ready, start)
            count = len({t for fix in staged for t in queries.tests_of(fix.members)})
            progress(
                f"proving {len(staged)} fix(es) together, round {attempt}: {_tests(count)} "
                "without the gate, then under it"
            )
            verdicts = queries.judge(root, [f.members for f in staged], before, counted)
            bad = [fix for fix, v in zip(staged, verdicts, strict=True) if v.why is not None]
            if not bad:
                kept = staged
                break
            aside += bad
            ready = [fix for fix in staged if fix not in bad]
        _stage_all(workspace, kept, start)
        for number, fix in enumerate(aside, 1):
            progress(
                f"trying fix {number} of {len(aside)} set aside on its own (with the "
                f"{len(kept)} proven): {fix.rows.path}:{fix.rows.line}"
            )
            # The fix as it was when all it brought out was uncovered, not caused: kept
            # if extending it with those relations fails (its extra, its counts, them).
            fallback: tuple[list[Any], list[Any], list[Finding]] | None = None
            for round_ in range(EXTEND_ROUNDS + 1):
                fix.why = None
                trial = _stage_all(workspace, [*kept, fix], start)
                if fix not in trial:
                    break
                # Its own proof, and the kept ones' again: an edit may break another's test.
                *others, mine = queries.judge(
                    root, [*(k.members for k in kept), fix.members], before, counted
                )
                # A kept fix's N+1s it uncovered (not caused) are no reason against this one.
                spoiled = next(
                    (o.why for o in others if o.why is not None and not o.uncovered), None
                )
                if mine.why is None and spoiled is None:
                    kept.append(fix)
                    break
                # A count its tests pin, lowered by the fix; else a relation it uncovered.
                counts = _counts(mine, others, root, workspace.read)
                more: list[Any] = []
                if not counts and spoiled is None:
                    more = _extension(fix, mine)
                if mine.uncovered and spoiled is None and not counts:
                    # Every N+1 it brings out ran as often before: kept as it is, unless
                    # those on its own rows can be added to it (tried next).
                    fallback = (list(fix.extra), list(fix.counts), list(mine.added))
                    if not more:
                        fix.uncovered = list(mine.added)
                        kept.append(fix)
                        break
                if isinstance(counts, str) or not (counts or more) or round_ == EXTEND_ROUNDS:
                    if fallback is not None:
                        fix.extra, fix.counts, fix.uncovered = fallback
                        kept.append(fix)
                        break
                    why = mine.why or spoiled
                    if isinstance(counts, str):
                        why = f"{why} ({counts})"
                    fix.why = f"{fix.change.summary}, reverted: {why}"
                    break
                fix.extra += more
                fix.counts += counts
        _stage_all(workspace, kept, start)
    except BaseException:
        workspace.restore(dict(start))
        raise
    outcomes: list[Outcome] = []
    for fix in planned:
        if fix in kept:
            tests = queries.tests_of(fix.members)
            proven = (
                f"proven: {len(tests)} test(s) pass, and the query gate no longer reports it "
                "in them nor anything new"
            )
            if fix.uncovered:
                shown = fix.uncovered[0].message.splitlines()[0]
                proven = (
                    f"proven: {len(tests)} test(s) pass, and the query gate no longer reports "
                    f"it in them; it now reports {len(fix.uncovered)} finding(s) in them that "
                    "the edit uncovered, not caused (each one's statement ran as often before "
                    f"it), fix them next: {shown}"
                )
            files = tuple(fix.change.files)
            outcomes += [
                Outcome(f, "fixed", f"{fix.change.summary}; {proven}", files) for f in fix.members
            ]
        else:
            outcomes += [Outcome(f, "not fixed", fix.why or "not proven") for f in fix.members]
    return outcomes


def _in_order(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.path or "", f.line or 0, f.code, f.object, f.message))


class Workspace:
    """The files the fixes touch: read through the planned texts (``--dry-run``), written
    atomically, restored byte for byte, and shown as one unified diff."""

    def __init__(self, root: Path, *, dry_run: bool) -> None:
        self.root = root
        self.dry_run = dry_run
        self.original: dict[Path, bytes | None] = {}  # as found before any fix (None: absent)
        self.current: dict[Path, str] = {}  # the planned texts (dry run)
        self.created: set[Path] = set()  # files the fixes kept (or planned) created

    def read(self, path: Path) -> str:
        if path in self.current:
            return self.current[path]
        return path.read_bytes().decode("utf-8")

    def stage(self, change: Any) -> dict[Path, bytes | None]:
        """Plan (dry run) or write ``change``; what to restore to undo it."""
        outside = [p for p in change.files if not _inside(p, self.root)]
        if outside:
            raise ConfigError(f"a fix would write {outside[0]}, outside the project")
        saved = {p: (p.read_bytes() if p.exists() else None) for p in change.files}
        for p, data in saved.items():
            self.original.setdefault(p, data)
        self.created.update(change.created)
        if self.dry_run:
            self.current.update(change.files)
            return saved
        from pytest_django_gates.report import atomic_write_text

        try:
            for p, text in sorted(change.files.items()):
                atomic_write_text(p, text)
        except BaseException:
            self.restore(saved)
            raise
        return saved

    def restore(self, saved: dict[Path, bytes | None]) -> None:
        from pytest_django_gates.report import atomic_write_bytes

        for p, data in saved.items():
            if data is None:
                p.unlink(missing_ok=True)
                self.created.discard(p)
            else:
                atomic_write_bytes(p, data)

    def diff(self) -> str:
        """The unified diff of every file a kept (or planned) fix changed, ``git apply``'s
        input: from the planned texts with ``--dry-run``, else from the files."""
        chunks: list[str] = []
        for p in sorted(self.original):
            before = self.original[p]
            if self.dry_run:
                text = self.current.get(p)
            else:
                text = p.read_bytes().decode("utf-8") if p.exists() else None
            if text is None:
                continue
            old = before.decode("utf-8").splitlines(keepends=True) if before is not None else []
            new = text.splitlines(keepends=True)
            if old == new:
                continue
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


class _MigrationFixer:
    """Plans, writes, proves and reverts the migration gate's findings, one at a time."""

    def __init__(
        self,
        workspace: Workspace,
        project: Any,
        before: Any,
        editable: frozenset[Path],
        progress: Progress,
    ) -> None:
        import django

        from pytest_django_gates.fix.plan import Context

        self.workspace = workspace
        self.project = project
        self.progress = progress
        self.before = before
        self.schema: dict[str, Any] | None = None
        self.schema_error: str | None = None  # why they did not apply before any edit
        from pytest_django_gates.fix import proof

        self.context = Context(
            root=workspace.root,
            django_version=(django.VERSION[0], django.VERSION[1]),
            created=workspace.created,
            sql_of=lambda app, name: proof.migration_sql(project, app, name),
            editable=editable,
        )

    def fix(self, finding: Finding, path: Path) -> Outcome:
        from pytest_django_gates.fix import proof
        from pytest_django_gates.fix.migration_files import MigrationSource
        from pytest_django_gates.fix.plan import NotFixable, Target
        from pytest_django_gates.fix.recipes import RECIPES
        from pytest_django_gates.fix.source_edit import EditError

        assert finding.line is not None
        ws = self.workspace
        try:
            first = ws.original.get(path)
            text = first.decode("utf-8") if first is not None else path.read_bytes().decode()
            segment = MigrationSource.read(path, text).at_line(finding.line).segment
            target = Target(
                finding.code, finding.object, finding.message, path, finding.line, segment
            )
            change = RECIPES[finding.code](target, self.context, ws.read)
        except (NotFixable, EditError) as exc:
            return Outcome(finding, "not fixed", str(exc))
        except (OSError, UnicodeDecodeError) as exc:
            return Outcome(finding, "not fixed", f"cannot read {path.name}: {exc}")
        files = tuple(sorted(change.files))
        if ws.dry_run:
            ws.stage(change)
            return Outcome(finding, "planned", change.summary, files)
        self.progress(f"proving {change.summary} ({finding.code} {finding.object})")
        if self.schema is None and self.schema_error is None:  # before any edit, once
            applied = proof.apply_migrations(self.project)
            self.schema = applied.schema
            self.schema_error = applied.why or ("" if applied.schema else "no schema")
        if self.schema is None:
            return Outcome(
                finding,
                "not fixed",
                f"{change.summary}, not tried: the migrations do not apply before the "
                f"edit: {self.schema_error}",
            )
        saved = ws.stage(change)
        applied = proof.Applied(None)
        try:
            after = proof.run_gate(self.project)
            why = proof.judge_gate(self.before, after, proof.key(finding))
            if why is None:
                applied = proof.apply_migrations(self.project)
                why = applied.why
            if why is None and applied.schema is not None:
                why = proof.judge_schema(self.schema, applied.schema, change.schema_may_differ)
        except BaseException:
            ws.restore(saved)
            raise
        if why is not None:
            ws.restore(saved)
            return Outcome(finding, "not fixed", f"{change.summary}, reverted: {why}")
        self.before = after
        self.schema = applied.schema
        proven = (
            "proven: the migration gate no longer reports it and reports nothing new; "
            f"every migration applied to a new {applied.vendor or 'test'} database, which "
            "ends with the same columns, indexes and constraints"
            + (" (bar column defaults)" if change.schema_may_differ else "")
        )
        return Outcome(finding, "fixed", f"{change.summary}; {proven}", files)


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
