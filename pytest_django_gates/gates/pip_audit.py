"""pip-audit gate: known vulnerabilities in the project's declared dependencies.

pip-audit audits the PROJECT's dependencies, never the environment django-gates
runs in. What is audited, in this order:

1. ``[tool.django-gates.pip-audit] requirements`` (files relative to the project root);
2. else ``requirements*.txt`` and ``requirements/*.txt`` in the project root;
3. else ``pylock.toml`` / ``pylock.*.toml`` (``pip-audit --locked``);
4. else the ``[project] dependencies`` of the project's pyproject.toml (pip-audit
   resolves them with pip, which needs the package index).

Requirement files are audited as written (``--no-deps --disable-pip``): every
requirement must be pinned with ``==``, as a lock file is, so the audit is
reproducible and needs no package index. ``resolve = true`` lets pip resolve them
instead.

Findings:

- ``pip-audit:<advisory id>`` (``pip-audit:GHSA-r3xc-prgr-mg9p``, ``pip-audit:PYSEC-…``):
  the dependency at that version has a published advisory. The message names the
  package, version, aliases (CVE ids) and the fixed versions; the finding points
  to the requirement's line. Accept one with ``[[tool.django-gates.pip-audit.ignore]]``
  (``id`` = the advisory id or an alias, and a ``reason``); an ignore that matches
  nothing is a warning (``pip-audit:unused-ignore``).
- ``pip-audit:unaudited``: pip-audit could not audit a dependency (a URL or editable
  requirement, a package the service does not know). It fails unless the package
  is listed in ``[[tool.django-gates.pip-audit.allow_unaudited]]`` with a reason.

A vulnerability service that cannot be reached, an unpinned requirement, a missing
file or a pip-audit crash is a gate error: nothing was audited, so nothing passes.

An unreachable service is one ``error``, never one finding per dependency. Its
summary names the service and its address and the two ways on: a service this
machine reaches (``[tool.django-gates.pip-audit] service = "osv"``, with
``osv_url`` pointing at an OSV mirror) or ``--skip pip-audit``. What counts as
unreachable:

- pip-audit stopped on the service's address: connection refused, a name that
  does not resolve, a proxy that refuses, a timeout, a TLS failure, or an HTTP
  error status (an ``osv_url`` that is not an OSV ``/v1/query`` endpoint);
- with the PyPI service, *every* dependency came back "not found on PyPI" (what a
  proxy or firewall that answers 404 for the JSON API produces). That alone does
  not tell a blocked service from a project whose every pin is private, so the
  gate asks the same service about one release that is certainly on PyPI
  (``pip==24.0``, a second pip-audit run): not found either, the service is not
  answering, an ``error``; found, the service works and each dependency it does
  not know is a ``pip-audit:unaudited`` finding as above. Once any dependency
  was audited the service evidently answers, and no second run is made.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_django_gates.gates import GateContext, _tools
from pytest_django_gates.report import Finding, GateResult

NAME = "pip-audit"

_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# pip-audit's skip reason for a package the PyPI JSON API answered 404 for.
_NOT_FOUND = "Dependency not found on PyPI"
# A release PyPI certainly has: asked about when PyPI knows none of the project's pins.
PROBE_REQUIREMENT = "pip==24.0"


@dataclass(frozen=True)
class Source:
    """What pip-audit is pointed at: its arguments and the files behind them."""

    args: tuple[str, ...]
    files: tuple[Path, ...]
    description: str


def canonical(name: str) -> str:
    """PEP 503 normalised package name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Service:
    """The vulnerability service pip-audit is told to query."""

    name: str  # the configured value: pypi, osv, esms
    label: str
    url: str
    osv_url: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


_SERVICE_URLS = {
    "pypi": ("PyPI", "https://pypi.org/pypi/<package>/<version>/json"),
    "osv": ("OSV", "https://api.osv.dev/v1/query"),
    "esms": ("ecosyste.ms", "https://advisories.ecosyste.ms/api/v1/advisories"),
}


def configured_service(ctx: GateContext) -> Service:
    name = str(ctx.config.get("pip-audit.service"))
    osv_url = str(ctx.config.get("pip-audit.osv_url") or "")
    if osv_url and name != "osv":
        raise _tools.ToolError(
            "[tool.django-gates.pip-audit] osv_url is set but service is not 'osv'"
        )
    label, url = _SERVICE_URLS.get(name, (name, name))
    return Service(name=name, label=label, url=osv_url or url, osv_url=osv_url)


