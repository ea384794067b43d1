"""Floors: their configuration (validated in the option catalogue) and their evaluation.

TOML shape (see the readme)::

    [tool.django-gates.coverage]
    line = 85        # global line floor (percent), or -N: at most N uncovered lines
    branch = 70      # global branch floor
    patch = 90       # floor of the lines changed since the git base

    [[tool.django-gates.coverage.apps]]
    app = "orders"   # a Django app label, or "*" for every project app on its own
    line = 90
    branch = 80

    [[tool.django-gates.coverage.paths]]
    glob = "apps/*/services.py"   # relative to the project root; ** spans directories
    line = 100                    # every matching file on its own

An app floor combines all of the app's measured files; a glob floor applies to
each matching file on its own. A key that matches nothing is a
:class:`ConfigError`. The global floors cover every measured file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.coverage import codes
from pytest_django_gates.coverage.apps import AppIndex
from pytest_django_gates.coverage.data import FileCoverage
from pytest_django_gates.coverage.figures import (
    Figure,
    Floor,
    Unit,
    Verdict,
    check,
    format_arcs,
    format_ranges,
    line_ranges,
    total,
)
from pytest_django_gates.report import Finding

ALL_APPS = "*"
LIST_FILES = 10


# --- configuration -----------------------------------------------------------------------


def validate_floor(value: Any, where: str) -> Any:
    """Option validator of a single floor number (``coverage.line`` and friends)."""
    if value is None:
        return value
    try:
        Floor.parse(value, where)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return value


def _validate_entries(
    value: list[dict[str, Any]], where: str, key: str, describe: str
) -> list[dict[str, Any]]:
    allowed = {key, "line", "branch", "reason"}
    seen: set[str] = set()
    for i, entry in enumerate(value):
        here = f"{where}[{i}]"
        unknown = set(entry) - allowed
        if unknown:
            raise ConfigError(
                f"{here}: unknown key(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        name = entry.get(key)
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{here}: '{key}' is required: {describe}")
        if name in seen:
            raise ConfigError(f"{here}: {key} {name!r} has two floors; keep one entry per {key}")
        seen.add(name)
        if "line" not in entry and "branch" not in entry:
            raise ConfigError(f"{here}: give 'line' and/or 'branch' (a percentage or -N)")
        for metric in ("line", "branch"):
            if metric in entry:
                try:
                    Floor.parse(entry[metric], f"{here}.{metric}")
                except ValueError as exc:
                    raise ConfigError(str(exc)) from None
        if "reason" in entry and not isinstance(entry["reason"], str):
            raise ConfigError(f"{here}.reason: expected a string, got {entry['reason']!r}")
        if key == "glob":
            _check_glob(name, f"{here}.glob")
    return value


def validate_app_floors(value: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    return _validate_entries(
        value, where, "app", 'a Django app label such as "orders", or "*" for every project app'
    )


def validate_path_floors(value: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    return _validate_entries(
        value, where, "glob", 'a glob relative to the project root, such as "apps/*/services.py"'
    )


@dataclass(frozen=True)
class FloorSpec:
    """One configured app or glob floor."""

    kind: Literal["app", "glob"]
    key: str
    line: Floor | None
    branch: Floor | None


@dataclass(frozen=True)
class Floors:
    line: Floor | None
    branch: Floor | None
    patch: Floor | None
    apps: tuple[FloorSpec, ...]
    globs: tuple[FloorSpec, ...]

    @property
    def needs_branches(self) -> bool:
        return self.branch is not None or any(s.branch for s in (*self.apps, *self.globs))


def from_config(cfg: GatesConfig) -> Floors:
    def one(key: str) -> Floor | None:
        value = cfg[key]
        return None if value is None else Floor.parse(value, key)

    def specs(key: str, kind: Literal["app", "glob"]) -> tuple[FloorSpec, ...]:
        return tuple(
            FloorSpec(
                kind=kind,
                key=entry[kind],
                line=Floor.parse(entry["line"]) if "line" in entry else None,
                branch=Floor.parse(entry["branch"]) if "branch" in entry else None,
            )
            for entry in cfg[key]
        )

    return Floors(
        line=one("coverage.line"),
        branch=one("coverage.branch"),
        patch=one("coverage.patch"),
        apps=specs("coverage.apps", "app"),
        globs=specs("coverage.paths", "glob"),
    )


# --- globs -------------------------------------------------------------------------------


def _check_glob(pattern: str, where: str) -> None:
    if pattern.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", pattern):
        raise ConfigError(f"{where}: {pattern!r} must be relative to the project root")
    if "\\" in pattern:
        raise ConfigError(f"{where}: {pattern!r}: use / as the path separator")
    try:
        compile_glob(pattern)
    except re.error as exc:
        raise ConfigError(f"{where}: {pattern!r} is not a valid glob ({exc})") from None


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A glob over posix paths relative to the project root.

    ``*`` and ``?`` stay inside one directory, ``**`` spans directories
    (``**/`` also matches no directory at all), ``[abc]`` is a character class.
    The whole path must match.
    """
    if pattern.startswith("./"):
        pattern = pattern[2:]
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_matches(pattern: str, path: str) -> bool:
    return compile_glob(pattern).match(path) is not None


