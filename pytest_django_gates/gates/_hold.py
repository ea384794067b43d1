"""Hold the line: on a project with old ruff or mypy findings, fail only on new ones.

An existing project often has thousands of lint and type errors that nobody will
fix before adopting the gates. ``[tool.django-gates.ruff] hold`` (and
``mypy.hold``) chooses which findings count:

``"auto"`` (the default)
    the baseline when its file exists, else the lines changed since the git
    base when there is one, else nothing is held back (every finding counts).
``"baseline"``
    findings recorded in the committed baseline file (``<gate>.baseline``,
    default ``.django-gates/<gate>-baseline.json``) are held back; a missing file
    is a configuration error naming the command that writes it.
``"changed"``
    only findings on lines added or modified since the git base count: the base
    is ``--since`` / ``[tool.django-gates.run] since``, else a merge group's
    base, else a pull request's base (``GITHUB_BASE_REF``), exactly as patch
    coverage finds it. No base is a configuration error.
``"off"``
    every finding counts; ``django-gates run --all`` sets it for both gates.

Which to choose: the baseline is the more precise one (a change that breaks the
types of an untouched line elsewhere is a new mypy finding there, and the
baseline catches it while changed lines cannot); changed lines need no file.
``auto`` prefers the baseline for that reason.

A held-back finding is not reported; the summary counts them and says how to
see them (``--all``). Baseline entries that no longer occur (fixed findings) are
counted too, with the command that shrinks the file.

The baseline's fingerprint of a finding is its code, its file, the text of its
line (stripped of surrounding whitespace) and its message with line numbers
taken out: it survives lines moving up or down, and a finding whose line is
edited counts as new, as it should. The same fingerprint may occur several
times; the baseline keeps the count, and occurrences beyond it are new (the
last ones in the file). A file that is renamed makes its findings new.

File format (JSON, sorted, written atomically)::

    {"format": 1, "gate": "ruff", "findings": [
        {"fingerprint": "…", "count": 1, "code": "ruff:F401", "path": "app/x.py",
         "line": 3, "message": "`os` imported but unused"}]}

``line`` and ``message`` are for the reader (and ``git diff``); only
``fingerprint`` and ``count`` are compared. ``django-gates run --update-baselines``
(or ``django-gates init --baselines``) rewrites it from the current findings,
whatever the old file holds, a corrupt one included.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.gates import GateContext
from pytest_django_gates.gates._tools import Tool, result
from pytest_django_gates.report import Finding, GateResult, atomic_write_text, read_json

FORMAT = 1
DEFAULT_DIR = ".django-gates"
_LINE_NUMBER = re.compile(r"\b(line|lines) \d+(?:-\d+)?")


def default_baseline(gate: str) -> str:
    return f"{DEFAULT_DIR}/{gate}-baseline.json"


@dataclass
class Held:
    """The findings that count, and what was held back (for the summary)."""

    findings: list[Finding]
    held: int = 0
    how: str = ""
    notes: list[str] = field(default_factory=list)

    def note(self) -> str:
        parts = []
        if self.held:
            parts.append(
                f"{count(self.held, 'old finding')} held back {self.how}; --all shows them"
            )
        parts.extend(self.notes)
        return "; ".join(parts)


def fingerprint(finding: Finding, rootdir: Path, lines: dict[str, list[str]]) -> str:
    """The fingerprint of ``finding`` (see the module docstring)."""
    text = ""
    path = finding.path or ""
    if path and finding.line:
        source = lines.get(path)
        if source is None:
            source = lines[path] = _read_lines(rootdir / path)  # a cache for one run
        if 0 < finding.line <= len(source):
            text = source[finding.line - 1].strip()
    message = _LINE_NUMBER.sub(r"\1 N", finding.message)
    digest = hashlib.sha256("\0".join((finding.code, path, text, message)).encode("utf-8"))
    return digest.hexdigest()[:24]


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _fingerprints(findings: Sequence[Finding], rootdir: Path) -> list[str]:
    cache: dict[str, list[str]] = {}
    return [fingerprint(f, rootdir, cache) for f in findings]


def baseline_path(gate: str, config: GatesConfig, rootdir: Path) -> Path:
    """``<gate>.baseline`` (relative to the configuration's directory), else the default
    file in the project root."""
    return config.path(f"{gate}.baseline") or rootdir / default_baseline(gate)


def update_command(gate: str) -> str:
    return f"django-gates run --only {gate} --update-baselines"


def load(gate: str, path: Path) -> Counter[str]:
    """The baseline's fingerprint counts; a broken file is a :class:`ConfigError`."""
    fix = f"regenerate it with `{update_command(gate)}`"
    data = read_json(path, what=f"{gate} baseline", next_step=fix, error=ConfigError)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(
            f'{gate} baseline {path}: expected an object with "format": {FORMAT}; {fix}'
        )
    if data.get("gate") != gate:
        raise ConfigError(
            f"{gate} baseline {path}: it is the baseline of {data.get('gate')!r}, not of "
            f"{gate!r}; point [tool.django-gates.{gate}] baseline at the right file or {fix}"
        )
    entries = data.get("findings")
    if not isinstance(entries, list):
        raise ConfigError(f'{gate} baseline {path}: "findings" must be a list; {fix}')
    counts: Counter[str] = Counter()
    for i, entry in enumerate(entries):
        ok = (
            isinstance(entry, dict)
            and isinstance(entry.get("fingerprint"), str)
            and isinstance(entry.get("count"), int)
            and not isinstance(entry.get("count"), bool)
            and entry["count"] >= 1
        )
        if not ok:
            raise ConfigError(
                f"{gate} baseline {path}: findings[{i}] needs a string 'fingerprint' and a "
                f"'count' >= 1; {fix}"
            )
        counts[entry["fingerprint"]] += entry["count"]
    return counts


def write(gate: str, path: Path, findings: Sequence[Finding], rootdir: Path) -> int:
    """Write the baseline of ``findings`` to ``path`` atomically; the number of entries.

    The default directory (``.django-gates``) is created when missing; any other
    missing directory is a write error naming it (a typo should not grow a tree).
    """
    if path.parent == rootdir / DEFAULT_DIR:
        path.parent.mkdir(exist_ok=True)
    prints = _fingerprints(findings, rootdir)
    grouped: dict[str, dict[str, object]] = {}
    for finding, print_ in zip(findings, prints, strict=True):
        entry = grouped.get(print_)
        if entry is None:
            grouped[print_] = {
                "fingerprint": print_,
                "count": 1,
                "code": finding.code,
                "path": finding.path or "",
                "line": finding.line,
                "message": finding.message,
            }
        else:
            entry["count"] = int(str(entry["count"])) + 1

    def order(entry: dict[str, object]) -> tuple[str, int, str, str]:
        line = entry["line"]
        return (
            str(entry["path"]),
            line if isinstance(line, int) else 0,
            str(entry["code"]),
            str(entry["fingerprint"]),
        )

    entries = sorted(grouped.values(), key=order)
    data = {"format": FORMAT, "gate": gate, "findings": entries}
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return len(entries)


def by_baseline(
    gate: str, path: Path, findings: Sequence[Finding], rootdir: Path, label: str
) -> Held:
    remaining = load(gate, path)
    prints = _fingerprints(findings, rootdir)
    # Occurrences beyond the recorded count are new: hold back the first ones in
    # file order, so the new one reported is the last (usually the one added).
    order = sorted(
        range(len(findings)), key=lambda i: (findings[i].path or "", findings[i].line or 0)
    )
    keep = [True] * len(findings)
    held = 0
    for i in order:
        if remaining[prints[i]] > 0:
            remaining[prints[i]] -= 1
            keep[i] = False
            held += 1
    result = Held(
        [f for f, k in zip(findings, keep, strict=True) if k], held, f"by the baseline {label}"
    )
    fixed = sum(remaining.values())
    if fixed:
        plural = "y is" if fixed == 1 else "ies are"
        result.notes.append(
            f"{fixed} baseline entr{plural} fixed: `{update_command(gate)}` shrinks it"
        )
    return result


def _by_changed_lines(
    gate: str,
    findings: Sequence[Finding],
    rootdir: Path,
    base: str,
    changed: Mapping[str, set[int]],
) -> Held:
    kept: list[Finding] = []
    held = 0
    for finding in findings:
        lines = changed.get(os.path.realpath(rootdir / finding.path)) if finding.path else None
        # A finding without a line (a whole-file error) counts when its file changed.
        if lines is not None and (finding.line is None or finding.line in lines):
            kept.append(finding)
        else:
            held += 1
    return Held(kept, held, f"on lines this change did not touch (base {base})")


def apply(
    gate: str,
    findings: Sequence[Finding],
    config: GatesConfig,
    rootdir: Path,
    environ: Mapping[str, str],
) -> Held:
    """The findings of ``gate`` that count under its ``hold`` mode."""
    mode = str(config.get(f"{gate}.hold") or "auto")
    if mode == "off" or config.get("run.all"):
        return Held(list(findings))
    path = baseline_path(gate, config, rootdir)
    label = shown(path, rootdir)
    if mode == "baseline" or (mode == "auto" and path.is_file()):
        if not path.is_file():
            raise ConfigError(
                f'[tool.django-gates.{gate}] hold = "baseline", but the baseline {label} does '
                f"not exist; write it with `{update_command(gate)}`"
            )
        return by_baseline(gate, path, findings, rootdir, label)
    from pytest_django_gates.coverage import patch

    # an error about the base names where it came from (DJANGO_GATES_RUN_SINCE, ...)
    since_source = patch.since_source(config.source("run.since"))
    base = patch.find_base(str(config.get("run.since") or ""), since_source, environ)
    if base is None:
        if mode == "changed":
            raise ConfigError(
                f'[tool.django-gates.{gate}] hold = "changed" needs a git base: pass '
                "--since REF (e.g. origin/main), or run it in a pull request"
            )
        return Held(list(findings))
    diff = patch.changed_lines(rootdir, base, what=f"the {gate} gate's hold-the-line")
    label = f"{base.ref}, merge base {diff.merge_base[:10]}"
    return _by_changed_lines(gate, findings, rootdir, label, diff.changed)


def shown(path: Path, rootdir: Path) -> str:
    """``path`` relative to the project root when it is inside it."""
    try:
        return path.relative_to(rootdir).as_posix()
    except ValueError:
        return str(path)


def gate_result(gate: str, tool: Tool, findings: Sequence[Finding], ctx: GateContext) -> GateResult:
    """The result of a linter gate: its baseline rewritten (``--update-baselines``), or
    the findings that count under its ``hold`` mode."""
    if ctx.config.get("run.update_baselines"):
        refuse_all_with_update(ctx.config)
        path = baseline_path(gate, ctx.config, ctx.rootdir)
        entries = write(gate, path, findings, ctx.rootdir)
        return GateResult(
            name=gate,
            status="passed",
            summary=f"{tool.label}: baseline {shown(path, ctx.rootdir)} written with "
            f"{count(len(findings), 'finding')} ({count(entries, 'fingerprint')}); commit it",
        )
    held = apply(gate, findings, ctx.config, ctx.rootdir, os.environ)
    return result(gate, tool, held.findings, note=held.note())


def refuse_all_with_update(config: GatesConfig) -> None:
    """``--all`` with ``--update-baselines`` is a usage error (every baseline gate says so)."""
    if config.get("run.all"):
        raise ConfigError(
            "--all and --update-baselines do not go together: --all shows every finding, "
            "--update-baselines records them; give one"
        )


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