def run(ctx: GateContext) -> GateResult:
    try:
        source = find_source(ctx)
        tool = _tools.find("pip-audit", NAME, ctx.config, ctx.rootdir)
        service = configured_service(ctx)
        data = _audit(tool, source.args, service, ctx)
        deps = [d for d in data["dependencies"] if isinstance(d, dict)]
        audited = sum(1 for d in deps if "skip_reason" not in d)
        if service.name == "pypi" and not audited and any(_not_found(d) for d in deps):
            why = _probe(tool, service, ctx)
            if why:
                raise _tools.ToolError(f"{tool.label}: {unreachable(service, why)}")
        findings = findings_from(data, ctx, source)
    except _tools.ToolError as exc:
        return _tools.error(NAME, str(exc))
    note = f"{audited} of {len(deps)} dependencies of {source.description} audited"
    return _tools.result(NAME, tool, findings, note=note)


def _audit(
    tool: _tools.Tool, args: tuple[str, ...], service: Service, ctx: GateContext
) -> dict[str, Any]:
    """pip-audit's JSON for ``args``; :class:`ToolError` when it produced none."""
    argv = [
        *tool.argv,
        *args,
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--desc",
        "on",
        "--aliases",
        "on",
        "--vulnerability-service",
        service.name,
        "--timeout",
        str(ctx.config.get("pip-audit.timeout")),
    ]
    if service.osv_url:
        argv += ["--osv-url", service.osv_url]
    proc = _tools.run(argv, cwd=ctx.rootdir, timeout=_tools.timeout(ctx.config))
    data = _load(proc.stdout)
    if proc.returncode not in (0, 1) or data is None:
        why = service_failure(proc.stderr, service)
        if why:
            raise _tools.ToolError(f"{tool.label}: {unreachable(service, why)}")
        raise _tools.ToolError(_explain_failure(tool, proc.returncode, proc.stderr))
    return data


def _not_found(dep: dict[str, Any]) -> bool:
    return str(dep.get("skip_reason", "")).startswith(_NOT_FOUND)


def _probe(tool: _tools.Tool, service: Service, ctx: GateContext) -> str:
    """Why the service is not answering ("" when it knows :data:`PROBE_REQUIREMENT`)."""
    with tempfile.TemporaryDirectory(prefix="django-gates-pip-audit-") as tmp:
        probe = Path(tmp) / "requirements.txt"
        probe.write_text(PROBE_REQUIREMENT + "\n", encoding="utf-8")
        data = _audit(
            tool, ("--requirement", str(probe), "--no-deps", "--disable-pip"), service, ctx
        )
    if any(_not_found(d) for d in data["dependencies"] if isinstance(d, dict)):
        return (
            "it answered 'not found' for every dependency and for "
            f"{PROBE_REQUIREMENT.replace('==', ' ')} too, which is on PyPI: a proxy or "
            "firewall in between?"
        )
    return ""


def unreachable(service: Service, why: str) -> str:
    """The summary of a gate whose vulnerability service does not answer."""
    if service.name != "osv":
        other = (
            '[tool.django-gates.pip-audit] service = "osv" (api.osv.dev), with '
            'osv_url = "https://<your OSV mirror>/v1/query" if that is not reachable either'
        )
    elif not service.osv_url:
        other = '[tool.django-gates.pip-audit] osv_url = "https://<your OSV mirror>/v1/query"'
    else:
        other = (
            "[tool.django-gates.pip-audit] osv_url pointing at a reachable OSV mirror "
            "(its /v1/query endpoint)"
        )
    return (
        f"the {service.label} vulnerability service ({service.url}) could not be used "
        f"({why}), so nothing was audited. Use a service this machine can reach: {other}; "
        f"or leave the gate out: django-gates run --skip {NAME}"
    )


_FAILED_AT = re.compile(r"host='([^']*)', port=(\d+)")
_HTTP_STATUS = re.compile(r"(\d{3}) (?:Client|Server) Error: (.*?) for url: (\S+)")
_REASONS = (  # the first marker found in the exception's line names the reason
    ("Unable to connect to proxy", "the proxy (HTTPS_PROXY) cannot be reached"),
    ("Tunnel connection failed", "the proxy (HTTPS_PROXY) refused the connection"),
    ("Connection refused", "connection refused"),
    ("Failed to resolve", "the host name does not resolve"),
    ("Name or service not known", "the host name does not resolve"),
    ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate is not trusted"),
    ("timed out", "timed out"),
    ("Network is unreachable", "the network is unreachable"),
)


