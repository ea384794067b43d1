"""The one report model shared by every gate, and its versioned JSON form.

Shape (``format`` 1, a stable contract)::

    {"format": 1,
     "tool": {"name": "pytest-django-gates", "version": ..., ...},
     "gates": [{"name": ..., "status": "passed|failed|error|skipped", "summary": ...,
                "findings": [{"code", "severity": "error|warning", "message",
                              "object", "path", "line", "hint"}]}]}

``object`` names what a finding is about: ``app_label.migration_name`` for a
migration, the pytest node id for a test, the setting name for a setting.

Gates build :class:`GateResult` objects and never print or exit; rendering lives
in :mod:`pytest_django_gates.render`, exit codes in :func:`exit_code`.

**Writing files.** Every file django-gates writes in a project (reports, ``--output``
files, baselines, the lock trace, the coverage data kept by ``django-gates run``,
``.gitleaksignore``) goes through :func:`atomic_write_text` or
:func:`atomic_write_bytes`: the content is written to a temporary file next to the
target, synced, then renamed over it (``os.replace``). A reader, a concurrent run or
the next run after a ``kill -9`` sees the old file or the new one, never a mix or a
half. Two runs writing the same file at the same time do not lock each other out:
*the last writer wins*, and the file holds that run's whole content (each run computes
a whole file from the project it read; ``.gitleaksignore`` is appended to by reading
it and writing it whole, so of two concurrent appends the last one is kept). A run
killed between creating its temporary file and the rename leaves that file behind;
its name says whose it is (``.<target>.djg-<host>-<pid>.<random>.tmp``), and the next
write of the same target removes those of processes of this host that no longer
exist, never the one of a live writer.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import re
import socket
import stat
import sys
import tempfile
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from pytest_django_gates import __version__
from pytest_django_gates.config import ConfigError

FORMAT_VERSION = 1

Status = Literal["passed", "failed", "error", "skipped"]
Severity = Literal["error", "warning"]

STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "skipped")
SEVERITIES: tuple[Severity, ...] = ("error", "warning")

# Exit codes of ``django-gates`` (a stable contract).
EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ERROR = 3

# When shards are merged, the worst status wins, in this order.
_STATUS_RANK: dict[Status, int] = {"skipped": 0, "passed": 1, "failed": 2, "error": 3}


class ReportError(ValueError):
    """A report file that cannot be read: names the file and what is wrong."""


@dataclass(frozen=True)
class Finding:
    """One thing a gate found. ``code`` never changes meaning once released."""

    code: str
    severity: Severity
    message: str
    object: str
    path: str | None = None
    line: int | None = None
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "object": self.object,
            "path": self.path,
            "line": self.line,
            "hint": self.hint,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Finding:
        _require_keys(data, ("code", "severity", "message", "object"), where)
        severity = data["severity"]
        if severity not in SEVERITIES:
            raise ReportError(
                f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        line = data.get("line")
        if line is not None and (not isinstance(line, int) or isinstance(line, bool)):
            raise ReportError(f"{where}: line must be an integer or null, got {line!r}")
        path = data.get("path")
        if path is not None and not isinstance(path, str):
            raise ReportError(f"{where}: path must be a string or null, got {path!r}")
        for key in ("code", "message", "object"):
            if not isinstance(data[key], str):
                raise ReportError(f"{where}: {key} must be a string, got {data[key]!r}")
        hint = data.get("hint") or ""
        if not isinstance(hint, str):
            raise ReportError(f"{where}: hint must be a string, got {hint!r}")
        return cls(
            code=data["code"],
            severity=cast(Severity, severity),
            message=data["message"],
            object=data["object"],
            path=path,
            line=line,
            hint=hint,
        )

    def sort_key(self) -> tuple[str, int, str, str, str, str, str]:
        """The order of findings in a gate result: a function of their content alone
        (location, code, object, message, then severity and hint), so that a report
        never depends on the order its findings were found in."""
        return (
            self.path or "",
            self.line or 0,
            self.code,
            self.object,
            self.message,
            self.severity,
            self.hint,
        )


@dataclass(frozen=True)
class GateResult:
    """The outcome of one gate.

    A gate that could not look (crash, missing tool, unreachable data) is
    ``error``, never ``passed``: gates fail closed. ``findings`` are kept in
    :meth:`Finding.sort_key` order whatever order they were given in, so every
    rendering of a report (JSON, text, Markdown, SARIF, annotations) is the same
    for the same findings.
    """

    name: str
    status: Status
    summary: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.findings, key=Finding.sort_key))
        if ordered != self.findings:
            object.__setattr__(self, "findings", ordered)
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
        if self.status == "passed" and any(f.severity == "error" for f in self.findings):
            raise ValueError(f"gate {self.name!r} cannot pass with error findings")

    @classmethod
    def from_findings(
        cls, name: str, findings: Iterable[Finding], *, summary: str | None = None
    ) -> GateResult:
        """``failed`` when any finding is an error, else ``passed``."""
        ordered = tuple(sorted(findings, key=Finding.sort_key))
        errors = sum(1 for f in ordered if f.severity == "error")
        warnings = len(ordered) - errors
        status: Status = "failed" if errors else "passed"
        if summary is None:
            summary = _count_summary(errors, warnings)
        return cls(name=name, status=status, summary=summary, findings=ordered)

    @classmethod
    def crashed(cls, name: str, exc: BaseException) -> GateResult:
        """The result of a gate that raised: an ``error``, with the exception and
        the last frame of its traceback (where it was raised)."""
        where = ""
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            last = frames[-1]
            where = f" (at {last.filename}:{last.lineno} in {last.name})"
        return cls(
            name=name,
            status="error",
            summary=f"gate could not run: {type(exc).__name__}: {exc}{where}",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> GateResult:
        _require_keys(data, ("name", "status", "summary", "findings"), where)
        status = data["status"]
        if status not in STATUSES:
            raise ReportError(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
        raw_findings = data["findings"]
        if not isinstance(raw_findings, list):
            raise ReportError(f"{where}: findings must be a list")
        findings = tuple(
            Finding.from_dict(item, f"{where}.findings[{i}]")
            for i, item in enumerate(_mappings(raw_findings, f"{where}.findings"))
        )
        try:
            return cls(
                name=str(data["name"]),
                status=cast(Status, status),
                summary=str(data["summary"]),
                findings=findings,
            )
        except ValueError as exc:
            raise ReportError(f"{where}: {exc}") from exc

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


@dataclass(frozen=True)
class Report:
    gates: tuple[GateResult, ...]
    tool: Mapping[str, Any] = field(default_factory=lambda: tool_info())
    # Set in the report of one shard of a suite split across runners: which shard, and
    # the counts the merge sums (see :mod:`pytest_django_gates.shards`). An optional key:
    # absent from every other report.
    shard: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": FORMAT_VERSION, "tool": dict(self.tool)}
        if self.shard is not None:
            data["shard"] = dict(self.shard)
        data["gates"] = [g.to_dict() for g in self.gates]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Report:
        if not isinstance(data, dict):
            raise ReportError(f"{where}: a report is a JSON object, got {type(data).__name__}")
        fmt = data.get("format")
        if fmt != FORMAT_VERSION:
            raise ReportError(
                f"{where}: report format {fmt!r} is not supported "
                f"(expected {FORMAT_VERSION}); regenerate it with this version"
            )
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ReportError(f"{where}: tool must be an object")
        gates = data.get("gates")
        if not isinstance(gates, list):
            raise ReportError(f"{where}: gates must be a list")
        shard = data.get("shard")
        if shard is not None and not isinstance(shard, dict):
            raise ReportError(f"{where}: shard must be an object")
        return cls(
            shard=shard,
            gates=tuple(
                GateResult.from_dict(g, f"{where}: gates[{i}]")
                for i, g in enumerate(_mappings(gates, f"{where}: gates"))
            ),
            tool=tool,
        )

    @classmethod
    def load(cls, path: Path) -> Report:
        return cls.from_dict(read_json(path, what="report"), str(path))

    def write(self, path: Path) -> None:
        atomic_write_text(path, self.to_json())

    def gate(self, name: str) -> GateResult | None:
        for g in self.gates:
            if g.name == name:
                return g
        return None


def tool_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": "pytest-django-gates",
        "version": __version__,
        "python": platform.python_version(),
    }
    django = sys.modules.get("django")
    if django is not None:
        # Already imported: its __version__ is what Django's build writes into the
        # distribution metadata, without the cost of a metadata lookup at start-up.
        info["django"] = django.__version__
        return info
    try:
        from importlib.metadata import version

        info["django"] = version("django")
    except Exception:  # pragma: no cover - Django is a dependency
        info["django"] = None
    return info


def merge_reports(reports: Sequence[Report]) -> Report:
    """Merge shard reports: same-named gates are combined, the worst status wins.

    Findings that appear in several shards (same code, object, path, line and
    message) are kept once.
    """
    order: list[str] = []
    merged: dict[str, list[GateResult]] = {}
    for report in reports:
        for gate in report.gates:
            if gate.name not in merged:
                order.append(gate.name)
                merged[gate.name] = []
            merged[gate.name].append(gate)
    gates: list[GateResult] = []
    for name in order:
        parts = merged[name]
        if len(parts) == 1:
            gates.append(parts[0])
            continue
        status = max((p.status for p in parts), key=_STATUS_RANK.__getitem__)
        seen: dict[tuple[Any, ...], Finding] = {}
        for part in parts:
            for f in part.findings:
                seen.setdefault((f.code, f.object, f.path, f.line, f.message, f.severity), f)
        findings = tuple(sorted(seen.values(), key=Finding.sort_key))
        summaries = sorted({p.summary for p in parts})
        summary = "; ".join(summaries) if len(summaries) <= 3 else f"{len(parts)} shards"
        if status == "passed" and any(f.severity == "error" for f in findings):
            status = "failed"
        gates.append(GateResult(name=name, status=status, summary=summary, findings=findings))
    tool = reports[0].tool if reports else tool_info()
    return Report(gates=tuple(gates), tool=tool)


def exit_code(report: Report) -> int:
    """3 when any gate could not run, else 1 when any failed, else 0."""
    statuses = {g.status for g in report.gates}
    if "error" in statuses:
        return EXIT_ERROR
    if "failed" in statuses:
        return EXIT_FAILED
    return EXIT_PASSED


def read_json(
    path: Path, *, what: str, next_step: str = "", error: type[ValueError] = ReportError
) -> Any:
    """Parse the JSON file at ``path``.

    A file that cannot be read or parsed raises ``error`` naming ``what``, the
    file, the line and column of a syntax error, and ``next_step`` when given.
    """
    label = f"{what} {path}"
    suffix = f"; {next_step}" if next_step else ""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{label}: cannot read: {exc.strerror or exc}{suffix}") from exc
    except UnicodeDecodeError as exc:
        raise error(
            f"{label}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
            f"{exc.start}); write it as UTF-8 JSON{suffix}"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"{label}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}){suffix}"
        ) from exc
    except RecursionError:
        raise error(
            f"{label}: nested too deeply to read{suffix or '; fix or regenerate the file'}"
        ) from None
    if _SURROGATE.search(text) and _has_lone_surrogate(data):
        raise error(
            f"{label}: a string holds a lone surrogate escape (\\ud800-\\udfff), which is "
            f"not a character{suffix or '; fix or regenerate the file'}"
        )
    return data


# A \ud800-\udfff escape: the only way JSON text can hold a string that is not Unicode.
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(data: Any) -> bool:
    """Whether a string (key or value) of parsed JSON holds a lone surrogate: it can be
    neither printed nor written as UTF-8."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


