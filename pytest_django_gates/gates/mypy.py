"""mypy gate: type-check the project with mypy (and django-stubs), as configured.

Runs mypy in the project root with the project's own configuration (``[tool.mypy]``
in pyproject.toml, ``mypy.ini`` or ``setup.cfg``: strictness, plugins such as
``mypy_django_plugin.main``, ``files``). Paths come from
``[tool.django-gates.mypy] paths``, else from mypy's own ``files`` setting.

mypy 1.11 and later print JSON lines (``--output json``); older versions print
``file:line:col: error: message  [code]`` lines, which are parsed instead.

Finding codes are ``mypy:<error code>`` with mypy's own code (``mypy:arg-type``,
``mypy:return-value``; ``mypy:misc`` for errors mypy gives no code). A note that
follows an error on the same line becomes that error's hint; any other note is a
warning (``mypy:note``). Every finding has the file and line; ``object`` is
``path:line:column``.

Exit status 0 and 1 (type errors) are results; exit 2 with parsed errors is a
blocking error such as a syntax error (findings); exit 2 with none, an internal
error or unparseable output is a gate error.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from pytest_django_gates.gates import GateContext, _hold, _tools
from pytest_django_gates.report import Finding, GateResult, Severity

NAME = "mypy"

_TEXT_LINE = re.compile(
    r"^(?P<file>[^\n]+?):(?P<line>\d+):(?:(?P<col>\d+):)?(?:\d+:\d+:)?\s"
    r"(?P<sev>error|warning|note):\s(?P<msg>.*?)(?:\s\s\[(?P<code>[a-z0-9_-]+)\])?$"
)


def run(ctx: GateContext) -> GateResult:
    try:
        tool = _tools.find("mypy", NAME, ctx.config, ctx.rootdir)
        use_json = _supports_json(tool.version)
        argv = [
            *tool.argv,
            "--no-error-summary",
            "--show-column-numbers",
            "--show-error-codes",
            "--no-color-output",
            "--no-pretty",
            "--hide-error-context",
        ]
        if use_json:
            argv += ["--output", "json"]
        argv += list(ctx.config.get("mypy.paths") or [])
        proc = _tools.run(argv, cwd=ctx.rootdir, timeout=_tools.timeout(ctx.config))
        crashed = "INTERNAL ERROR" in proc.stderr or "Traceback (most recent call last)" in (
            proc.stderr
        )
        if crashed or proc.returncode not in (0, 1, 2):
            raise _tools.ToolError(
                f"{tool.label} crashed (exit {proc.returncode}): "
                f"{_tools.tail(proc.stderr or proc.stdout)}"
            )
        findings = parse(proc.stdout, ctx.rootdir, json_lines=use_json)
        if proc.returncode != 0 and not any(f.severity == "error" for f in findings):
            raise _tools.ToolError(
                f"{tool.label} could not check the project (exit {proc.returncode}): "
                f"{_tools.tail(proc.stderr or proc.stdout)}"
                + (
                    "; give mypy its files ([tool.mypy] files or [tool.django-gates.mypy] paths)"
                    if "Missing target" in proc.stderr + proc.stdout
                    else ""
                )
            )
    except _tools.ToolError as exc:
        return _tools.error(NAME, str(exc))
    return _hold.gate_result(NAME, tool, findings, ctx)


def _supports_json(version: str) -> bool:
    numbers = [int(n) for n in re.findall(r"\d+", version)[:2]]
    while len(numbers) < 2:
        numbers.append(0)
    return (numbers[0], numbers[1]) >= (1, 11)


def parse(stdout: str, rootdir: Path, *, json_lines: bool) -> list[Finding]:
    """Findings from mypy's output (JSON lines, or the classic text lines)."""
    raw: list[dict[str, Any]] = []
    for line in stdout.splitlines():
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if json_lines and line.startswith("{"):
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise _tools.ToolError(
                    f"mypy printed a broken JSON line ({exc.msg}): {line:.200}"
                ) from None
            if not isinstance(item, dict) or "file" not in item or "message" not in item:
                raise _tools.ToolError(f"unexpected item in mypy's JSON output: {line:.200}")
            raw.append(item)
            continue
        match = _TEXT_LINE.match(line)
        if match:
            raw.append(
                {
                    "file": match["file"],
                    "line": int(match["line"]),
                    "column": int(match["col"]) - 1 if match["col"] else None,
                    "message": match["msg"],
                    "code": match["code"],
                    "severity": match["sev"],
                    "hint": None,
                }
            )
        # Any other line (a summary, a "Success:" line) carries no finding.
    return _fold(raw, rootdir)


def _fold(raw: list[dict[str, Any]], rootdir: Path) -> list[Finding]:
    findings: list[Finding] = []
    for item in raw:
        path = _tools.project_path(str(item["file"]), rootdir)
        line = item.get("line") if isinstance(item.get("line"), int) else None
        column = item.get("column")
        message = str(item["message"])
        hint = str(item.get("hint") or "")
        if item.get("severity") == "note":
            previous = findings[-1] if findings else None
            if (
                previous is not None
                and previous.severity == "error"
                and previous.path == path
                and previous.line == line
            ):
                joined = f"{previous.hint}\n{message}" if previous.hint else message
                findings[-1] = replace(previous, hint=joined)
                continue
            code = "note"
            severity: Severity = "warning"
        else:
            code = str(item.get("code") or "misc")
            severity = "error" if item.get("severity", "error") == "error" else "warning"
        column_text = f":{int(column) + 1}" if isinstance(column, int) and column >= 0 else ""
        findings.append(
            Finding(
                code=f"mypy:{code}",
                severity=severity,
                message=message,
                object=f"{path}:{line}{column_text}" if line else path,
                path=path,
                line=line,
                hint=hint,
            )
        )
    return findings
