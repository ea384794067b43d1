"""One finding per problem: where a rule of ours and one of Django's deployment checks
report the same problem, the two are merged.

=============  ==============  =========  =====================================
ours           Django's        kept code  why
=============  ==============  =========  =====================================
DJG315         security.W018   W018       the same problem: DEBUG is on
DJG301         security.W009   DJG301     the same line to fix; a literal key in
                                          the repository is the larger problem
=============  ==============  =========  =====================================

The kept finding says what both say, and an allow for either code matches it. A
code reported alone is never touched; codes never change meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pytest_django_gates.deploy.rules._base import LEVELS, Issue

# (ours, Django's) -> the code that stays
OVERLAPS: dict[tuple[str, str], str] = {
    ("DJG315", "security.W018"): "security.W018",
    ("DJG301", "security.W009"): "DJG301",
}


def merge_overlaps(issues: Sequence[tuple[Issue, bool]]) -> list[tuple[Issue, bool]]:
    """``issues`` ((issue, silenced by Django) pairs) with each overlapping pair merged."""
    by_code = {issue.code: i for i, (issue, _) in enumerate(issues)}
    drop: set[int] = set()
    merged: dict[int, tuple[Issue, bool]] = {}
    for (ours, theirs), kept in OVERLAPS.items():
        if ours not in by_code or theirs not in by_code:
            continue
        i, j = by_code[ours], by_code[theirs]
        (a, a_silenced), (b, b_silenced) = issues[i], issues[j]
        keep, other = (a, b) if kept == ours else (b, a)
        keep_at, other_at = (i, j) if kept == ours else (j, i)
        combined = replace(
            keep,
            message=f"{keep.message} (Django's {b.code} reports it too: {b.message})"
            if kept == ours
            else f"{keep.message} {a.message}",
            hint=a.hint or b.hint,
            path=keep.path or other.path,
            line=keep.line if keep.path else other.line,
            also=(*keep.also, other.code),
            level=min(a.level, b.level, key=LEVELS.index),  # the more severe of the two
        )
        merged[keep_at] = (combined, a_silenced and b_silenced)
        drop.add(other_at)
    return [merged.get(i, pair) for i, pair in enumerate(issues) if i not in drop]