class WriteError(ReportError, ConfigError):
    """A report, output or baseline file that cannot be written (a usage error: exit 2).

    The message names the file and what to do; the previous file, if any, is intact."""


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never half.

    The parent directory must exist: a missing one is a :class:`WriteError` naming
    it (a typo in a path should not grow a directory tree), as is any other failure
    to write (permissions, a full disk); the temporary file is removed and nothing
    is half-written. The file gets the mode a plain ``open(path, "w")`` would give
    it: an existing file keeps its mode, a new one follows the umask (``mkstemp``
    alone would make every report 0600). Concurrent writers: the last one wins (see
    the module docstring).
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """:func:`atomic_write_text` for bytes (a coverage data file)."""
    path = Path(path)
    if path.parent.exists() and not path.parent.is_dir():
        raise WriteError(
            f"cannot write {path}: {path.parent} is not a directory; choose another path"
        )
    if not path.parent.is_dir():
        raise WriteError(
            f"cannot write {path}: the directory {path.parent} does not exist; create it "
            f"first (mkdir -p {path.parent}) or choose another path"
        )
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    remove_stray_temp_files(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteError(
            f"cannot write {path}: {exc.strerror or exc} in {path.parent}; choose a writable "
            "directory"
        ) from exc
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# The temporary file of an atomic write: .<target>.djg-<host>-<pid>.<mkstemp's random>.tmp
_TEMP_NAME = re.compile(r"\.djg-(?P<host>[0-9a-f]{6})-(?P<pid>[0-9]+)\.[^.]+\.tmp\Z")


@functools.cache
def _host_tag() -> str:
    """A short tag of this host: a PID means something only on the host that gave it."""
    return hashlib.blake2s(socket.gethostname().encode(), digest_size=3).hexdigest()


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.djg-{_host_tag()}-{os.getpid()}."


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (when in doubt: yes, so that its file is kept)."""
    if pid <= 0 or sys.platform == "win32":  # os.kill would terminate it there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, as another user
        return True
    try:  # a zombie (killed, not yet reaped) writes nothing any more
        with open(f"/proc/{pid}/stat", "rb") as fh:
            line = fh.read()
    except OSError:  # no /proc (macOS), or it just went
        return True
    # The state follows the command's name, in parentheses, which may hold any byte.
    end = line.rfind(b")")
    return line[end + 2 : end + 3] != b"Z"


def remove_stray_temp_files(path: Path) -> list[Path]:
    """Remove the temporary files of atomic writes of ``path`` that a killed process left
    behind: those named for a process of this host that no longer exists. The file of a
    live writer (this process included) is never touched. The removed files."""
    prefix = f".{path.name}."
    removed: list[Path] = []
    try:
        names = [n for n in os.listdir(path.parent) if n.startswith(prefix)]
    except OSError:
        return removed
    for name in names:
        match = _TEMP_NAME.match(name, len(prefix) - 1)
        if match is None or match["host"] != _host_tag():
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _alive(pid):
            continue
        stray = path.parent / name
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            stray.unlink()
            removed.append(stray)
    return removed


def _count_summary(errors: int, warnings: int) -> str:
    if not errors and not warnings:
        return "no findings"
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)


def _require_keys(data: Mapping[str, Any], keys: Sequence[str], where: str) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise ReportError(f"{where}: missing key(s) {', '.join(missing)}")


def _mappings(items: list[Any], where: str) -> list[Mapping[str, Any]]:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ReportError(f"{where}[{i}]: expected an object, got {type(item).__name__}")
    return cast(list[Mapping[str, Any]], items)