# --- evaluation --------------------------------------------------------------------------


def _units(n: int, unit: Unit) -> str:
    return (
        ("line" if n == 1 else "lines") if unit == "line" else ("branch" if n == 1 else "branches")
    )


def gap_text(verdict: Verdict, unit: Unit, where: str) -> str:
    """``3 more lines needed in orders``."""
    return f"{verdict.needed} more {_units(verdict.needed, unit)} needed in {where}"


def _file_figure(f: FileCoverage, unit: Unit) -> Figure:
    return f.lines if unit == "line" else f.branches


def _file_gaps(f: FileCoverage, unit: Unit) -> str:
    if unit == "line":
        return format_ranges(line_ranges(f.statements, f.missing_lines))
    return format_arcs(f.missing_arcs)


def first_gap(f: FileCoverage, unit: Unit) -> int | None:
    if unit == "line":
        return f.missing_lines[0] if f.missing_lines else None
    return min((a for a, _ in f.missing_arcs), default=None)


def worst_first(files: Iterable[FileCoverage], unit: Unit) -> list[FileCoverage]:
    """Files with something uncovered, the most uncovered first (then by path)."""
    hit = [f for f in files if _file_figure(f, unit).missing]
    return sorted(hit, key=lambda f: (-_file_figure(f, unit).missing, f.path))


def uncovered_listing(
    files: Sequence[FileCoverage],
    unit: Unit,
    owner: Callable[[FileCoverage], str | None] | None = None,
) -> list[str]:
    """One line per file with gaps, most uncovered first, at most ``LIST_FILES``."""
    ordered = worst_first(files, unit)
    lines = []
    for f in ordered[:LIST_FILES]:
        one = _file_figure(f, unit).missing == 1
        label = (
            f"uncovered {_units(1 if one else 2, 'line')}"
            if unit == "line"
            else ("missing branch" if one else "missing branches")
        )
        tag = owner(f) if owner else None
        lines.append(f"  {f.path}: {label} {_file_gaps(f, unit)}" + (f" [{tag}]" if tag else ""))
    if len(ordered) > LIST_FILES:
        lines.append(f"  (+{len(ordered) - LIST_FILES} more files)")
    return lines


def floor_finding(
    *,
    code: str,
    obj: str,
    what: str,
    figure: Figure,
    floor: Floor,
    files: Sequence[FileCoverage],
    hint: str,
    owner: Callable[[FileCoverage], str | None] | None = None,
) -> Finding | None:
    """None when ``figure`` meets ``floor``, else an error finding pointing at the gaps."""
    verdict = check(figure, floor)
    if verdict.ok:
        return None
    unit = figure.unit
    ordered = worst_first(files, unit)
    first = ordered[0] if ordered else None
    message = "\n".join(
        [
            f"{unit} coverage of {what} is {verdict.text}: {gap_text(verdict, unit, obj)}",
            *uncovered_listing(files, unit, owner),
        ]
    )
    return Finding(
        code=code,
        severity="error",
        message=message,
        object=obj,
        path=first.path if first else None,
        line=first_gap(first, unit) if first else None,
        hint=hint,
    )


@dataclass
class Outcome:
    """Findings plus one short summary phrase per floor family.

    ``covered_by`` names the app labels (or globs) the floors applied to.
    """

    findings: list[Finding]
    notes: list[str]
    covered_by: set[str] = field(default_factory=set)


def evaluate_total(
    floors: Floors, files: Sequence[FileCoverage], owner: Callable[[FileCoverage], str | None]
) -> Outcome:
    out = Outcome([], [])
    line = total((f.lines for f in files), "line")
    branch = total((f.branches for f in files), "branch")
    for unit, figure, floor, code in (
        ("line", line, floors.line, codes.TOTAL_LINE),
        ("branch", branch, floors.branch, codes.TOTAL_BRANCH),
    ):
        if floor is None:
            continue
        finding = floor_finding(
            code=code,
            obj="total",
            what=f"all {len(files)} measured files",
            figure=figure,
            floor=floor,
            files=files,
            hint=f"cover the listed {'lines' if unit == 'line' else 'branches'}, or change "
            f"{unit} in [tool.django-gates.coverage]",
            owner=owner,
        )
        if finding:
            out.findings.append(finding)
    out.notes.append(
        f"total {line.text()}" + (f", branches {branch.text()}" if branch.total else "")
    )
    return out


