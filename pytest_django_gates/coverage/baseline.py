"""The ratchet: a committed baseline of per-app coverage that may only go up.

File (JSON, ``format`` 1, written atomically with sorted keys so diffs stay small)::

    {
      "format": 1,
      "about": "...how to raise and lower it...",
      "apps": {
        "orders": {"line":   {"covered": 170, "total": 200, "percent": "85.00"},
                   "branch": {"covered": 40,  "total": 50,  "percent": "80.00"}}
      },
      "lowered": [
        {"app": "orders", "metric": "line", "from": {...}, "to": {...},
         "reason": "moved the legacy importer out", "by": "Jane Doe",
         "at": "2025-01-31T10:00:00+00:00"}
      ]
    }

``covered``/``total`` are authoritative (compared exactly); ``percent`` is for
people reading the file. An app fails when its figure is strictly below its
baseline. ``--update-baseline`` raises figures (never lowers them) and adds new
project apps; apps that are no longer installed are dropped. Lowering takes an
explicit ``--lower-baseline APP --reason TEXT``; every lowering is appended to
``lowered`` with who and when.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_django_gates.config import ConfigError
from pytest_django_gates.coverage import codes
from pytest_django_gates.coverage.data import FileCoverage
from pytest_django_gates.coverage.figures import (
    Figure,
    Floor,
    Unit,
    check,
    format_percent,
)
from pytest_django_gates.coverage.floors import (
    first_gap,
    gap_text,
    uncovered_listing,
    worst_first,
)
from pytest_django_gates.report import Finding, atomic_write_text, read_json

FORMAT = 1
METRICS: tuple[Unit, ...] = ("line", "branch")
ABOUT = (
    "Coverage baseline of pytest-django-gates: per-app figures that may only go up. "
    "Raise: django-gates coverage --update-baseline. "
    "Lower: django-gates coverage --lower-baseline APP --reason TEXT."
)

AppFigures = dict[str, dict[Unit, Figure]]


@dataclass
class Baseline:
    apps: AppFigures = field(default_factory=dict)
    lowered: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "about": ABOUT,
            "apps": {
                label: {metric: _figure_json(fig) for metric, fig in sorted(metrics.items())}
                for label, metrics in sorted(self.apps.items())
            },
            "lowered": self.lowered,
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _figure_json(figure: Figure) -> dict[str, Any]:
    pct = figure.percent
    return {
        "covered": figure.covered,
        "total": figure.total,
        "percent": format_percent(pct) if pct is not None else None,
    }


def load(path: Path) -> Baseline | None:
    """The baseline at ``path``; None when the file does not exist.

    Anything else that is wrong is a :class:`ConfigError` naming the file.
    """
    if not path.exists():
        return None
    data = read_json(
        path,
        what="coverage baseline",
        next_step="restore it from git, or delete it and run "
        "django-gates coverage --update-baseline",
        error=ConfigError,
    )
    return parse(data, str(path))


def parse(data: Any, where: str) -> Baseline:
    def bad(message: str) -> ConfigError:
        return ConfigError(
            f"{where}: not a valid coverage baseline: {message}; restore it from git, or delete "
            "it and run django-gates coverage --update-baseline"
        )

    if not isinstance(data, dict):
        raise bad("expected a JSON object")
    if data.get("format") != FORMAT:
        raise bad(f"format {data.get('format')!r} is not {FORMAT}")
    apps = data.get("apps")
    if not isinstance(apps, dict):
        raise bad("'apps' must be an object")
    result = Baseline()
    for label, metrics in apps.items():
        if not isinstance(metrics, dict) or not metrics:
            raise bad(f"apps.{label} must be an object with 'line' and/or 'branch'")
        figures: dict[Unit, Figure] = {}
        for metric, raw in metrics.items():
            if metric not in METRICS:
                raise bad(f"apps.{label}.{metric}: unknown metric (line or branch)")
            figures[metric] = _parse_figure(raw, metric, f"apps.{label}.{metric}", bad)
        result.apps[label] = figures
    lowered = data.get("lowered", [])
    if not isinstance(lowered, list) or not all(isinstance(e, dict) for e in lowered):
        raise bad("'lowered' must be a list of objects")
    result.lowered = list(lowered)
    return result


def _parse_figure(raw: Any, unit: Unit, where: str, bad: Any) -> Figure:
    if not isinstance(raw, dict):
        raise bad(f"{where} must be an object with covered and total")
    covered, total = raw.get("covered"), raw.get("total")
    for name, value in (("covered", covered), ("total", total)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad(f"{where}.{name} must be a whole number >= 0, got {value!r}")
    assert isinstance(covered, int)
    assert isinstance(total, int)
    if covered > total:
        raise bad(f"{where}: covered {covered} is more than total {total}")
    return Figure(covered, total, unit)


def save(path: Path, baseline: Baseline) -> None:
    atomic_write_text(path, baseline.to_json())


def current_figures(
    by_app: Mapping[str, Sequence[FileCoverage]], labels: Iterable[str], has_branches: bool
) -> AppFigures:
    figures: AppFigures = {}
    for label in labels:
        files = by_app.get(label, ())
        if not files:
            continue
        line = Figure(0, 0, "line")
        branch = Figure(0, 0, "branch")
        for f in files:
            line = line + f.lines
            branch = branch + f.branches
        figures[label] = {"line": line, "branch": branch} if has_branches else {"line": line}
    return figures


def raise_to(
    baseline: Baseline, current: AppFigures, installed: set[str]
) -> tuple[Baseline, list[str]]:
    """Raise every figure that went up, add new apps, drop apps no longer installed."""
    new = Baseline(
        apps={k: dict(v) for k, v in baseline.apps.items()}, lowered=list(baseline.lowered)
    )
    changes: list[str] = []
    for label in sorted(set(new.apps) - installed):
        del new.apps[label]
        changes.append(f"dropped {label} (no longer installed)")
    for label, metrics in sorted(current.items()):
        held = new.apps.setdefault(label, {})
        for metric, figure in metrics.items():
            old = held.get(metric)
            if old is None:
                held[metric] = figure
                changes.append(f"{label} {metric} {figure.text()} (new)")
            elif old.below(figure):
                held[metric] = figure
                changes.append(f"{label} {metric} {_pct(old)}% -> {_pct(figure)}%")
    return new, changes


def lower(
    baseline: Baseline,
    current: AppFigures,
    labels: Sequence[str],
    reason: str,
    *,
    by: str,
    at: str,
) -> tuple[Baseline, list[str]]:
    """Lower the named apps to their current figures, recording the reason."""
    if not reason.strip():
        raise ConfigError("--lower-baseline needs --reason TEXT: say why coverage may go down")
    new = Baseline(
        apps={k: dict(v) for k, v in baseline.apps.items()}, lowered=list(baseline.lowered)
    )
    changes: list[str] = []
    for label in labels:
        held = new.apps.get(label)
        if held is None:
            raise ConfigError(
                f"--lower-baseline {label}: the baseline has no app {label!r} "
                f"(it has: {', '.join(sorted(new.apps)) or 'none'})"
            )
        now = current.get(label)
        if now is None:
            raise ConfigError(
                f"--lower-baseline {label}: this coverage data measured none of its files, so "
                "there is no figure to lower it to"
            )
        lowered_any = False
        for metric, old in sorted(held.items()):
            figure = now.get(metric)
            if figure is None or not figure.below(old):
                continue
            held[metric] = figure
            lowered_any = True
            new.lowered.append(
                {
                    "app": label,
                    "metric": metric,
                    "from": _figure_json(old),
                    "to": _figure_json(figure),
                    "reason": reason.strip(),
                    "by": by,
                    "at": at,
                }
            )
            changes.append(f"lowered {label} {metric} {_pct(old)}% -> {_pct(figure)}%")
        if not lowered_any:
            shown = ", ".join(f"{m} {now[m].text()}" for m in sorted(now))
            raise ConfigError(
                f"--lower-baseline {label}: its coverage ({shown}) is not below its baseline; "
                "nothing to lower (--update-baseline raises it)"
            )
    return new, changes


def compare(
    baseline: Baseline,
    current: AppFigures,
    by_app: Mapping[str, Sequence[FileCoverage]],
    installed: set[str],
    has_branches: bool,
) -> tuple[list[Finding], list[str]]:
    """Findings for every app below its baseline, and summary notes."""
    findings: list[Finding] = []
    held = above = 0
    for label, metrics in sorted(baseline.apps.items()):
        if label not in installed:
            findings.append(
                Finding(
                    code=codes.BASELINE_STALE,
                    severity="warning",
                    message=f"the coverage baseline lists app {label!r}, which is not installed",
                    object=label,
                    hint="run django-gates coverage --update-baseline to drop it",
                )
            )
            continue
        now = current.get(label)
        for metric, old in sorted(metrics.items()):
            code = codes.BASELINE_LINE if metric == "line" else codes.BASELINE_BRANCH
            figure = now.get(metric) if now else None
            if figure is None:
                why = "this run measured none of its files"
                if now is not None and metric == "branch" and not has_branches:
                    why = "this run did not measure branches (branch = true / --cov-branch)"
                findings.append(
                    Finding(
                        code=code,
                        severity="error",
                        message=f"{metric} coverage of app {label} cannot be compared with its "
                        f"baseline {old.text()}: {why}",
                        object=label,
                        hint="measure the whole test suite the way the baseline was measured, "
                        f"or lower it: django-gates coverage --lower-baseline {label} --reason ...",
                    )
                )
                continue
            if figure.below(old):
                findings.append(_drop(code, label, metric, old, figure, by_app.get(label, ())))
            elif old.below(figure):
                above += 1
            else:
                held += 1
    notes = [f"baseline: {len(baseline.apps)} apps"]
    if above:
        notes.append(f"{above} figures above the baseline (raise it: --update-baseline)")
    new_apps = sorted(set(current) - set(baseline.apps))
    if new_apps:
        notes.append(f"not in the baseline yet: {', '.join(new_apps)}")
    return findings, notes


def _drop(
    code: str, label: str, metric: Unit, old: Figure, now: Figure, files: Sequence[FileCoverage]
) -> Finding:
    assert old.percent is not None
    assert now.percent is not None
    verdict = check(now, Floor(percent=old.percent))
    shown_now, shown_old = distinct_percents(now, old)
    first = worst_first(files, metric)
    message = "\n".join(
        [
            f"{metric} coverage of app {label} dropped to {shown_now}% "
            f"({now.covered}/{now.total}) below its baseline {shown_old}% "
            f"({old.covered}/{old.total}): {gap_text(verdict, metric, label)}",
            *uncovered_listing(files, metric),
        ]
    )
    return Finding(
        code=code,
        severity="error",
        message=message,
        object=label,
        path=first[0].path if first else None,
        line=first_gap(first[0], metric) if first else None,
        hint="cover the new code, or lower the baseline on purpose: "
        f"django-gates coverage --lower-baseline {label} --reason '...'",
    )


def distinct_percents(now: Figure, old: Figure) -> tuple[str, str]:
    """Both percentages, truncated, with as many decimals as it takes to tell them apart."""
    assert now.percent is not None
    assert old.percent is not None
    for digits in range(2, 12):
        scale = 10**digits
        a = (now.percent * scale).__floor__()
        b = (old.percent * scale).__floor__()
        if a != b or digits == 11:
            return _fixed(a, digits), _fixed(b, digits)
    raise AssertionError("unreachable")  # pragma: no cover


def _fixed(scaled: int, digits: int) -> str:
    whole, frac = divmod(scaled, 10**digits)
    return f"{whole}.{frac:0{digits}d}"


def _pct(figure: Figure) -> str:
    return format_percent(figure.percent) if figure.percent is not None else "n/a"


def who(rootdir: Path) -> str:
    try:
        proc = subprocess.run(
            ["git", "config", "user.name"],
            cwd=rootdir,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        name = proc.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database
        return "unknown"


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
