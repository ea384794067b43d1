"""Patch coverage: the lines added or changed since a git base.

The base is the first of: ``--since REF`` (or ``coverage.since``); in a GitHub
merge queue run the merge group's base commit (``merge_group.base_sha`` of the
event file at ``GITHUB_EVENT_PATH``); in a pull request run ``origin/`` +
``GITHUB_BASE_REF``. Without any, patch coverage is not checked (and the
summary says so).

What counts as changed: ``git diff $(git merge-base BASE HEAD)`` against the
working tree (so uncommitted edits count too; renames are followed, so a moved
file only counts its edited lines), plus untracked files that are not ignored.
Only *coverable* changed lines count: the statements coverage.py measured in
files it reports on; a changed comment, docstring, blank line, or a file that
coverage.py does not report on (tests, settings, omitted paths) counts for
nothing. No coverable change at all is a neutral pass that says so.

A base that is not in the repository is fetched once from its remote; if it
still does not exist that is a :class:`ConfigError` (exit 2). In a shallow
clone the history is deepened (``git fetch --deepen``, then ``--unshallow``)
until the merge base is found; if it still cannot be reached the gate fails
loudly with :class:`PatchUnreachable` (never a pass).
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_django_gates.coverage.data import FileCoverage, Measurement
from pytest_django_gates.coverage.figures import Figure
from pytest_django_gates.gitbase import (
    Base,
    Diff,
    changed_lines,
    find_base,
    parse_diff,
    since_source,
    unquote,
)
from pytest_django_gates.gitbase import BaseUnreachable as PatchUnreachable

__all__ = [
    "Base",
    "Diff",
    "Patch",
    "PatchFile",
    "PatchUnreachable",
    "changed_lines",
    "find_base",
    "parse_diff",
    "patch_coverage",
    "since_source",
    "unquote",
]


@dataclass(frozen=True)
class PatchFile:
    file: FileCoverage
    coverable: tuple[int, ...]
    uncovered: tuple[int, ...]


@dataclass(frozen=True)
class Patch:
    figure: Figure
    files: tuple[PatchFile, ...]
    changed_files: int


def patch_coverage(diff: Diff, measurement: Measurement) -> Patch:
    """Coverable changed lines of the files coverage.py reports on, and which are covered."""
    by_abspath = measurement.by_abspath()
    files: list[PatchFile] = []
    covered = total = 0
    for abspath in sorted(diff.changed):
        f = by_abspath.get(abspath)
        if f is None:
            continue
        statements, missing = measurement.analyze(f.abspath)
        coverable = diff.changed[abspath] & statements
        if not coverable:
            continue
        uncovered = coverable & missing
        total += len(coverable)
        covered += len(coverable) - len(uncovered)
        files.append(PatchFile(f, tuple(sorted(coverable)), tuple(sorted(uncovered))))
    return Patch(Figure(covered, total, "line"), tuple(files), len(diff.changed))