def evaluate_group(
    spec: FloorSpec,
    obj: str,
    what: str,
    files: Sequence[FileCoverage],
    codes_: tuple[str, str],
    hint: str,
) -> list[Finding]:
    findings: list[Finding] = []
    metrics: tuple[tuple[Unit, Floor | None, str], ...] = (
        ("line", spec.line, codes_[0]),
        ("branch", spec.branch, codes_[1]),
    )
    for unit, floor, code in metrics:
        if floor is None:
            continue
        figure = total((_file_figure(f, unit) for f in files), unit)
        finding = floor_finding(
            code=code, obj=obj, what=what, figure=figure, floor=floor, files=files, hint=hint
        )
        if finding:
            findings.append(finding)
    return findings


def evaluate_globs(globs: Sequence[FloorSpec], files: Sequence[FileCoverage]) -> Outcome:
    """Each glob floor applies to every matching file on its own."""
    out = Outcome([], [])
    checked = 0
    for spec in globs:
        matched = [f for f in files if glob_matches(spec.key, f.path)]
        if not matched:
            raise ConfigError(
                f"[[tool.django-gates.coverage.paths]] glob {spec.key!r} matches no measured "
                "file; globs are matched against paths relative to the project root "
                f"(measured files look like {_examples(files)}); fix or remove it"
            )
        for f in matched:
            checked += 1
            out.findings.extend(
                evaluate_group(
                    spec,
                    f.path,
                    f"{f.path} (floor of glob {spec.key!r})",
                    [f],
                    (codes.FILE_LINE, codes.FILE_BRANCH),
                    hint=f"cover the listed lines of {f.path}, or change the floor of "
                    f"glob {spec.key!r} in [[tool.django-gates.coverage.paths]]",
                )
            )
    if globs:
        out.notes.append(
            f"{checked} file{'s' if checked != 1 else ''} under {len(globs)} glob "
            f"floor{'s' if len(globs) != 1 else ''}"
        )
    return out


def _examples(files: Sequence[FileCoverage]) -> str:
    sample = sorted(f.path for f in files)[:3]
    return ", ".join(sample) if sample else "(none)"


def files_by_app(files: Iterable[FileCoverage], index: AppIndex) -> dict[str, list[FileCoverage]]:
    grouped: dict[str, list[FileCoverage]] = {}
    for f in files:
        app = index.app_of(f.abspath)
        if app is not None:
            grouped.setdefault(app.label, []).append(f)
    return grouped


def app_checks(
    specs: Sequence[FloorSpec], by_app: dict[str, list[FileCoverage]], index: AppIndex
) -> list[tuple[str, FloorSpec]]:
    """``(label, floor)`` for every app a floor applies to; unknown or empty keys are errors.

    An explicit app floor wins over ``app = "*"`` for that app.
    """
    explicit = {s.key: s for s in specs if s.key != ALL_APPS}
    star = next((s for s in specs if s.key == ALL_APPS), None)
    project = [a.label for a in index.project_apps()]
    checks: list[tuple[str, FloorSpec]] = []
    for label, spec in explicit.items():
        app = index.get(label)
        if app is None:
            raise ConfigError(
                f"[[tool.django-gates.coverage.apps]] app {label!r} is not an installed Django "
                f"app label; project apps: {', '.join(project) or '(none)'}"
            )
        if label not in by_app:
            raise ConfigError(
                f"[[tool.django-gates.coverage.apps]] app {label!r} matches no measured file: "
                f"coverage measured nothing under {app.path}; is it outside the --cov source "
                "or omitted in [tool.coverage]?"
            )
        checks.append((label, spec))
    if star is not None:
        labels = [lb for lb in project if lb in by_app and lb not in explicit]
        if not labels and not explicit:
            raise ConfigError(
                '[[tool.django-gates.coverage.apps]] app "*" matches no project app with '
                f"measured files (project apps: {', '.join(project) or '(none)'})"
            )
        checks.extend((lb, star) for lb in labels)
    return checks


def evaluate_apps(
    specs: Sequence[FloorSpec], files: Sequence[FileCoverage], index: AppIndex
) -> Outcome:
    out = Outcome([], [])
    by_app = files_by_app(files, index)
    checks = app_checks(specs, by_app, index)
    for label, spec in checks:
        members = by_app[label]
        out.findings.extend(
            evaluate_group(
                spec,
                label,
                f"app {label} ({len(members)} files)",
                members,
                (codes.APP_LINE, codes.APP_BRANCH),
                hint=f"cover the listed lines, or change the floor of app {spec.key!r} in "
                "[[tool.django-gates.coverage.apps]]",
            )
        )
    out.covered_by = {label for label, _ in checks}
    if checks:
        names = ", ".join(label for label, _ in checks)
        out.notes.append(f"app floor{'s' if len(checks) != 1 else ''}: {names}")
    return out
