"""Check coverage floors: global, per Django app, per glob, on changed lines, and a ratchet.

Gate ``coverage`` (codes ``DJG4xx``, see :mod:`pytest_django_gates.coverage.codes`).

* Under ``pytest --django-gates`` it checks the session's coverage, once, on the
  controller, after pytest-cov has combined the data of every xdist worker
  (``GateContext.extra["coverage"]``, a
  :class:`~pytest_django_gates.coverage.pytest_support.SessionCoverage`; when
  that key is absent, it is worked out from ``extra["pytest_session"]``); it is
  ``skipped`` when coverage is not being measured.
* ``django-gates coverage [--data FILE...]`` checks existing data files,
  combined in memory (CI shards).

Every comparison is exact (integers and fractions); a figure is printed
truncated to two decimals, with the number of lines still needed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.coverage import baseline as baseline_mod
from pytest_django_gates.coverage import codes, data, patch
from pytest_django_gates.coverage.apps import AppIndex, load_apps
from pytest_django_gates.coverage.data import CoverageDataError, FileCoverage, Measurement
from pytest_django_gates.coverage.figures import check, format_ranges, line_ranges
from pytest_django_gates.coverage.floors import (
    Floors,
    evaluate_apps,
    evaluate_globs,
    evaluate_total,
    files_by_app,
    from_config,
    gap_text,
    glob_matches,
)
from pytest_django_gates.coverage.pytest_support import (
    EXTRA_KEY,
    SessionCoverage,
    session_coverage,
)
from pytest_django_gates.gates import GateContext
from pytest_django_gates.report import Finding, GateResult

NAME = codes.GATE

__all__ = ["EXTRA_KEY", "NAME", "add_arguments", "cli_overrides", "run"]


# --- command line ------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        nargs="+",
        action="extend",
        metavar="FILE",
        help="Coverage data files or directories (several CI shards are combined; "
        "default: the data_file of the coverage configuration, .coverage).",
    )
    parser.add_argument(
        "--since",
        metavar="REF",
        help="Check patch coverage of the lines changed since this git ref "
        "(default in CI: the pull request or merge group base).",
    )
    parser.add_argument(
        "--settings",
        metavar="MODULE",
        help="Django settings module, to find the apps (default: DJANGO_SETTINGS_MODULE, "
        "then pytest's configuration).",
    )
    parser.add_argument(
        "--pythonpath",
        action="append",
        metavar="DIR",
        help="Directory to put on sys.path when loading the settings (repeatable).",
    )
    for metric in ("line", "branch", "patch"):
        parser.add_argument(
            f"--{metric}",
            metavar="FLOOR",
            help=f"Override the {metric} floor (a percentage, or -N: at most N uncovered).",
        )
    parser.add_argument("--baseline", metavar="FILE", help="The per-app baseline (JSON) file.")
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        default=None,
        help="Raise the baseline to this data's figures (it is never lowered).",
    )
    parser.add_argument(
        "--lower-baseline",
        action="append",
        metavar="APP",
        help="Lower APP's baseline to this data's figures (needs --reason; repeatable).",
    )
    parser.add_argument(
        "--reason", metavar="TEXT", help="Why the baseline is lowered (recorded in the file)."
    )


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    lower = getattr(args, "lower_baseline", None)
    reason = getattr(args, "reason", None)
    if lower and not (reason and reason.strip()):
        raise ConfigError(
            "--lower-baseline needs --reason TEXT: say why coverage may go down "
            "(it is recorded in the baseline file)"
        )
    if reason is not None and not lower:
        raise ConfigError("--reason only goes with --lower-baseline APP")
    return {
        "coverage.data": getattr(args, "data", None),
        "coverage.since": getattr(args, "since", None),
        "coverage.settings": getattr(args, "settings", None),
        "coverage.pythonpath": getattr(args, "pythonpath", None),
        "coverage.line": getattr(args, "line", None),
        "coverage.branch": getattr(args, "branch", None),
        "coverage.patch": getattr(args, "patch", None),
        "coverage.baseline": getattr(args, "baseline", None),
        "coverage.update_baseline": getattr(args, "update_baseline", None),
        "coverage.lower_baseline": lower,
        "coverage.lower_reason": reason,
    }


# --- the gate ----------------------------------------------------------------------------


def run(ctx: GateContext) -> GateResult:
    cfg = ctx.config
    floors = from_config(cfg)
    lower_labels, reason = _lowering(cfg)
    baseline_path = _path(cfg, "coverage.baseline")
    update = bool(cfg["coverage.update_baseline"])
    if (update or lower_labels) and baseline_path is None:
        raise ConfigError(
            "--update-baseline / --lower-baseline need a baseline file: set baseline in "
            '[tool.django-gates.coverage] (e.g. baseline = "coverage-baseline.json") or '
            "pass --baseline FILE"
        )
    # A broken baseline is a usage error: find it before any (slow) measurement work.
    loaded = baseline_mod.load(baseline_path) if baseline_path is not None else None
    session: SessionCoverage | None = None
    if ctx.in_pytest:
        given = ctx.extra.get(EXTRA_KEY)
        if given is None and "pytest_session" in ctx.extra:
            given = session_coverage(ctx.extra["pytest_session"].config)
        session = given if isinstance(given, SessionCoverage) else None
        if session is None or not session.measured:
            why = session.reason if session else "coverage is not being measured (run with --cov)"
            return GateResult(name=NAME, status="skipped", summary=why)
        source = data.from_session(
            session.cov,
            session.workdir or ctx.rootdir,
            ctx.rootdir,
            "the coverage of this pytest session",
        )
    else:
        source = data.from_files(_data_paths(cfg), ctx.rootdir)
    try:
        with source as measurement:
            return _check(
                ctx,
                measurement,
                floors,
                session,
                (baseline_path, loaded),
                update,
                lower_labels,
                reason,
            )
    except CoverageDataError as exc:
        if ctx.in_pytest:  # the session produced it: the gate could not look
            return GateResult(name=NAME, status="error", summary=f"coverage data unusable: {exc}")
        raise


def _from_command_line(cfg: GatesConfig, key: str) -> bool:
    return cfg.source(key).startswith("command line")


def _path(cfg: GatesConfig, key: str) -> Path | None:
    """A path option: relative to the current directory when typed on the command line,
    else (configuration, environment) relative to the project root."""
    value = cfg[key]
    if value and _from_command_line(cfg, key):
        return Path(os.getcwd(), value)
    return cfg.path(key)


def _data_paths(cfg: GatesConfig) -> list[Path]:
    base = Path(os.getcwd()) if _from_command_line(cfg, "coverage.data") else cfg.base_dir
    return [base / p for p in cfg["coverage.data"]]


def _lowering(cfg: GatesConfig) -> tuple[list[str], str]:
    labels: list[str] = list(cfg["coverage.lower_baseline"] or [])
    reason: str = cfg["coverage.lower_reason"] or ""
    for key, value in (("coverage.lower_baseline", labels), ("coverage.lower_reason", reason)):
        if value and not _from_command_line(cfg, key):
            raise ConfigError(
                f"{key.split('.', 1)[1]} is set in {cfg.source(key)}, but lowering the coverage "
                "baseline is a command, not configuration: run django-gates coverage "
                "--lower-baseline APP --reason TEXT"
            )
    if labels and not reason.strip():
        raise ConfigError("--lower-baseline needs --reason TEXT")
    return labels, reason


def _check(
    ctx: GateContext,
    m: Measurement,
    floors: Floors,
    session: SessionCoverage | None,
    baseline: tuple[Path | None, baseline_mod.Baseline | None],
    update: bool,
    lower_labels: list[str],
    reason: str,
) -> GateResult:
    cfg = ctx.config
    baseline_path, loaded = baseline
    files = sorted(m.files.values(), key=lambda f: f.path)
    if floors.needs_branches and not m.has_branches:
        raise ConfigError(
            f"branch floors are configured, but {m.origin} has no branch measurement: "
            "measure with branch = true in [tool.coverage.run] (or pytest --cov-branch)"
        )
    findings: list[Finding] = []
    notes: list[str] = []
    crashed = False

    index: AppIndex | None = None
    if floors.apps or baseline_path is not None:
        index = load_apps(cfg, ctx.rootdir, in_pytest=ctx.in_pytest, environ=os.environ)
    by_app = files_by_app(files, index) if index else {}

    app_outcome = evaluate_apps(floors.apps, files, index) if index and floors.apps else None
    floored_apps = app_outcome.covered_by if app_outcome else set()
    glob_outcome = evaluate_globs(floors.globs, files)

    def owner(f: FileCoverage) -> str | None:
        if index is not None:
            app = index.app_of(f.abspath)
            if app is not None and app.label in floored_apps:
                return f"app {app.label}"
        for spec in floors.globs:
            if glob_matches(spec.key, f.path):
                return f"glob {spec.key}"
        return None

    total_outcome = evaluate_total(floors, files, owner)
    for outcome in (total_outcome, app_outcome, glob_outcome):
        if outcome is not None:
            findings.extend(outcome.findings)
            notes.extend(outcome.notes)

    since_source = patch.since_source(cfg.source("coverage.since"))
    base = patch.find_base(cfg["coverage.since"], since_source, os.environ)
    if base is not None:
        try:
            diff = patch.changed_lines(ctx.rootdir, base)
        except patch.PatchUnreachable as exc:
            crashed = True
            findings.append(
                Finding(
                    code=codes.PATCH_UNREACHABLE,
                    severity="error",
                    message=f"patch coverage cannot be computed: {exc}",
                    object="patch",
                    hint="in GitHub Actions: actions/checkout with fetch-depth: 0",
                )
            )
            notes.append("patch: base unreachable")
        else:
            finding, note = _patch(diff, m, floors)
            notes.append(note)
            if finding:
                findings.append(finding)
    elif floors.patch is not None:
        notes.append("patch floor not checked: no git base (pass --since REF)")

    if baseline_path is not None:
        assert index is not None
        b_findings, b_notes = _ratchet(
            ctx, baseline_path, loaded, index, by_app, m, update, lower_labels, reason
        )
        findings.extend(b_findings)
        notes.extend(b_notes)

    if session is not None and session.lost_workers:
        crashed = True
        findings.append(
            Finding(
                code=codes.WORKERS_LOST,
                severity="error",
                message=f"xdist workers {', '.join(session.lost_workers)} returned no coverage "
                "data, so every figure is incomplete",
                object="total",
                hint="install pytest-cov where the workers run, and check them for crashes",
            )
        )

    if not (floors.line or floors.branch or floors.apps or floors.globs or floors.patch) and (
        baseline_path is None
    ):
        notes.append("no floors configured")
    errors = sum(1 for f in findings if f.severity == "error")
    head = f"{errors} coverage check{'s' if errors != 1 else ''} failed: " if errors else ""
    summary = head + "; ".join(notes)
    result = GateResult.from_findings(NAME, findings, summary=summary)
    if crashed:
        return GateResult(name=NAME, status="error", summary=summary, findings=result.findings)
    return result


def _patch(diff: patch.Diff, m: Measurement, floors: Floors) -> tuple[Finding | None, str]:
    p = patch.patch_coverage(diff, m)
    since = f"since {diff.base.ref} (merge base {diff.merge_base[:12]})"
    extra = f"; {', '.join(diff.notes)}" if diff.notes else ""
    if p.figure.total == 0:
        return None, (
            f"patch: no coverable lines changed {since}, nothing to check "
            f"({p.changed_files} files changed){extra}"
        )
    note = f"patch {p.figure.text()} {since}{extra}"
    if floors.patch is None:
        return None, note
    verdict = check(p.figure, floors.patch)
    if verdict.ok:
        return None, note
    worst = sorted(
        (pf for pf in p.files if pf.uncovered), key=lambda pf: (-len(pf.uncovered), pf.file.path)
    )
    listing = [
        f"  {pf.file.path}: uncovered changed line{'s' if len(pf.uncovered) != 1 else ''} "
        f"{format_ranges(line_ranges(pf.coverable, pf.uncovered))}"
        for pf in worst[:10]
    ]
    if len(worst) > 10:
        listing.append(f"  (+{len(worst) - 10} more files)")
    finding = Finding(
        code=codes.PATCH_LINE,
        severity="error",
        message="\n".join(
            [
                f"line coverage of the {p.figure.total} coverable lines changed {since} is "
                f"{verdict.text}: {gap_text(verdict, 'line', 'the patch')}",
                *listing,
            ]
        ),
        object="patch",
        path=worst[0].file.path if worst else None,
        line=worst[0].uncovered[0] if worst else None,
        hint="add tests that run the changed lines listed, or change patch in "
        "[tool.django-gates.coverage]",
    )
    return finding, note


def _ratchet(
    ctx: GateContext,
    path: Path,
    baseline: baseline_mod.Baseline | None,
    index: AppIndex,
    by_app: dict[str, list[FileCoverage]],
    m: Measurement,
    update: bool,
    lower_labels: Sequence[str],
    reason: str,
) -> tuple[list[Finding], list[str]]:
    shown = data.relative_posix(str(path), ctx.rootdir)
    installed = set(index.labels())
    project = [a.label for a in index.project_apps()]
    current = baseline_mod.current_figures(by_app, project, m.has_branches)
    notes: list[str] = []
    write = False
    if lower_labels:
        if baseline is None:
            raise ConfigError(f"--lower-baseline: the baseline {shown} does not exist")
        baseline, changes = baseline_mod.lower(
            baseline,
            current,
            lower_labels,
            reason,
            by=baseline_mod.who(ctx.rootdir),
            at=baseline_mod.now_iso(),
        )
        notes.extend(changes)
        write = True
    if update:
        if not current:
            raise ConfigError(
                f"--update-baseline: no project app ({', '.join(project) or 'none'}) has "
                f"measured files in {m.origin}, so there is nothing to record"
            )
        created = baseline is None
        baseline, changes = baseline_mod.raise_to(
            baseline or baseline_mod.Baseline(), current, installed
        )
        if changes or created:
            write = True
            notes.append(f"baseline {'created' if created else 'raised'}: {', '.join(changes)}")
        else:
            notes.append("baseline already up to date")
    if write and baseline is not None:
        baseline_mod.save(path, baseline)
        notes.append(f"wrote {shown}")
    if baseline is None:
        return [
            Finding(
                code=codes.BASELINE_MISSING,
                severity="error",
                message=f"the coverage baseline {shown} does not exist, so the ratchet "
                "cannot be checked",
                object=shown,
                path=shown,
                hint="create it with django-gates coverage --update-baseline, and commit it",
            )
        ], notes
    findings, compare_notes = baseline_mod.compare(
        baseline, current, by_app, installed, m.has_branches
    )
    return findings, notes + compare_notes