def service_failure(stderr: str, service: Service) -> str:
    """Why pip-audit could not talk to ``service``, from its stderr ("" if it is not that).

    Only pip-audit's own errors count: a ``requests`` exception on the service's
    host, an HTTP error status from the service's URL, or pip-audit's "could not
    connect to ... vulnerability feed" (a connect timeout).
    """
    lines = [line.strip() for line in stderr.splitlines()]
    if any("vulnerability feed" in line for line in lines):
        return "the connection timed out"
    for line in reversed(lines):
        if not line.startswith("requests.exceptions."):
            continue
        status = _HTTP_STATUS.search(line)
        if status:
            if urlsplit(status.group(3)).hostname != service.host:
                return ""
            return f"it answered HTTP {status.group(1)} {status.group(2)} for {status.group(3)}"
        where = _FAILED_AT.search(line)
        if where is None or where.group(1) != service.host:
            return ""
        reason = next((text for marker, text in _REASONS if marker in line), "")
        exception = line.split(":", 1)[0].removeprefix("requests.exceptions.")
        return f"{reason or exception}, connecting to {where.group(1)}:{where.group(2)}"
    return ""


def find_source(ctx: GateContext) -> Source:
    root = ctx.rootdir
    configured = list(ctx.config.get("pip-audit.requirements") or [])
    if configured:
        files = []
        for name in configured:
            path = Path(name) if Path(name).is_absolute() else root / name
            if not path.is_file():
                raise _tools.ToolError(
                    f"requirement file {name} does not exist "
                    "([tool.django-gates.pip-audit] requirements)"
                )
            files.append(path)
        return _requirements(files, ctx)
    found = sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt"))
    if found:
        return _requirements(found, ctx)
    locks = sorted(root.glob("pylock.*.toml"))
    if (root / "pylock.toml").is_file():
        locks.insert(0, root / "pylock.toml")
    if locks:
        return Source(
            args=("--locked", str(root)),
            files=tuple(locks),
            description=", ".join(p.name for p in locks),
        )
    if (root / "pyproject.toml").is_file() and _has_dependencies(root / "pyproject.toml"):
        return Source(
            args=(str(root),),
            files=(root / "pyproject.toml",),
            description="pyproject.toml",
        )
    raise _tools.ToolError(
        f"no declared dependencies to audit in {root}: no requirements*.txt, pylock.toml or "
        "[project] dependencies; set [tool.django-gates.pip-audit] requirements"
    )


def _requirements(given: list[Path], ctx: GateContext) -> Source:
    # pip-audit does not follow ``-r other.txt`` lines when it does not resolve
    # (--disable-pip): every included file is passed on its own, or its pins
    # would go unaudited without a word.
    files = _with_includes(given)
    args: list[str] = []
    for path in files:
        args += ["--requirement", str(path)]
    if not ctx.config.get("pip-audit.resolve"):
        args += ["--no-deps", "--disable-pip"]
    return Source(
        args=tuple(args),
        files=tuple(files),
        description=", ".join(_tools.project_path(p, ctx.rootdir) for p in files),
    )


_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s+|=)(\S+)")


def _with_includes(files: list[Path]) -> list[Path]:
    """``files`` and every requirement file they include (``-r``), each once, in order."""
    ordered: list[Path] = []
    seen: set[Path] = set()
    pending = list(files)
    while pending:
        path = pending.pop(0)
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        if not path.is_file():
            raise _tools.ToolError(f"requirement file {path} (included by -r) does not exist")
        ordered.append(path)
        for line in path.read_text(encoding="utf-8").splitlines():
            match = _INCLUDE.match(line.strip())
            if match:
                pending.append(path.parent / match.group(1))
    return ordered


def _has_dependencies(pyproject: Path) -> bool:
    if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
        import tomllib
    else:  # pragma: no cover - version dependent
        import tomli as tomllib

    try:
        with pyproject.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return False
    project = data.get("project")
    return isinstance(project, dict) and bool(project.get("dependencies"))


def _load(stdout: str) -> dict[str, Any] | None:
    text = stdout.strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        return None
    return data


