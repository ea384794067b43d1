"""ruff gate: lint the project with ruff (including Django's ``DJ`` rules), as configured.

Runs ``ruff check --output-format json --no-fix --force-exclude <paths>`` in the
project root, so the project's own ruff configuration (rule selection, excludes,
per-file ignores) decides what is checked; ``--no-fix`` makes sure a ``fix = true``
in that configuration never rewrites files during a gate run.

Finding codes are ``ruff:<rule>`` with ruff's own rule code (``ruff:DJ001``,
``ruff:F401``); a file ruff cannot parse is ``ruff:invalid-syntax``. Every finding
has the file and line. ``object`` is ``path:line:column``.

Exit status 0 (clean) and 1 (violations) are results; anything else, or output
that is not ruff's JSON, is a gate error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_django_gates.gates import GateContext, _hold, _tools
from pytest_django_gates.report import Finding, GateResult, Severity

NAME = "ruff"


def run(ctx: GateContext) -> GateResult:
    try:
        tool = _tools.find("ruff", NAME, ctx.config, ctx.rootdir)
        paths = list(ctx.config.get("ruff.paths") or ["."])
        proc = _tools.run(
            [
                *tool.argv,
                "check",
                "--output-format",
                "json",
                "--no-fix",
                "--force-exclude",
                "--no-cache",
                *paths,
            ],
            cwd=ctx.rootdir,
            timeout=_tools.timeout(ctx.config),
        )
        if proc.returncode not in (0, 1):
            raise _tools.ToolError(
                f"{tool.label} failed (exit {proc.returncode}): {_tools.tail(proc.stderr)}"
            )
        findings = parse(proc.stdout, ctx.rootdir)
        if proc.returncode == 1 and not findings:
            raise _tools.ToolError(
                f"{tool.label} exited 1 without reporting a violation: {_tools.tail(proc.stderr)}"
            )
    except _tools.ToolError as exc:
        return _tools.error(NAME, str(exc))
    return _hold.gate_result(NAME, tool, findings, ctx)


def parse(stdout: str, rootdir: Path) -> list[Finding]:
    """Findings from ``ruff check --output-format json`` (a JSON array of violations)."""
    try:
        data = json.loads(stdout or "[]")
    except json.JSONDecodeError as exc:
        raise _tools.ToolError(
            f"ruff printed something that is not JSON ({exc.msg} at line {exc.lineno}): "
            f"{_tools.tail(stdout, 300)}"
        ) from None
    if not isinstance(data, list):
        raise _tools.ToolError("ruff's JSON output is not a list of violations")
    return [_finding(item, rootdir) for item in data]


def _finding(item: Any, rootdir: Path) -> Finding:
    if not isinstance(item, dict) or "filename" not in item or "message" not in item:
        raise _tools.ToolError(f"unexpected item in ruff's JSON output: {item!r:.200}")
    rule = item.get("code") or "invalid-syntax"
    location = item.get("location") or {}
    line = location.get("row")
    column = location.get("column")
    path = _tools.project_path(item["filename"], rootdir)
    message = str(item["message"])
    if item.get("cell") is not None:
        message += f" (notebook cell {item['cell']})"
    hint = ""
    fix = item.get("fix")
    if isinstance(fix, dict) and fix.get("message"):
        applicability = fix.get("applicability", "")
        how = "ruff check --fix" if applicability == "safe" else "ruff check --fix --unsafe-fixes"
        hint = f"{fix['message']} (`{how}` does it)"
    url = item.get("url")
    if url:
        hint = f"{hint}; see {url}" if hint else f"see {url}"
    severity: Severity = "warning" if item.get("severity") == "warning" else "error"
    return Finding(
        code=f"ruff:{rule}",
        severity=severity,
        message=message,
        object=f"{path}:{line}:{column}" if line else path,
        path=path,
        line=int(line) if isinstance(line, int) else None,
        hint=hint,
    )
