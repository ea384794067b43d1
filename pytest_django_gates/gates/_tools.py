"""Running external tools (ruff, mypy, gitleaks, pip-audit) as real processes.

How a tool is found, in this order:

1. ``[tool.django-gates.<gate>] command`` (or ``DJANGO_GATES_<GATE>_COMMAND``): a
   command line, split like a shell would; a relative program path is taken from
   the project root;
2. the executable of that name next to the Python running ``django-gates``, that
   is in the project's virtualenv, where the project's pinned version lives;
3. the first one on ``PATH``.

A tool that is not found, cannot start, times out, crashes or prints output that
cannot be parsed raises :class:`ToolError`; the gates turn it into an ``error``
result (fail closed), never into a pass. When ``[tool.django-gates.<gate>]
version`` is set, a different installed version is a :class:`ToolError` too.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_django_gates.config import GatesConfig
from pytest_django_gates.report import Finding, GateResult

_VERSION = re.compile(r"(\d+(?:\.\d+)+(?:[.-]?(?:post|dev|a|b|rc)\d*)?)")
# Output kept in an error summary: the end of stderr is where tools say what went wrong.
_TAIL_CHARS = 1500


class ToolError(Exception):
    """The tool could not run or said something unusable: the gate is an ``error``."""


@dataclass(frozen=True)
class Tool:
    """A located tool: the argv prefix that runs it and its version."""

    name: str
    argv: tuple[str, ...]
    version: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def locate(name: str, gate: str, config: GatesConfig, rootdir: Path) -> tuple[str, ...]:
    """The argv prefix that runs ``name`` (see the module docstring for the order)."""
    configured = str(config.get(f"{gate}.command") or "").strip()
    if configured:
        try:
            parts = shlex.split(configured)
        except ValueError as exc:
            raise ToolError(
                f"[tool.django-gates.{gate}] command {configured!r} cannot be parsed: {exc}"
            ) from None
        program = parts[0]
        if os.sep in program or (os.altsep and os.altsep in program):
            path = Path(program)
            resolved = path if path.is_absolute() else rootdir / path
            if not resolved.is_file():
                raise ToolError(
                    f"{name} not found at {resolved} "
                    f"(from [tool.django-gates.{gate}] command = {configured!r})"
                )
            return (str(resolved), *parts[1:])
        found = shutil.which(program)
        if found is None:
            raise ToolError(f"{program!r} (from [tool.django-gates.{gate}] command) is not on PATH")
        return (found, *parts[1:])
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return (str(beside),)
    found = shutil.which(name)
    if found is not None:
        return (found,)
    raise ToolError(
        f"{name} is not installed: it is not next to {sys.executable} nor on PATH. "
        f"Install the version your project pins (or set [tool.django-gates.{gate}] command)."
    )


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a tool to completion and capture its output; :class:`ToolError` if it cannot."""
    try:
        return subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(
            f"{Path(argv[0]).name} did not finish within {timeout:g} s and was stopped "
            "([tool.django-gates.run] timeout)"
        ) from None
    except OSError as exc:
        raise ToolError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None


def version_of(name: str, argv: Sequence[str], *, cwd: Path, flag: str = "--version") -> str:
    """The tool's version, from ``<tool> --version`` (or another sub-command)."""
    proc = run([*argv, *shlex.split(flag)], cwd=cwd, timeout=120)
    match = _VERSION.search(proc.stdout + "\n" + proc.stderr)
    if proc.returncode != 0 or match is None:
        raise ToolError(
            f"{name} did not report its version ({' '.join([*argv, flag])} exited "
            f"{proc.returncode}): {tail(proc.stderr or proc.stdout)}"
        )
    return match.group(1)


def find(
    name: str,
    gate: str,
    config: GatesConfig,
    rootdir: Path,
    *,
    version_flag: str = "--version",
) -> Tool:
    """Locate the tool, read its version and check it against ``<gate>.version``."""
    argv = locate(name, gate, config, rootdir)
    version = version_of(name, argv, cwd=rootdir, flag=version_flag)
    wanted = str(config.get(f"{gate}.version") or "").strip().lstrip("v")
    if wanted and version != wanted:
        raise ToolError(
            f"{name} {version} found ({argv[0]}), but [tool.django-gates.{gate}] version "
            f"requires {wanted}: install {name}=={wanted} or change the pin"
        )
    return Tool(name=name, argv=argv, version=version)


def tail(text: str, limit: int = _TAIL_CHARS) -> str:
    """The last ``limit`` characters of ``text``, stripped (what a crash says last)."""
    text = text.strip()
    if len(text) <= limit:
        return text or "(no output)"
    return "..." + text[-limit:]


def project_path(path: str | os.PathLike[str], rootdir: Path, base: Path | None = None) -> str:
    """``path`` relative to the project root, POSIX style.

    A relative ``path`` is taken from ``base`` (default the project root). A file
    outside the project root keeps a ``../`` path rather than an absolute one.
    """
    p = Path(path)
    if not p.is_absolute():
        p = (base or rootdir) / p
    try:
        return p.resolve().relative_to(rootdir.resolve()).as_posix()
    except ValueError:
        return Path(os.path.relpath(p.resolve(), rootdir.resolve())).as_posix()


def timeout(config: GatesConfig) -> float:
    return float(config.get("run.timeout"))


def error(gate: str, message: str) -> GateResult:
    """The ``error`` result of a gate whose tool could not do its job."""
    return GateResult(name=gate, status="error", summary=message)


def result(gate: str, tool: Tool, findings: Iterable[Finding], note: str = "") -> GateResult:
    """``failed`` on any error finding, else ``passed``; the summary names the tool version."""
    found = list(findings)
    errors = sum(1 for f in found if f.severity == "error")
    warnings = len(found) - errors
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    summary = f"{tool.label}: {', '.join(parts) or 'no findings'}"
    if note:
        summary += f" ({note})"
    return GateResult.from_findings(gate, found, summary=summary)