def _explain_failure(tool: _tools.Tool, code: int, stderr: str) -> str:
    lowered = stderr.lower()
    if "not pinned" in lowered:
        why = (
            "a requirement is not pinned to an exact version: pin every dependency "
            "(pip-compile, uv pip compile) or set [tool.django-gates.pip-audit] resolve = true"
        )
    elif "invalid requirements input" in lowered or "no such file" in lowered:
        why = "a requirement file could not be read"
    else:
        why = "it did not produce an audit"
    return f"{tool.label} failed (exit {code}): {why}: {_tools.tail(stderr, 800)}"


def findings_from(data: dict[str, Any], ctx: GateContext, source: Source) -> list[Finding]:
    ignores: dict[str, str] = {
        str(e["id"]).strip(): str(e["reason"]) for e in ctx.config.get("pip-audit.ignore")
    }
    allowed: dict[str, str] = {
        canonical(str(e["package"])): str(e["reason"])
        for e in ctx.config.get("pip-audit.allow_unaudited")
    }
    used_ignores: set[str] = set()
    locations = _requirement_lines(source.files, ctx.rootdir)
    findings: list[Finding] = []
    for dep in data.get("dependencies", []):
        if not isinstance(dep, dict) or "name" not in dep:
            raise _tools.ToolError(f"unexpected dependency in pip-audit's JSON: {dep!r:.200}")
        name = str(dep["name"])
        key = canonical(name)
        path, line = locations.get(key, (_tools.project_path(source.files[0], ctx.rootdir), None))
        if "skip_reason" in dep:
            if key in allowed:
                continue
            findings.append(
                Finding(
                    code="pip-audit:unaudited",
                    severity="error",
                    message=f"{name} could not be audited: {dep['skip_reason']}",
                    object=name,
                    path=path,
                    line=line,
                    hint=(
                        "Pin it to a released version from the package index, or accept it "
                        "with [[tool.django-gates.pip-audit.allow_unaudited]] "
                        f'package = "{name}" and a reason.'
                    ),
                )
            )
            continue
        version = str(dep.get("version", "?"))
        for vuln in dep.get("vulns", []):
            vid = str(vuln.get("id", "?"))
            aliases = [str(a) for a in vuln.get("aliases", []) if a != vid]
            matched = [i for i in (vid, *aliases) if i in ignores]
            if matched:
                used_ignores.update(matched)
                continue
            fixes = [str(v) for v in vuln.get("fix_versions", [])]
            described = " ".join(str(vuln.get("description") or "").split())
            if len(described) > 300:
                described = described[:297] + "..."
            message = f"{name} {version} is affected by {vid}"
            if aliases:
                message += f" ({', '.join(aliases)})"
            if described:
                message += f": {described}"
            message += f" Fixed in: {', '.join(fixes)}." if fixes else " No fixed version yet."
            if fixes:
                hint = (
                    f"Upgrade {name} to a fixed version ({' or '.join(fixes)}) and pin it, e.g. "
                    f"{name}=={_best_fix(version, fixes)}."
                )
            else:
                hint = (
                    "No release fixes it yet: remove or replace the dependency, or accept the "
                    f'risk with [[tool.django-gates.pip-audit.ignore]] id = "{vid}" and a reason.'
                )
            findings.append(
                Finding(
                    code=f"pip-audit:{vid}",
                    severity="error",
                    message=message,
                    object=f"{name}=={version}",
                    path=path,
                    line=line,
                    hint=hint,
                )
            )
    for vid in sorted(set(ignores) - used_ignores):
        findings.append(
            Finding(
                code="pip-audit:unused-ignore",
                severity="warning",
                message=f"the ignore for {vid} matches no advisory of the audited dependencies",
                object=vid,
                path=None,
                line=None,
                hint=f"Remove the [[tool.django-gates.pip-audit.ignore]] entry for {vid}.",
            )
        )
    return findings


def _best_fix(version: str, fixes: list[str]) -> str:
    """The smallest fixed version in the same release series, else the smallest one."""
    series = version.split(".")[:2]
    for fix in fixes:
        if fix.split(".")[:2] == series:
            return fix
    return fixes[0]


def _requirement_lines(files: tuple[Path, ...], rootdir: Path) -> dict[str, tuple[str, int]]:
    """canonical name -> (file, line) of the first line that requires it."""
    found: dict[str, tuple[str, int]] = {}
    for path in files:
        if path.suffix != ".txt":
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for number, text in enumerate(lines, start=1):
            if text.strip().startswith(("#", "-")):
                continue
            match = _REQ_NAME.match(text)
            if match:
                found.setdefault(
                    canonical(match.group(1)), (_tools.project_path(path, rootdir), number)
                )
    return found
