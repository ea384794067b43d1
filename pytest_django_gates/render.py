"""Rendering of reports, in one place: text, JSON, Markdown, SARIF and GitHub annotations.

Every renderer takes a :class:`Report` and returns a string; nothing here
prints or exits. Text, Markdown and GitHub annotations link each finding to its
code's documentation, and SARIF rules carry it as ``helpUri``
(:mod:`pytest_django_gates.docs_links`); the JSON report carries the code only.
"""

from __future__ import annotations

import hashlib
import html
import json
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pytest_django_gates.docs_links import DOCS_URL, code_url
from pytest_django_gates.report import Finding, GateResult, Report

_STATUS_MARK = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR", "skipped": "SKIPPED"}


def location(finding: Finding) -> str:
    if not finding.path:
        return ""
    return f"{finding.path}:{finding.line}" if finding.line else finding.path


def finding_text(finding: Finding, indent: str = "  ") -> str:
    head = f"{indent}{finding.code} [{finding.severity}] {finding.object}"
    where = location(finding)
    lines = [head + (f" ({where})" if where else "")]
    for line in finding.message.splitlines():
        lines.append(f"{indent}  {line}")
    if finding.hint:
        hint_lines = finding.hint.splitlines()
        lines.append(f"{indent}  fix: {hint_lines[0]}")
        lines.extend(f"{indent}       {line}" for line in hint_lines[1:])
    url = code_url(finding.code)
    if url:
        lines.append(f"{indent}  docs: {url}")
    return "\n".join(lines)


# Beyond this many findings, the pytest terminal summary shows counts and the top
# locations; the JSON report (--gates-report) always has every finding.
TERMINAL_FINDINGS = 20
TOP_LOCATIONS = 10


def terminal_findings(gate: GateResult, report_path: str | None) -> list[str]:
    """The findings of ``gate`` as the pytest terminal summary shows them."""
    findings = gate.findings
    if len(findings) <= TERMINAL_FINDINGS:
        return [finding_text(f) for f in findings]
    by_place = Counter((f.code, location(f) or f.object) for f in findings)
    lines = ["  by code: " + _counts(f.code for f in findings)]
    lines.append(f"  top locations (of {len(by_place)}):")
    top = sorted(by_place.items(), key=lambda item: (-item[1], item[0]))[:TOP_LOCATIONS]
    lines.extend(f"    {n:>4} x {code} {where}" for (code, where), n in top)
    first = [finding_text(f) for f in findings[:TOP_LOCATIONS]]
    lines.append(f"  the first {len(first)} of {len(findings)} findings:")
    lines.extend(first)
    rest = len(findings) - len(first)
    where = (
        f" in the JSON report ({report_path})"
        if report_path
        else " in the JSON report: pass --gates-report=PATH"
    )
    lines.append(f"  ... {rest} more{where}")
    return lines


def gate_line(gate: GateResult) -> str:
    return f"{gate.name}: {_STATUS_MARK[gate.status]} - {gate.summary}"


# Past this many findings of one gate, the text output starts with counts (per code,
# and per app for the migration gate), shows the first ones and says where the rest is.
TEXT_FINDINGS = 50


def render_text(report: Report) -> str:
    out: list[str] = []
    for gate in report.gates:
        out.append(gate_line(gate))
        findings = gate.findings
        if len(findings) <= TEXT_FINDINGS:
            out.extend(finding_text(f) for f in findings)
            continue
        out.append("  by code: " + _counts(f.code for f in findings))
        if gate.name == "migrations":
            out.append("  by app: " + _counts(f.object.split(".", 1)[0] for f in findings))
        out.append(f"  the first {TEXT_FINDINGS} of {len(findings)} findings:")
        out.extend(finding_text(f) for f in findings[:TEXT_FINDINGS])
        out.append(
            f"  ... {len(findings) - TEXT_FINDINGS} more: the JSON report has every finding "
            "(--format json, or --report FILE)"
        )
    return "\n".join(out) + "\n"


