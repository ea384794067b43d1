"""The deploy gate, end to end: settings probe + source rules -> allows -> one :class:`GateResult`.

1. The production settings module comes from ``deploy_settings`` (``--settings``);
   unset, it is found automatically (a single ``settings/production.py``,
   ``settings/prod.py`` or ``settings/production/__init__.py`` under the project).
2. The project directory (put first on ``sys.path``) is ``deploy.project_dir``, else
   the first of: the project root, ``sys.path`` entries inside it, directories
   holding a ``manage.py`` (two levels deep) where the module is a file.
3. The settings source is read with :mod:`ast` (:mod:`.settings_source`). When
   ``SECRET_KEY`` or ``ALLOWED_HOSTS`` is read from an environment variable that
   is unset or empty, the probe gets a strong throwaway key / the placeholder
   host ``deploy-check.invalid`` in that variable, and the summary says so.
4. :mod:`.probe` runs in a clean subprocess (``sys.executable -m …``, cwd = the
   project directory, no bytecode written). A settings module that does not
   import, or with which ``django.setup()`` fails, is a :class:`ConfigError`
   (exit 2) naming the error and its file:line. A probe that times out or leaves
   no result is :class:`DeployGateError`: the gate reports ``error`` (exit 3).
5. Source rules run here, over the settings source and the project's code. Every
   rule, and each of Django's check functions, runs on its own (:mod:`.blind`): one
   that raises, or cannot look (an import that fails here), stops nothing else and
   is a ``DJG393`` error finding that no allow, ``SILENCED_SYSTEM_CHECKS``, fail
   level or baseline hides; the other findings are reported, and the gate's status
   is ``error`` (exit 3). It never passes.
6. Every issue gets ``path``/``line``: the file and line that set the setting
   (following ``from .base import *``), else the settings module (a default).
7. Scoped allows hide matching findings; ``SILENCED_SYSTEM_CHECKS`` is honoured
   (for Django's ids and DJG codes alike) but silenced findings stay in the report
   as non-failing warnings prefixed "silenced by SILENCED_SYSTEM_CHECKS".
8. Severity: rule / check level ``error`` always fails; ``warning`` fails when
   ``deploy.fail_level`` is ``warning`` (the default); ``info`` never fails.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import site
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest_django_gates
from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.deploy import baseline
from pytest_django_gates.deploy.allows import Allow, parse_allows
from pytest_django_gates.deploy.blind import CANNOT_LOOK, Blind, describe, run_rule
from pytest_django_gates.deploy.blind import issues as blind_issues
from pytest_django_gates.deploy.rules import (
    PROBE_OPTIONS,
    Issue,
    Level,
    SourceContext,
    all_rules,
    source_rules,
)
from pytest_django_gates.deploy.settings_source import SettingsSource, env_reads
from pytest_django_gates.deploy.sources import SKIP_DIRS, ProjectSources
from pytest_django_gates.report import Finding, GateResult, Severity

GATE = "deploy"
UNUSED_ALLOW = "DJG390"
EXPIRED_ALLOW = "DJG391"
UNPARSABLE = "DJG392"
PLACEHOLDER_HOST = "deploy-check.invalid"
SILENCED_PREFIX = "silenced by SILENCED_SYSTEM_CHECKS: "

_MODULE_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_SETTING_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_CANDIDATES = (
    ("settings", "production.py"),
    ("settings", "prod.py"),
    ("settings", "production", "__init__.py"),
)
# A flat layout (startproject's): a module beside settings.py.
_BESIDE_SETTINGS = ("production", "prod", "settings_production", "settings_prod")

# Django check ids whose message has no object: the setting they are about.
CHECK_SETTINGS: Mapping[str, str] = {
    "security.W001": "MIDDLEWARE",
    "security.W002": "MIDDLEWARE",
    "security.W003": "MIDDLEWARE",
    "security.W004": "SECURE_HSTS_SECONDS",
    "security.W005": "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "security.W006": "SECURE_CONTENT_TYPE_NOSNIFF",
    "security.W007": "SECURE_BROWSER_XSS_FILTER",
    "security.W008": "SECURE_SSL_REDIRECT",
    "security.W009": "SECRET_KEY",
    "security.W010": "SESSION_COOKIE_SECURE",
    "security.W011": "SESSION_COOKIE_SECURE",
    "security.W012": "SESSION_COOKIE_SECURE",
    "security.W013": "SESSION_COOKIE_HTTPONLY",
    "security.W014": "SESSION_COOKIE_HTTPONLY",
    "security.W015": "SESSION_COOKIE_HTTPONLY",
    "security.W016": "CSRF_COOKIE_SECURE",
    "security.W017": "CSRF_COOKIE_HTTPONLY",
    "security.W018": "DEBUG",
    "security.W019": "X_FRAME_OPTIONS",
    "security.W020": "ALLOWED_HOSTS",
    "security.W021": "SECURE_HSTS_PRELOAD",
    "security.W022": "SECURE_REFERRER_POLICY",
    "security.E023": "SECURE_REFERRER_POLICY",
    "security.E024": "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "security.W025": "SECRET_KEY",
    "security.E100": "DEFAULT_HASHING_ALGORITHM",
    "security.E101": "CSRF_FAILURE_VIEW",
    "security.E102": "CSRF_FAILURE_VIEW",
    "caches.E001": "CACHES",
    "caches.W002": "CACHES",
    "caches.W003": "CACHES",
    "templates.E001": "TEMPLATES",
    "templates.E002": "TEMPLATES",
    "templates.W003": "TEMPLATES",
    "urls.W002": "ROOT_URLCONF",
    "urls.W003": "ROOT_URLCONF",
    "urls.E004": "ROOT_URLCONF",
    "auth.E001": "AUTH_USER_MODEL",
    "auth.E002": "AUTH_USER_MODEL",
    "auth.E003": "AUTH_USER_MODEL",
    "staticfiles.E001": "STATICFILES_DIRS",
    "staticfiles.E002": "STATICFILES_DIRS",
    "staticfiles.W004": "STATICFILES_DIRS",
    # Django 6.0+
    "security.E026": "SECURE_CSP",
    "security.W027": "TEMPLATES",
    # Django 6.1+
    "mail.W001": "MAILERS",
    "mail.E001": "MAILERS",
}

# The fix for Django's deploy checks, when Django gives no hint.
CHECK_FIXES: Mapping[str, str] = {
    "security.W001": 'add "django.middleware.security.SecurityMiddleware" first in MIDDLEWARE',
    "security.W002": 'add "django.middleware.clickjacking.XFrameOptionsMiddleware" to MIDDLEWARE',
    "security.W003": 'add "django.middleware.csrf.CsrfViewMiddleware" to MIDDLEWARE',
    "security.W004": "SECURE_HSTS_SECONDS = 31536000 once the whole site is HTTPS-only "
    "(start with 3600 and raise it)",
    "security.W005": "SECURE_HSTS_INCLUDE_SUBDOMAINS = True when every subdomain is HTTPS-only",
    "security.W006": "SECURE_CONTENT_TYPE_NOSNIFF = True",
    "security.W008": "SECURE_SSL_REDIRECT = True (with SECURE_PROXY_SSL_HEADER behind a proxy), "
    "or allow it when the proxy redirects",
    "security.W009": 'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"], a value of 50+ random '
    "characters (django.core.management.utils.get_random_secret_key())",
    "security.W010": "SESSION_COOKIE_SECURE = True",
    "security.W011": "SESSION_COOKIE_SECURE = True",
    "security.W012": "SESSION_COOKIE_SECURE = True",
    "security.W013": "SESSION_COOKIE_HTTPONLY = True",
    "security.W014": "SESSION_COOKIE_HTTPONLY = True",
    "security.W015": "SESSION_COOKIE_HTTPONLY = True",
    "security.W016": "CSRF_COOKIE_SECURE = True",
    "security.W018": "DEBUG = False in the production settings",
    "security.W019": 'X_FRAME_OPTIONS = "DENY"',
    "security.W020": 'ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")',
    "security.W021": "SECURE_HSTS_PRELOAD = True (then submit the domain to hstspreload.org)",
    "security.W022": 'SECURE_REFERRER_POLICY = "same-origin"',
    "security.W025": "read the keys from the environment: 50+ random characters each",
}


class DeployGateError(RuntimeError):
    """The deploy gate could not run (exit 3); the message says why and what to do."""


@dataclass(frozen=True)
class DeployRun:
    """The outcome of one deploy-gate run."""

    result: GateResult
    settings_module: str
    project_dir: Path
    supplied: Mapping[str, str] = field(default_factory=dict)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.result.findings


# -- where to look ---------------------------------------------------------------


def _skip_dir(path: Path) -> bool:
    return path.name.startswith(".") or path.name in SKIP_DIRS or (path / "pyvenv.cfg").exists()


def _manage_py_dirs(rootdir: Path, depth: int = 2) -> list[Path]:
    found: list[Path] = []
    level = [rootdir]
    for _ in range(depth + 1):
        following: list[Path] = []
        for directory in level:
            if (directory / "manage.py").is_file():
                found.append(directory)
            try:
                children = sorted(p for p in directory.iterdir() if p.is_dir() and not _skip_dir(p))
            except OSError:
                continue
            following.extend(children)
        level = following
    return found


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _candidate_dirs(cfg: GatesConfig, rootdir: Path) -> tuple[list[Path], bool]:
    """Directories the settings module may live under; ``True`` when set explicitly."""
    explicit = cfg.path("deploy.project_dir")
    if explicit is not None:
        if not explicit.is_dir():
            raise ConfigError(
                f"deploy.project_dir {cfg['deploy.project_dir']!r} "
                f"(from {cfg.source('deploy.project_dir')}) is not a directory: {explicit}"
            )
        return [explicit.resolve()], True
    dirs = [rootdir]
    for entry in sys.path:
        candidate = Path(entry or ".").resolve()
        if candidate.is_dir() and _inside(candidate, rootdir):
            dirs.append(candidate)
    dirs.extend(_manage_py_dirs(rootdir))
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique, False


def _discover(directory: Path, depth: int = 4) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, _ in os.walk(directory):
        here = Path(dirpath)
        rel = here.relative_to(directory).parts
        dirnames[:] = sorted(d for d in dirnames if not _skip_dir(here / d))
        if len(rel) >= depth:
            dirnames[:] = []
        for pattern in _CANDIDATES:
            if here.name == pattern[0] and (here.joinpath(*pattern[1:])).is_file():
                parts = [*rel, pattern[1].removesuffix(".py")]
                if all(p.isidentifier() for p in parts):
                    found.append(".".join(parts))
        if (here / "settings.py").is_file():
            for name in _BESIDE_SETTINGS:
                if (here / f"{name}.py").is_file() and all(p.isidentifier() for p in rel):
                    found.append(".".join([*rel, name]))
    return found


def resolve_target(cfg: GatesConfig, rootdir: Path) -> tuple[str, Path, bool]:
    """The settings module, the project directory, and whether the module was discovered."""
    rootdir = rootdir.resolve()
    module = cfg["deploy_settings"]
    dirs, explicit = _candidate_dirs(cfg, rootdir)
    if module:
        if not _MODULE_RE.match(module):
            raise ConfigError(
                f"deploy_settings {module!r} (from {cfg.source('deploy_settings')}) is not a "
                "dotted module name; expected e.g. config.settings.production"
            )
        for directory in dirs:
            if SettingsSource(module=module, roots=(directory,)).find(module):
                return module, directory, False
        return module, dirs[0], False
    order = dirs if explicit else [*dirs[1:], dirs[0]]  # manage.py dirs before the root
    for directory in order:
        hits = sorted(set(_discover(directory)))
        if len(hits) == 1:
            return hits[0], directory, True
        if len(hits) > 1:
            raise ConfigError(
                f"no deploy_settings configured and several production settings modules "
                f'under {directory}: {", ".join(hits)}; set deploy_settings = "..." under '
                "[tool.django-gates] in pyproject.toml (or pass --gates-deploy-settings=MODULE "
                "to pytest, --settings to django-gates deploy-check)"
            )
    raise ConfigError(
        "no production settings module: no deploy_settings configured, and no "
        "settings/production.py, settings/prod.py, or production.py / settings_production.py "
        f"beside a settings.py under {rootdir}; set deploy_settings = "
        '"config.settings.production" under [tool.django-gates] in pyproject.toml (or pass '
        "--gates-deploy-settings=MODULE to pytest, --settings to django-gates deploy-check), "
        'run django-gates init to find and write it, or leave "deploy" out of '
        "[tool.django-gates] gates"
    )


# -- the probe -------------------------------------------------------------------


def _import_roots(project_dir: Path, environ: Mapping[str, str]) -> list[Path]:
    """Where the probe's Python finds modules: the project, ``PYTHONPATH``, site-packages."""
    roots = [project_dir]
    roots.extend(Path(p) for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    with contextlib.suppress(AttributeError):  # virtualenv's old site module has none
        roots.extend(Path(p) for p in site.getsitepackages())
    return [r for r in roots if r.is_dir()]


def placeholders(source: SettingsSource, environ: Mapping[str, str]) -> dict[str, str]:
    """Environment variables to supply: SECRET_KEY / ALLOWED_HOSTS reads that are unset."""
    supplied: dict[str, str] = {}
    for setting in ("SECRET_KEY", "ALLOWED_HOSTS"):
        for binding in source.bindings(setting):
            for expression in source.expressions(binding):
                for read in env_reads(expression):
                    if environ.get(read.variable) or read.variable in supplied:
                        continue
                    supplied[read.variable] = (
                        "djg-throwaway-" + secrets.token_urlsafe(48)
                        if setting == "SECRET_KEY"
                        else PLACEHOLDER_HOST
                    )
    return supplied


def _tail(text: str, lines: int = 12) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n".join(kept)


def run_probe(
    module: str,
    project_dir: Path,
    environ: Mapping[str, str],
    timeout: float,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run :mod:`.probe` in a subprocess and return its JSON result.

    ``options``: the gate options settings rules read (``PROBE_OPTIONS``), passed as JSON.
    """
    env = dict(environ)
    env["DJANGO_SETTINGS_MODULE"] = module
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    package_parent = str(Path(pytest_django_gates.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), package_parent) if p)
    with tempfile.TemporaryDirectory(prefix="django-gates-deploy-") as tmp:
        output = Path(tmp) / "probe.json"
        command = [
            sys.executable,
            "-m",
            "pytest_django_gates.deploy.probe",
            "--settings",
            module,
            "--project-dir",
            str(project_dir),
            "--output",
            str(output),
            "--options",
            json.dumps(dict(options or {})),
        ]
        try:
            done = subprocess.run(
                command,
                cwd=project_dir,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DeployGateError(
                f"the settings probe for {module} did not finish within {timeout:g}s "
                "(deploy.timeout); something at import or django.setup() time blocks"
            ) from None
        except OSError as exc:
            raise DeployGateError(f"cannot start the settings probe: {exc}") from exc
        try:
            text = output.read_text(encoding="utf-8")
        except OSError:
            detail = _tail(done.stderr) or _tail(done.stdout) or "no output"
            raise DeployGateError(
                f"the settings probe for {module} exited with code {done.returncode} "
                f"without a result:\n{detail}"
            ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DeployGateError(f"the settings probe wrote invalid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("protocol") != 1:
        raise DeployGateError("the settings probe answered with an unknown protocol")
    return data


# -- issues -> findings -------------------------------------------------------------


def _check_issue(check: Mapping[str, Any]) -> tuple[Issue, bool]:
    level_number = int(check.get("level", 30))
    level: Level = "error" if level_number >= 40 else "warning" if level_number >= 30 else "info"
    code = str(check.get("id") or "checks.unnamed")
    message = str(check.get("msg", ""))
    obj = str(check.get("obj") or "")
    if not obj:
        obj = CHECK_SETTINGS.get(code, code)
        if code == "security.W025" and "SECRET_KEY_FALLBACKS" in message:
            obj = "SECRET_KEY_FALLBACKS"
    path = check.get("path")
    line = check.get("line")
    issue = Issue(
        code=code,
        level=level,
        message=message,
        object=obj,
        hint=str(check.get("hint") or CHECK_FIXES.get(code, "")),
        path=str(path) if path else None,
        line=line if isinstance(line, int) else None,
    )
    return issue, bool(check.get("silenced"))


def _severity(level: Level, fail_level: str) -> Severity:
    if level == "error" or (level == "warning" and fail_level == "warning"):
        return "error"
    return "warning"


def _relative(path: Path | str | None, rootdir: Path) -> str | None:
    if path is None:
        return None
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(rootdir).as_posix()
    except ValueError:
        return resolved.as_posix()


def _allow_line(pyproject: Path | None, allow: Allow) -> int | None:
    if pyproject is None:
        return None
    try:
        lines = pyproject.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    header = re.compile(r"^\s*\[\[\s*tool\.django-gates\.deploy\.allow\s*\]\]")
    seen = -1
    for number, text in enumerate(lines, start=1):
        if header.match(text):
            seen += 1
            if seen == allow.index:
                for offset, following in enumerate(lines[number:], start=number + 1):
                    if following.strip().startswith("["):
                        break
                    if re.match(r"^\s*check\s*=", following):
                        return offset
                return number
    return None


@dataclass
class _Tally:
    allowed: list[str] = field(default_factory=list)
    silenced: list[str] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    expired_hits: dict[int, int] = field(default_factory=dict)


class _Lines:
    """The source text of findings' lines, and whether the change under review touched
    them (the git diff is computed only when an allow without ``line`` needs it)."""

    def __init__(self, cfg: GatesConfig, rootdir: Path, environ: Mapping[str, str]) -> None:
        self.cfg, self.rootdir, self.environ = cfg, rootdir, environ
        self._files: dict[str, list[str]] = {}
        self._changed: dict[str, set[int]] | None = None
        self.base = ""

    def text(self, path: str | None, line: int | None) -> str | None:
        if not path or not line:
            return None
        if path not in self._files:
            try:
                source = (self.rootdir / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                source = ""
            self._files[path] = source.splitlines()
        lines = self._files[path]
        return lines[line - 1] if 0 < line <= len(lines) else None

    def changed(self, path: str | None, line: int | None) -> bool:
        if not path or not line:
            return False
        if self._changed is None:
            from pytest_django_gates.coverage import patch

            # an error about the base names where it came from (DJANGO_GATES_RUN_SINCE, ...)
            since_source = patch.since_source(self.cfg.source("run.since"))
            base = patch.find_base(str(self.cfg.get("run.since") or ""), since_source, self.environ)
            self._changed = {}
            if base is not None:
                diff = patch.changed_lines(self.rootdir, base, what="the deploy gate's allows")
                self._changed = diff.changed
                self.base = f"{base.ref}, merge base {diff.merge_base[:10]}"
        lines = self._changed.get(os.path.realpath(self.rootdir / path))
        return lines is not None and line in lines


def _findings(
    located: Iterable[tuple[Issue, str | None, int | None, bool]],
    allows: Sequence[Allow],
    silenced_ids: set[str],
    fail_level: str,
    today: dt.date,
    tally: _Tally,
    lines: _Lines,
) -> list[Finding]:
    findings: list[Finding] = []
    for issue, path, line, django_silenced in located:
        codes = (issue.code, *issue.also)
        text = lines.text(path, line)
        matched = [a for a in allows if any(a.matches(c, issue.object, path, text) for c in codes)]
        # An allow without ``line`` never covers a line the change added or edited.
        edited = [a for a in matched if a.line is None and lines.changed(path, line)]
        matched = [a for a in matched if a not in edited]
        tally.used.update(a.index for a in matched + edited)
        if any(not a.expired(today) for a in matched):
            tally.allowed.append(issue.code)
            continue
        message = issue.message
        for allow in edited:
            shown = " ".join((text or "").split())
            message += (
                f"\n(allow #{allow.index + 1} for {allow.describe()} does not cover this line: "
                f"the change under review ({lines.base}) added or edited it. If it is "
                f'intended, pin the allow to it with line = "{shown}", or accept any line with '
                'line = "*")'
            )
        for allow in matched:  # all expired
            tally.expired_hits[allow.index] = tally.expired_hits.get(allow.index, 0) + 1
            message += (
                f"\n(the allow for {allow.check} expired on {allow.until}; "
                f"its reason was: {allow.reason})"
            )
        severity = _severity(issue.level, fail_level)
        if django_silenced or issue.code in silenced_ids:
            tally.silenced.append(issue.code)
            severity = "warning"
            message = SILENCED_PREFIX + message
        findings.append(
            Finding(
                code=issue.code,
                severity=severity,
                message=message,
                object=issue.object,
                path=path,
                line=line,
                hint=issue.hint,
            )
        )
    return findings


def _allow_findings(
    allows: Sequence[Allow], tally: _Tally, today: dt.date, pyproject: Path | None, rootdir: Path
) -> list[Finding]:
    out: list[Finding] = []
    where = _relative(pyproject, rootdir) if pyproject else "pyproject.toml"
    for allow in allows:
        line = _allow_line(pyproject, allow)
        if allow.expired(today):
            hits = tally.expired_hits.get(allow.index, 0)
            tail = (
                f"it matches {hits} finding{'s' if hits != 1 else ''}, reported again"
                if hits
                else "it matches nothing now"
            )
            out.append(
                Finding(
                    code=EXPIRED_ALLOW,
                    severity="warning",
                    message=f"the deploy allow for {allow.describe()} expired on "
                    f"{allow.until} and no longer applies; {tail}.",
                    object=allow.check,
                    path=where,
                    line=line,
                    hint="fix the finding, or renew 'until' with a reason that still holds; "
                    "remove the allow when it matches nothing",
                )
            )
        elif allow.index not in tally.used:
            out.append(
                Finding(
                    code=UNUSED_ALLOW,
                    severity="warning",
                    message=f"the deploy allow for {allow.describe()} matches no finding "
                    f"(reason: {allow.reason}).",
                    object=allow.check,
                    path=where,
                    line=line,
                    hint="remove the allow, or correct its check/object/path",
                )
            )
    return out


def _cannot_look_findings(
    located: Iterable[tuple[Issue, str | None, int | None, bool]],
) -> list[Finding]:
    """``DJG393``: an error whatever the allows, ``SILENCED_SYSTEM_CHECKS`` and fail level."""
    return [
        Finding(
            code=issue.code,
            severity="error",
            message=issue.message,
            object=issue.object,
            path=path,
            line=line,
            hint=issue.hint,
        )
        for issue, path, line, _ in located
    ]


def _names(codes: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    return ", ".join(f"{c} x{n}" if n > 1 else c for c, n in sorted(counts.items()))


def _summary(
    module: str,
    findings: Sequence[Finding],
    tally: _Tally,
    supplied: Mapping[str, str],
    discovered: bool,
    django_version: str,
) -> str:
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    counts = []
    if errors:
        counts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        counts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    parts = [
        f"{module}{' (found automatically)' if discovered else ''}: "
        f"{', '.join(counts) if counts else 'no findings'}"
    ]
    if tally.allowed:
        parts.append(f"{len(tally.allowed)} allowed ({_names(tally.allowed)})")
    if tally.silenced:
        parts.append(
            f"{len(tally.silenced)} silenced by SILENCED_SYSTEM_CHECKS ({_names(tally.silenced)})"
        )
    if supplied:
        described = [
            f"{name}=<throwaway SECRET_KEY>" if value != PLACEHOLDER_HOST else f"{name}={value}"
            for name, value in sorted(supplied.items())
        ]
        parts.append(f"not set in the environment, supplied for the check: {', '.join(described)}")
    parts.append(f"Django {django_version} check --deploy + {len(all_rules())} rules")
    return "; ".join(parts)


def _config_failure(
    kind: str, module: str, data: Mapping[str, Any], rootdir: Path, project_dir: Path
) -> ConfigError:
    where = data.get("where")
    location = ""
    if where:
        file, _, line = str(where).rpartition(":")
        location = f" at {_relative(file, rootdir)}:{line}"
    error = str(data.get("error") or "unknown error").strip()
    missing = re.match(r"^KeyError: '([A-Z][A-Z0-9_]*)'$", error)
    if missing:
        error += (
            f" (the environment variable {missing.group(1)} is not set: set it for the check, "
            "a dummy value is enough)"
        )
    if kind == "import-error":
        head = f"deploy_settings {module!r} does not import{location}: {error}"
    else:
        head = f"deploy_settings {module!r} imports, but django.setup() fails{location}: {error}"
    return ConfigError(
        f"{head}\n  project directory: {project_dir}\n  next step: run "
        f"`python -c \"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='{module}'; "
        'django.setup()"` there with the variables production sets (the check itself only '
        "supplies SECRET_KEY and ALLOWED_HOSTS placeholders)"
    )


def run_deploy(
    cfg: GatesConfig,
    rootdir: Path,
    *,
    environ: Mapping[str, str] | None = None,
    today: dt.date | None = None,
) -> DeployRun:
    """Run the deploy gate.

    Raises :class:`ConfigError` (exit 2) or :class:`DeployGateError` (exit 3).
    """
    rootdir = rootdir.resolve()
    # deploy.env: set only where the production settings are loaded (never the suite's).
    environ = {**(os.environ if environ is None else environ), **cfg["deploy.env"]}
    today = today or dt.date.today()
    fail_level = str(cfg["deploy.fail_level"])
    allows = parse_allows(cfg["deploy.allow"])
    module, project_dir, discovered = resolve_target(cfg, rootdir)

    source = SettingsSource.load(module, _import_roots(project_dir, environ))
    supplied = placeholders(source, environ)
    probe_options = {key: cfg[key] for key in PROBE_OPTIONS}
    data = run_probe(
        module, project_dir, {**environ, **supplied}, float(cfg["deploy.timeout"]), probe_options
    )
    status = data.get("status")
    if status in ("import-error", "setup-error"):
        raise _config_failure(str(status), module, data, rootdir, project_dir)
    if status != "ok":
        where = (
            f" at {_relative(str(data['where']).rpartition(':')[0], rootdir)}:"
            f"{str(data['where']).rpartition(':')[2]}"
            if data.get("where")
            else ""
        )
        raise DeployGateError(
            f"the deploy check crashed{where}: {data.get('error', 'unknown error')}\n"
            f"{_tail(str(data.get('traceback', '')), 8)}"
        )

    settings_file = data.get("settings_file")
    if source.path is None and settings_file:
        depth = module.count(".") + (1 if Path(settings_file).name == "__init__.py" else 0)
        root = Path(settings_file).resolve().parents[depth]
        source = SettingsSource.load(module, [root, project_dir], path=Path(settings_file))

    issues: list[tuple[Issue, bool]] = [_check_issue(c) for c in data.get("checks", [])]
    issues.extend((Issue.from_dict(i), False) for i in data.get("issues", []))
    sources = ProjectSources(project_dir, exclude=tuple(cfg["deploy.exclude"]))
    context = SourceContext(settings_source=source, sources=sources, project_dir=project_dir)
    blinds: list[Blind] = []
    for rule in source_rules():
        found = run_rule(rule.code, rule.setting, partial(rule.check, context), project_dir, blinds)
        issues.extend((issue, False) for issue in found)
    issues.extend((issue, False) for issue in blind_issues(blinds))
    for bad_file, bad_line, problem in sources.unparsable:
        issues.append(
            (
                Issue(
                    code=UNPARSABLE,
                    level="warning",
                    message=f"cannot scan this file ({problem}): the source rules did not "
                    "look at it.",
                    object=_relative(bad_file, project_dir) or str(bad_file),
                    hint="fix the syntax error, or exclude the file with deploy.exclude",
                    path=str(bad_file),
                    line=bad_line,
                ),
                False,
            )
        )

    from pytest_django_gates.deploy.overlaps import merge_overlaps

    located: list[tuple[Issue, str | None, int | None, bool]] = []
    for issue, django_silenced in merge_overlaps(issues):
        if issue.path:
            path, line = _relative(issue.path, rootdir), issue.line
        elif _SETTING_RE.match(issue.object):
            names = [issue.object, *(r for r in issue.related if _SETTING_RE.match(r))]
            where_path, line = source.where_last(names)
            path = _relative(where_path or settings_file, rootdir)
        else:
            path, line = _relative(source.path or settings_file, rootdir), None
        located.append((issue, path, line, django_silenced))
    unseen = [item for item in located if item[0].code == CANNOT_LOOK]
    located = [item for item in located if item[0].code != CANNOT_LOOK]

    tally = _Tally()
    findings = _findings(
        located,
        allows,
        {str(s) for s in data.get("silenced", [])},
        fail_level,
        today,
        tally,
        _Lines(cfg, rootdir, environ),
    )
    findings.extend(_allow_findings(allows, tally, today, cfg.pyproject, rootdir))
    if cfg.get("run.update_baselines"):
        if unseen:  # a baseline written blind would hold the wrong thing: not written
            cannot = _cannot_look_findings(unseen)
            result = GateResult(
                GATE,
                "error",
                f"baseline not written: some rules could not look ({CANNOT_LOOK}); install "
                "what they name, then run django-gates run --only deploy --update-baselines",
                tuple(cannot),
            )
        else:
            result = GateResult(
                name=GATE, status="passed", summary=baseline.write(findings, cfg, rootdir)
            )
        return DeployRun(
            result=result, settings_module=module, project_dir=project_dir, supplied=supplied
        )
    findings, held = baseline.hold(findings, cfg, rootdir)
    findings = [*findings, *_cannot_look_findings(unseen)]
    summary = _summary(module, findings, tally, supplied, discovered, str(data.get("django", "?")))
    if held:
        summary = f"{summary}; {held}"
    result = GateResult.from_findings(GATE, findings, summary=summary)
    if unseen:  # a gate that could not look never passes
        blind_who = [*map(str, data.get("blind", [])), *(b.who for b in blinds)]
        summary += f"; could not look: {describe(blind_who)} ({CANNOT_LOOK}): the gate cannot pass"
        result = GateResult(GATE, "error", summary, result.findings)
    return DeployRun(
        result=result, settings_module=module, project_dir=project_dir, supplied=supplied
    )