def _counts(keys: Iterable[str]) -> str:
    """``"DJG201 80, DJG211 40"``: each key and how often, the most frequent first."""
    ordered = sorted(Counter(keys).items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{key} {n}" for key, n in ordered)


def render_json(report: Report) -> str:
    return report.to_json()


# --------------------------------------------------------------------------- run summary


def summary_table(report: Report, durations: Mapping[str, float] | None = None) -> str:
    """The table ``django-gates run`` ends with: gate, status, findings, time."""
    durations = durations or {}
    rows = [("gate", "status", "errors", "warnings", "time")]
    for gate in report.gates:
        seconds = durations.get(gate.name)
        rows.append(
            (
                gate.name,
                gate.status,
                str(gate.errors),
                str(gate.warnings),
                f"{seconds:.1f} s" if seconds is not None else "-",
            )
        )
    total = sum(durations.values())
    rows.append(
        (
            "overall",
            overall_status(report),
            str(sum(g.errors for g in report.gates)),
            str(sum(g.warnings for g in report.gates)),
            f"{total:.1f} s" if durations else "-",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for index, row in enumerate(rows):
        if index == len(rows) - 1:
            lines.append("  ".join("-" * w for w in widths))
        cells = [
            row[0].ljust(widths[0]),
            row[1].ljust(widths[1]),
            row[2].rjust(widths[2]),
            row[3].rjust(widths[3]),
            row[4].rjust(widths[4]),
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def overall_status(report: Report) -> str:
    """``error`` if a gate could not run, else ``failed`` if one failed, else ``passed``."""
    statuses = {g.status for g in report.gates}
    for status in ("error", "failed"):
        if status in statuses:
            return status
    return "passed"


def _join(prefix: str, path: str) -> str:
    """``path`` (relative to the project root) relative to the repository root."""
    if not prefix:
        return path
    return posixpath.normpath(posixpath.join(prefix, path))


# ------------------------------------------------------------------------------ markdown

# GitHub rejects a step summary over 1 MiB (1,048,576 bytes) as a whole; stay below it
# with room for what other steps of the same job write.
MARKDOWN_LIMIT = 1_000_000

_MD_ICON = {
    "passed": ":white_check_mark:",
    "failed": ":x:",
    "error": ":boom:",
    "skipped": ":fast_forward:",
}


def _md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no HTML, no pipe, no line break."""
    escaped = html.escape(text, quote=False).replace("|", "\\|")
    return "<br>".join(line for line in escaped.splitlines() if line.strip()) or " "


def render_markdown(report: Report, *, path_prefix: str = "", limit: int = MARKDOWN_LIMIT) -> str:
    """A table of gates, then the findings of each gate; under ``limit`` bytes (UTF-8).

    When the findings do not fit, the last ones are left out and a note says how
    many (the JSON report has them all). The table of gates is always complete.
    """
    status = overall_status(report)
    head = [
        f"## {_MD_ICON[status]} pytest-django-gates: {status}",
        "",
        "| Gate | Status | Errors | Warnings | Summary |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for gate in report.gates:
        head.append(
            f"| {_md_cell(gate.name)} | {_MD_ICON[gate.status]} {gate.status} | {gate.errors} "
            f"| {gate.warnings} | {_md_cell(gate.summary)} |"
        )
    head.append("")
    out = "\n".join(head) + "\n"
    size = len(out.encode("utf-8"))
    total = sum(len(g.findings) for g in report.gates)
    shown = 0
    reserve = 400  # room for the truncation note
    truncated = False
    for gate in report.gates:
        if not gate.findings or truncated:
            continue
        section = [
            f"### {_md_cell(gate.name)}: {len(gate.findings)} finding"
            f"{'s' if len(gate.findings) != 1 else ''}",
            "",
            "| Severity | Code | Where | Message | Fix |",
            "| --- | --- | --- | --- | --- |",
        ]
        block = "\n".join(section) + "\n"
        if size + len(block.encode("utf-8")) + reserve > limit:
            truncated = True
            break
        out += block
        size += len(block.encode("utf-8"))
        for finding in gate.findings:
            where = location(finding)
            where = _join(path_prefix, where) if where else finding.object
            code = f"`{_md_cell(finding.code)}`"
            url = code_url(finding.code)
            if url:
                code = f"[{code}]({url})"
            row = (
                f"| {finding.severity} | {code} | {_md_cell(where)} "
                f"| {_md_cell(finding.message)} | {_md_cell(finding.hint)} |\n"
            )
            row_size = len(row.encode("utf-8"))
            if size + row_size + reserve > limit:
                truncated = True
                break
            out += row
            size += row_size
            shown += 1
        out += "\n"
        size += 1
    if truncated:
        out += (
            f"\n> **{total - shown} of {total} findings are not shown**: the summary is "
            f"limited to {limit:,} bytes. The JSON report has every finding.\n"
        )
    return out


# --------------------------------------------------------------------------------- SARIF

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_HOMEPAGE = "https://github.com/pytest-django-gates/pytest-django-gates"
_URL_IN_HINT = re.compile(r"\bhttps://[^\s;,()]+")


def help_uri(finding: Finding) -> str:
    """Where a SARIF rule is explained: the code's docs page, else a URL the tool gave
    in the hint (ruff's rule page), else the documentation site."""
    found = _URL_IN_HINT.search(finding.hint)
    return code_url(finding.code) or (found.group(0) if found else DOCS_URL)


def render_sarif(report: Report, *, path_prefix: str = "") -> str:
    """SARIF 2.1.0, one run per gate, ready for ``github/codeql-action/upload-sarif``.

    Each run has its own ``automationDetails.id`` (``django-gates/<gate>/``), so code
    scanning keeps the gates apart. A finding without a file is attached to the
    project's ``pyproject.toml`` (where the gates are configured), because code
    scanning needs a location for every result. A gate that could not run is a
    run whose invocation did not succeed.
    """
    fallback = _join(path_prefix, "pyproject.toml")
    runs = []
    for gate in report.gates:
        rules: list[dict[str, Any]] = []
        index: dict[str, int] = {}
        results = []
        for finding in gate.findings:
            if finding.code not in index:
                index[finding.code] = len(rules)
                rules.append(
                    {
                        "id": finding.code,
                        "name": _rule_name(finding.code),
                        "shortDescription": {"text": finding.code},
                        "defaultConfiguration": {"level": finding.severity},
                        "helpUri": help_uri(finding),
                    }
                )
            uri = _join(path_prefix, finding.path) if finding.path else fallback
            physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
            if finding.path and finding.line:
                physical["region"] = {"startLine": finding.line}
            text = finding.message
            if finding.hint:
                text += f"\nFix: {finding.hint}"
            identity = (finding.code, finding.object, finding.path or "", finding.message)
            fingerprint = hashlib.sha256("\0".join(identity).encode()).hexdigest()
            results.append(
                {
                    "ruleId": finding.code,
                    "ruleIndex": index[finding.code],
                    "level": finding.severity,
                    "message": {"text": text},
                    "locations": [
                        {
                            "physicalLocation": physical,
                            "logicalLocations": [{"fullyQualifiedName": finding.object}],
                        }
                    ],
                    "partialFingerprints": {"djangoGatesFinding/v1": fingerprint},
                }
            )
        invocation: dict[str, Any] = {"executionSuccessful": gate.status != "error"}
        if gate.status in ("error", "skipped"):
            invocation["toolExecutionNotifications"] = [
                {
                    "level": "error" if gate.status == "error" else "note",
                    "message": {"text": f"{gate.name}: {gate.status}: {gate.summary}"},
                }
            ]
        runs.append(
            {
                "tool": {
                    "driver": {
                        "name": f"django-gates-{gate.name}",
                        "fullName": f"pytest-django-gates: {gate.name} gate",
                        "version": str(report.tool.get("version", "")),
                        "informationUri": _HOMEPAGE,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"django-gates/{gate.name}/"},
                "invocations": [invocation],
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "repository root"}}},
                "results": results,
                "properties": {"status": gate.status, "summary": gate.summary},
            }
        )
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}
    return json.dumps(log, indent=2) + "\n"


def _rule_name(code: str) -> str:
    """A SARIF rule name (an identifier-like word) from a finding code."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", code) if part)


# ------------------------------------------------------------- GitHub workflow commands

# GitHub shows at most 10 error and 10 warning annotations of one step (and 50 per job);
# the rest are dropped silently, so django-gates prints that many and summarises the rest.
ANNOTATION_LIMITS: Mapping[str, int] = {"error": 10, "warning": 10}


def escape_data(text: str) -> str:
    """Workflow-command message escaping (as @actions/core does)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Workflow-command property escaping: data escaping plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, message: str, **properties: str | int | None) -> str:
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value not in (None, "")
    )
    return f"::{kind}{' ' + props if props else ''}::{escape_data(message)}"


def render_github(
    report: Report,
    *,
    path_prefix: str = "",
    limits: Mapping[str, int] = ANNOTATION_LIMITS,
) -> str:
    """GitHub Actions annotations (``::error file=…,line=…,title=…::message``).

    Gates that could not run come first, then error findings, then warnings, each
    up to GitHub's per-step limit; one ``::notice`` counts what was left out.
    """
    lines = [gate_line(g) for g in report.gates]
    budget = dict(limits)
    left_out = {"error": 0, "warning": 0}
    for gate in report.gates:
        if gate.status == "error":
            if budget.get("error", 0) > 0:
                budget["error"] -= 1
                title = f"django-gates {gate.name}: could not run"
                lines.append(_command("error", gate.summary, title=title))
            else:
                left_out["error"] += 1
    for severity in ("error", "warning"):
        for gate in report.gates:
            for finding in gate.findings:
                if finding.severity != severity:
                    continue
                if budget.get(severity, 0) <= 0:
                    left_out[severity] += 1
                    continue
                budget[severity] -= 1
                message = finding.message
                if finding.hint:
                    message += f"\nFix: {finding.hint}"
                url = code_url(finding.code)
                if url:
                    message += f"\nDocs: {url}"
                if not finding.path:
                    message = f"{finding.object}: {message}"
                lines.append(
                    _command(
                        severity,
                        message,
                        file=_join(path_prefix, finding.path) if finding.path else None,
                        line=finding.line if finding.path else None,
                        title=f"{gate.name} {finding.code}",
                    )
                )
    if left_out["error"] or left_out["warning"]:
        lines.append(
            _command(
                "notice",
                f"{left_out['error']} more error(s) and {left_out['warning']} more warning(s) "
                "are not annotated: GitHub shows "
                f"{limits.get('error', 0)} error and {limits.get('warning', 0)} warning "
                "annotations per step. The job summary and the SARIF file list every finding.",
                title="django-gates: more findings",
            )
        )
    return "\n".join(lines) + "\n"


def render(report: Report, fmt: str, *, path_prefix: str = "") -> str:
    """Render ``report`` in ``fmt``; ``path_prefix`` (the project's directory in the
    repository) is put before file paths where GitHub needs repository paths."""
    if fmt == "markdown":
        return render_markdown(report, path_prefix=path_prefix)
    if fmt == "sarif":
        return render_sarif(report, path_prefix=path_prefix)
    if fmt == "github":
        return render_github(report, path_prefix=path_prefix)
    return RENDERERS[fmt](report)


RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": lambda report: render_markdown(report),
    "sarif": lambda report: render_sarif(report),
    "github": lambda report: render_github(report),
}
