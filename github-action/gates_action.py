#!/usr/bin/env python3
"""The steps of the pytest-django-gates GitHub Action (action.yml), one sub-command each.

    gates_action.py validate | install | install-gitleaks | run | fixes | publish | enforce
    gates_action.py install-package   (the reusable workflow's code-scanning job)
    gates_action.py merge-shards      (the reusable workflow's merge of a split suite)

Every value comes from the environment (action.yml maps each input to a
``DJG_*`` variable in a step's ``env:``; no ``${{ }}`` expression is ever
expanded inside a script), plus the runner's own variables (``GITHUB_OUTPUT``,
``GITHUB_ENV``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_EVENT_NAME``,
``GITHUB_EVENT_PATH``, ``GITHUB_WORKSPACE``, ``GITHUB_ACTION_PATH``,
``RUNNER_TEMP``, ``RUNNER_OS``, ``RUNNER_ARCH``).

Standard library only: ``validate`` runs before Python is set up and before
pytest-django-gates is installed. A bad input is an ``::error`` naming the input
and what is allowed, and exit status 2.

``install-gitleaks`` downloads the official gitleaks release archive for the
runner (``gitleaks_<version>_<os>_<arch>.tar.gz`` from
github.com/gitleaks/gitleaks/releases), checks its sha256 against the
``gitleaks-sha256`` input or the checksum this file knows for that version and
archive, and refuses to go on without one. ``gitleaks-url`` replaces the
download address (a mirror, or a ``file://`` archive for runners without
internet access and for this action's own tests); the checksum still applies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

GATES = ("ruff", "mypy", "gitleaks", "pip-audit", "queries", "migrations", "deploy", "coverage")
PIP_TOOLS = {"ruff": "ruff", "mypy": "mypy", "pip-audit": "pip-audit"}
INSTALLED = "installed"

GITLEAKS_RELEASES = "https://github.com/gitleaks/gitleaks/releases/download"
# sha256 of official gitleaks release archives, from the release's
# gitleaks_<version>_checksums.txt. Any other version or platform needs the
# `gitleaks-sha256` input.
GITLEAKS_SHA256 = {
    ("8.30.1", "linux_x64.tar.gz"): (
        "551f6fc83ea457d62a0d98237cbad105af8d557003051f41f3e7ca7b3f2470eb"
    ),
}
_ASSETS = {
    ("Linux", "X64"): "linux_x64.tar.gz",
    ("Linux", "ARM64"): "linux_arm64.tar.gz",
    ("macOS", "X64"): "darwin_x64.tar.gz",
    ("macOS", "ARM64"): "darwin_arm64.tar.gz",
}
_MAX_DOWNLOAD = 200 * 1024 * 1024

_VERSION = re.compile(r"^[0-9]+(\.[0-9]+){1,3}([a-z]+[0-9]*)?(\.post[0-9]+)?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@^~-]*$")
_ZERO_SHA = re.compile(r"^0+$")


class InputError(Exception):
    """A bad input: the message names it and what is allowed."""


# ---------------------------------------------------------------- runner files


def _append(variable: str, text: str) -> None:
    target = os.environ.get(variable)
    if not target:
        raise InputError(f"${variable} is not set: this script runs inside a GitHub Actions step")
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(text)


def set_outputs(values: Mapping[str, str]) -> None:
    """Write step outputs (multi-line safe, as @actions/core does)."""
    _append("GITHUB_OUTPUT", "".join(_file_command(k, v) for k, v in values.items()))


def set_env(values: Mapping[str, str]) -> None:
    _append("GITHUB_ENV", "".join(_file_command(k, v) for k, v in values.items()))


def _file_command(key: str, value: str) -> str:
    if "\n" not in value and "\r" not in value:
        return f"{key}={value}\n"
    delimiter = f"ghadelimiter_{hashlib.sha256(os.urandom(16)).hexdigest()[:16]}"
    return f"{key}<<{delimiter}\n{value}\n{delimiter}\n"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def error(message: str, title: str = "django-gates action") -> None:
    print(f"::error title={title.replace(':', '%3A').replace(',', '%2C')}::{_escape(message)}")


# -------------------------------------------------------------------- validate


def _flag(name: str, env: Mapping[str, str], default: str) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in ("true", "false"):
        raise InputError(f"input {_input_name(name)} must be true or false, got {value!r}")
    return value


def _input_name(variable: str) -> str:
    return variable.removeprefix("DJG_").lower().replace("_", "-")


def parse_gates(text: str) -> list[str]:
    names = [n for n in re.split(r"[\s,]+", text.strip()) if n]
    if not names or names == ["all"]:
        return list(GATES)
    unknown = [n for n in names if n not in GATES]
    if unknown:
        raise InputError(
            f"input gates: unknown gate(s) {', '.join(unknown)}; "
            f"use 'all' or a comma-separated list of: {', '.join(GATES)}"
        )
    return [g for g in GATES if g in names]


def _version(variable: str, env: Mapping[str, str], *, allow_installed: bool = True) -> str:
    value = env.get(variable, "").strip().removeprefix("v")
    if allow_installed and value == INSTALLED:
        return value
    if not _VERSION.match(value):
        allowed = f"an exact version such as 1.2.3{' or installed' if allow_installed else ''}"
        raise InputError(f"input {_input_name(variable)} must be {allowed}, got {value!r}")
    return value


def base_ref(env: Mapping[str, str]) -> str:
    """The change's base commit: the input, else from the event that started the run."""
    given = env.get("DJG_BASE_REF", "").strip()
    if given:
        if not _REF.match(given) or ".." in given:
            raise InputError(
                f"input base-ref {given!r} is not a git ref or commit (e.g. origin/main, a sha)"
            )
        return given
    name = env.get("GITHUB_EVENT_NAME", "")
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path or not Path(path).is_file():
        return ""
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return ""
    sha = ""
    if name in ("pull_request", "pull_request_target"):
        sha = str(((event.get("pull_request") or {}).get("base") or {}).get("sha") or "")
    elif name == "merge_group":
        sha = str((event.get("merge_group") or {}).get("base_sha") or "")
    elif name == "push" and not event.get("created"):
        sha = str(event.get("before") or "")
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha) or _ZERO_SHA.match(sha):
        return ""
    return sha


def _path_prefix(workdir: Path, workspace: Path) -> str:
    """Where the project sits inside its repository (annotations need repository paths)."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=workdir,
            capture_output=True,
            text=True,
            check=False,
        )
        top = Path(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip() else None
    except OSError:
        top = None
    base = top or workspace
    try:
        rel = workdir.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return ""
    return "" if rel == "." else rel


def validate(env: Mapping[str, str]) -> dict[str, str]:
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    gates = parse_gates(env.get("DJG_GATES", "all"))
    workdir_text = env.get("DJG_WORKING_DIRECTORY", "").strip() or "."
    workdir = Path(workdir_text)
    if not workdir.is_absolute():
        workdir = workspace / workdir
    if not workdir.is_dir():
        raise InputError(f"input working-directory {workdir_text!r} is not a directory")
    for variable in ("DJG_SETTINGS", "DJG_DEPLOY_SETTINGS"):
        value = env.get(variable, "").strip()
        if value and not _MODULE.match(value):
            raise InputError(
                f"input {_input_name(variable)} must be a dotted Python module "
                f"(e.g. config.settings.test), got {value!r}"
            )
    python_version = env.get("DJG_PYTHON_VERSION", "").strip()
    if python_version and not re.fullmatch(r"3\.[0-9]+(\.[0-9]+)?", python_version):
        raise InputError(
            f"input python-version must look like 3.12 (or be empty), got {python_version!r}"
        )
    report_text = env.get("DJG_REPORT_DIR", "").strip() or "django-gates-report"
    report_dir = Path(report_text)
    if not report_dir.is_absolute():
        report_dir = workspace / report_dir
    install = _flag("DJG_INSTALL", env, "true")
    for variable in ("DJG_RUFF_VERSION", "DJG_MYPY_VERSION", "DJG_PIP_AUDIT_VERSION"):
        _version(variable, env)
    gitleaks_version = _version("DJG_GITLEAKS_VERSION", env)
    sha = env.get("DJG_GITLEAKS_SHA256", "").strip().lower()
    if sha and not _SHA256.match(sha):
        raise InputError("input gitleaks-sha256 must be 64 hexadecimal characters")
    url = env.get("DJG_GITLEAKS_URL", "").strip()
    if url and urllib.parse.urlparse(url).scheme not in ("https", "file"):
        raise InputError("input gitleaks-url must be an https:// or file:// URL")
    if "gitleaks" in gates and gitleaks_version != INSTALLED:
        gitleaks_checksum(gitleaks_version, _asset(env), sha)  # refuse early without one
    for variable in ("DJG_REQUIREMENTS",):
        for item in env.get(variable, "").split():
            if not (workdir / item).is_file():
                raise InputError(f"input requirements: {item} is not a file in {workdir}")
    return {
        "gates": ",".join(gates),
        "gitleaks": "true" if "gitleaks" in gates else "false",
        "base-ref": base_ref(env),
        "working-directory": str(workdir),
        "report-dir": str(report_dir),
        "path-prefix": _path_prefix(workdir, workspace),
        "fail-on-warnings": _flag("DJG_FAIL_ON_WARNINGS", env, "false"),
        "annotations": _flag("DJG_ANNOTATIONS", env, "true"),
        "fixes": _flag("DJG_FIXES", env, "true"),
        "install": install,
    }


# --------------------------------------------------------------------- install


def _action_version(action_path: Path) -> str:
    text = (action_path / "pytest_django_gates" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not match:
        raise InputError(f"cannot read the version of {action_path}")
    return match.group(1)


def _installed_version(distribution: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


_PIP = ("-m", "pip", "install", "--disable-pip-version-check", "--no-input")


def plan_package(env: Mapping[str, str]) -> list[list[str]]:
    """pytest-django-gates from this checkout (the action's, or the reusable workflow's
    checkout at gates-ref), unless that version is already installed."""
    action_path = Path(env.get("GITHUB_ACTION_PATH") or Path(__file__).resolve().parent.parent)
    if _installed_version("pytest-django-gates") == _action_version(action_path):
        return []
    return [[sys.executable, *_PIP, str(action_path)]]


def plan_install(env: Mapping[str, str]) -> list[list[str]]:
    """The pip commands the install step runs (nothing that is already in place)."""
    pip = [sys.executable, *_PIP]
    workdir = Path(env.get("DJG_WORKING_DIRECTORY") or ".")
    gates = parse_gates(env.get("DJG_GATES", "all"))
    commands: list[list[str]] = []
    for item in env.get("DJG_REQUIREMENTS", "").split():
        commands.append([*pip, "--requirement", str(workdir / item)])
    commands.extend(plan_package(env))
    for gate, distribution in PIP_TOOLS.items():
        if gate not in gates:
            continue
        wanted = _version(f"DJG_{gate.upper().replace('-', '_')}_VERSION", env)
        if wanted == INSTALLED or _installed_version(distribution) == wanted:
            continue
        commands.append([*pip, f"{distribution}=={wanted}"])
    return commands


def _pip(commands: list[list[str]], env: Mapping[str, str], nothing: str) -> bool:
    """Run the pip ``commands`` (printed instead with DJG_DRY_RUN=1); False on a dry run."""
    if env.get("DJG_DRY_RUN") == "1":
        print(json.dumps(commands))
        return False
    if not commands:
        print(nothing)
    for command in commands:
        print(f"$ {' '.join(command[1:])}", flush=True)
        subprocess.run(command, check=True)
    return True


def install_package(env: Mapping[str, str]) -> None:
    version = _action_version(
        Path(env.get("GITHUB_ACTION_PATH") or Path(__file__).resolve().parent.parent)
    )
    _pip(plan_package(env), env, f"django-gates: pytest-django-gates {version} is installed")


def install(env: Mapping[str, str]) -> None:
    nothing = "django-gates: everything is installed at the pinned versions"
    if not _pip(plan_install(env), env, nothing):
        return
    # Tools the project pins itself ("installed") must be there all the same.
    gates = parse_gates(env.get("DJG_GATES", "all"))
    for gate, distribution in PIP_TOOLS.items():
        if gate in gates and _installed_version(distribution) is None:
            raise InputError(
                f"{distribution} is not installed: give {gate}-version, or install it with "
                "the project's requirements"
            )


# ------------------------------------------------------------ install-gitleaks


def _asset(env: Mapping[str, str]) -> str:
    key = (env.get("RUNNER_OS", "Linux"), env.get("RUNNER_ARCH", "X64"))
    if key not in _ASSETS:
        raise InputError(
            f"no gitleaks release archive for {key[0]}/{key[1]}; set gitleaks-version: installed "
            "and put gitleaks on PATH"
        )
    return _ASSETS[key]


def gitleaks_checksum(version: str, asset: str, given: str) -> str:
    if given:
        return given
    known = GITLEAKS_SHA256.get((version, asset))
    if known is None:
        raise InputError(
            f"no sha256 is known for gitleaks {version} ({asset}): set the gitleaks-sha256 "
            f"input to the value for gitleaks_{version}_{asset} in gitleaks_{version}_"
            "checksums.txt of the official release; it will not run unchecked"
        )
    return known


def _download(url: str, target: Path) -> str:
    """Fetch ``url`` into ``target``; its sha256."""
    scheme = urllib.parse.urlparse(url).scheme
    if scheme not in ("https", "file"):
        raise InputError(f"refusing to download gitleaks from {url!r}: https or file only")
    digest = hashlib.sha256()
    size = 0
    request = urllib.request.Request(url, headers={"User-Agent": "pytest-django-gates-action"})
    # The scheme is checked above: https or file only.
    with urllib.request.urlopen(request, timeout=60) as response, target.open("wb") as out:
        while chunk := response.read(1 << 16):
            size += len(chunk)
            if size > _MAX_DOWNLOAD:
                raise InputError(f"{url} is larger than {_MAX_DOWNLOAD} bytes")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def install_gitleaks(env: Mapping[str, str]) -> Path:
    version = _version("DJG_GITLEAKS_VERSION", env)
    if version == INSTALLED:
        found = shutil.which("gitleaks")
        if found is None:
            raise InputError("gitleaks-version is 'installed' but gitleaks is not on PATH")
        return Path(found)
    asset = _asset(env)
    expected = gitleaks_checksum(version, asset, env.get("DJG_GITLEAKS_SHA256", "").strip().lower())
    url = env.get("DJG_GITLEAKS_URL", "").strip() or (
        f"{GITLEAKS_RELEASES}/v{version}/gitleaks_{version}_{asset}"
    )
    base = Path(env.get("RUNNER_TEMP") or tempfile.gettempdir())
    dest = base / f"django-gates-gitleaks-{version}"
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        archive = Path(tmp) / f"gitleaks_{version}_{asset}"
        print(f"downloading {url}", flush=True)
        actual = _download(url, archive)
        if not hmac.compare_digest(actual, expected):
            raise InputError(
                f"sha256 mismatch for {url}: expected {expected}, got {actual}; refusing to run it"
            )
        print(f"sha256 verified: {actual}")
        with tarfile.open(archive, "r:gz") as tar:
            try:
                member = tar.getmember("gitleaks")
            except KeyError:
                raise InputError(f"{url} has no 'gitleaks' file") from None
            if not member.isfile():
                raise InputError(f"'gitleaks' in {url} is not a regular file")
            source = tar.extractfile(member)
            if source is None:
                raise InputError(f"cannot read 'gitleaks' from {url}")
            binary = dest / "gitleaks"
            with source, binary.open("wb") as out:
                shutil.copyfileobj(source, out)
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    proc = subprocess.run([str(binary), "version"], capture_output=True, text=True, check=False)
    reported = proc.stdout.strip().removeprefix("v")
    if proc.returncode != 0 or reported != version:
        raise InputError(f"the downloaded gitleaks reports {reported!r}, expected {version}")
    print(f"gitleaks {reported} installed at {binary}")
    set_env(
        {"DJANGO_GATES_GITLEAKS_COMMAND": str(binary), "DJANGO_GATES_GITLEAKS_VERSION": version}
    )
    return binary


# ------------------------------------------------------------------------- run


def report_path(env: Mapping[str, str]) -> Path:
    return Path(env["DJG_REPORT_DIR"]) / "gates-report.json"


def gates_command(env: Mapping[str, str], *args: str) -> list[str]:
    """``django-gates --project <working-directory> ARGS...`` with this Python."""
    return [
        sys.executable,
        "-m",
        "pytest_django_gates",
        "--project",
        env["DJG_WORKING_DIRECTORY"],
        *args,
    ]


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a django-gates command: the job's, plus the settings inputs."""
    child = dict(os.environ)
    if env.get("DJG_SETTINGS"):
        child["DJANGO_SETTINGS_MODULE"] = env["DJG_SETTINGS"]
    if env.get("DJG_DEPLOY_SETTINGS"):
        child["DJANGO_GATES_DEPLOY_SETTINGS"] = env["DJG_DEPLOY_SETTINGS"]
    return child


def run_command(env: Mapping[str, str]) -> list[str]:
    command = gates_command(
        env,
        "run",
        "--only",
        env["DJG_GATES"],
        "--report",
        str(report_path(env)),
    )
    if env.get("DJG_BASE_REF"):
        command += ["--since", env["DJG_BASE_REF"]]
    if env.get("DJG_FAIL_ON_WARNINGS") == "true":
        command.append("--fail-on-warnings")
    return command


def run(env: Mapping[str, str]) -> int:
    report = report_path(env)
    report.parent.mkdir(parents=True, exist_ok=True)
    if report.exists():
        report.unlink()
    command = run_command(env)
    print(f"::group::django-gates run ({env['DJG_GATES']})", flush=True)
    proc = subprocess.run(command, env=child_env(env), check=False)
    print("::endgroup::", flush=True)
    set_outputs({"exit-code": str(proc.returncode), "report": str(report)})
    return proc.returncode


# ----------------------------------------------------------------------- fixes

FIX_GATES = ("migrations", "queries")


def fixes(env: Mapping[str, str]) -> int:
    """After a run that failed (exit 1): ``django-gates fix --patch-only`` proves the
    fixes it can make for the migration and query gates' findings and writes their diff
    to ``fixes.patch`` in the report directory, the checkout left as it was; its summary
    goes to ``fixes.md``, which the publish step adds to the job summary. It never fails
    the job (the gates' verdict does): a fix step that could not run says so in its log.
    Returns the fix command's exit status (0 when it did not run)."""
    report = report_path(env)
    patch = report.parent / "fixes.patch"
    notes = report.parent / "fixes.md"
    for stale in (patch, notes):
        if stale.exists():
            stale.unlink()
    gates = [g for g in parse_gates(env.get("DJG_GATES", "")) if g in FIX_GATES]
    if env.get("DJG_RUN_EXIT", "").strip() != "1" or not gates or not report.is_file():
        return 0
    command = gates_command(
        env,
        "fix",
        "--only",
        ",".join(gates),
        "--from-report",
        str(report),
        "--patch-only",
        str(patch),
        "--allow-dirty",  # the report directory itself is untracked in the checkout
    )
    if env.get("DJG_BASE_REF"):
        command += ["--since", env["DJG_BASE_REF"]]
    print("::group::django-gates fix --patch-only", flush=True)
    proc = subprocess.run(command, env=child_env(env), capture_output=True, text=True, check=False)
    sys.stdout.write(proc.stdout + proc.stderr)
    print("::endgroup::", flush=True)
    if proc.returncode in (2, 3) or not patch.is_file():
        print(f"::warning title=django-gates fix::no fixes were proposed (exit {proc.returncode})")
        return proc.returncode
    fixed = [line.strip() for line in proc.stdout.splitlines() if line.startswith("  fixed ")]
    if fixed:
        base = env.get("DJG_BASE_REF") or "origin/<base branch>"
        lines = [
            f"### :wrench: {len(fixed)} finding(s) django-gates can fix, each proven",
            "",
            *(_fixed_line(line) for line in fixed),
            "",
            f"Apply them: download `{patch.name}` from this run's report and `git apply "
            f"{patch.name}`, or run `django-gates fix --since {base}` locally.",
            "",
        ]
        notes.write_text("\n".join(lines), encoding="utf-8")
    else:
        patch.unlink()
    return proc.returncode


def _fixed_line(line: str) -> str:
    """``fixed DJG211 app.0002_x (path:line): what`` as a Markdown list item."""
    _status, code, obj, rest = [*line.split(None, 3), "", "", ""][:4]
    return f"- `{code}` {obj} {rest}"


# ---------------------------------------------------------------- merge-shards


def merge_shards(env: Mapping[str, str]) -> int:
    """One verdict from the shard jobs of a split suite (the reusable workflow's
    ``shards`` input): their reports, found under ``DJG_SHARD_DIR`` (one artifact
    directory per shard, each with ``gates-report.json`` and the shard's coverage data
    ``.coverage``), merged by ``django-gates report --shards DJG_SHARDS`` into the report
    the ``publish`` and ``enforce`` steps read. When ``DJG_GATES`` has ``coverage``, the
    shards' data is judged first, combined, by ``django-gates coverage --data``. Returns
    the merge's exit status: a missing shard report is a gate error (3), never a pass."""
    shards = env.get("DJG_SHARDS", "").strip()
    if not shards.isdigit() or int(shards) < 1:
        raise InputError(f"shards must be a whole number of 1 or more, got {shards!r}")
    artifacts = Path(env["DJG_SHARD_DIR"])
    workdir = Path(env["DJG_WORKING_DIRECTORY"])
    set_outputs({"path-prefix": _path_prefix(workdir, Path(env.get("GITHUB_WORKSPACE", ".")))})
    report = report_path(env)
    report.parent.mkdir(parents=True, exist_ok=True)
    if report.exists():
        report.unlink()
    reports = sorted(artifacts.glob("*/**/gates-report.json"))
    if not reports:
        error(f"none of the {shards} shard jobs left a report: failing closed")
        set_outputs({"exit-code": "3", "report": str(report)})
        return 3
    project = ["--project", str(workdir)]
    extra: list[str] = []
    if "coverage" in parse_gates(env.get("DJG_GATES", "")):
        data = sorted(p for p in artifacts.glob("*/**/.coverage") if p.is_file())
        if data:
            judged = report.parent / "coverage-report.json"
            command = [sys.executable, "-m", "pytest_django_gates", *project, "coverage"]
            command += ["--data", *map(str, data), "--format", "json", "--output", str(judged)]
            since = base_ref(env)  # the patch floor's base, as the action gives it
            if since:
                command += ["--since", since]
            print(f"::group::django-gates coverage ({len(data)} shards' data)", flush=True)
            done = subprocess.run(command, check=False)
            print("::endgroup::", flush=True)
            if done.returncode == 2 or not judged.is_file():
                error(f"django-gates coverage on the shards' data failed (exit {done.returncode})")
                set_outputs({"exit-code": str(done.returncode or 3), "report": str(report)})
                return done.returncode or 3
            extra.append(str(judged))
        # No data at all: the shards' "measured, not judged" coverage makes the merge an
        # error (fail closed), said by django-gates report.
    command = [sys.executable, "-m", "pytest_django_gates", "report", "--shards", shards]
    command += [*map(str, reports), *extra, "--format", "json", "--output", str(report)]
    done = subprocess.run(command, check=False)
    set_outputs({"exit-code": str(done.returncode), "report": str(report)})
    return done.returncode


# --------------------------------------------------------------------- publish


def _render(report: Path, fmt: str, prefix: str, output: Path | None = None) -> str:
    command = [sys.executable, "-m", "pytest_django_gates", "report", str(report), "--format", fmt]
    if prefix:
        command += ["--path-prefix", prefix]
    if output is not None:
        command += ["--output", str(output)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode == 2:
        raise InputError(f"django-gates report --format {fmt} failed: {proc.stderr.strip()}")
    return proc.stdout


def publish(env: Mapping[str, str]) -> dict[str, str]:
    report = report_path(env)
    out_dir = report.parent
    run_exit = env.get("DJG_RUN_EXIT", "").strip() or "3"
    outputs = {"report": str(report), "exit-code": run_exit}
    if not report.is_file():
        message = (
            f"django-gates did not write a report (exit {run_exit}): see the log of the "
            "'Run the gates' step"
        )
        error(message)
        _append("GITHUB_STEP_SUMMARY", f"## :boom: pytest-django-gates: error\n\n{message}\n")
        outputs.update(status="error", errors="0", warnings="0", findings="0", sarif="", summary="")
        set_outputs(outputs)
        return outputs
    data = json.loads(report.read_text(encoding="utf-8"))
    gates = data.get("gates", [])
    statuses = {g.get("status") for g in gates}
    status = "error" if "error" in statuses else "failed" if "failed" in statuses else "passed"
    if run_exit == "2":
        status = "error"
    findings = [f for g in gates for f in g.get("findings", [])]
    errors = sum(1 for f in findings if f.get("severity") == "error")
    prefix = env.get("DJG_PATH_PREFIX", "")
    summary = out_dir / "summary.md"
    sarif = out_dir / "gates.sarif"
    _render(report, "markdown", prefix, summary)
    _append("GITHUB_STEP_SUMMARY", summary.read_text(encoding="utf-8"))
    notes = out_dir / "fixes.md"
    if notes.is_file():
        _append("GITHUB_STEP_SUMMARY", "\n" + notes.read_text(encoding="utf-8"))
    _render(report, "sarif", prefix, sarif)
    if env.get("DJG_ANNOTATIONS", "true") == "true":
        sys.stdout.write(_render(report, "github", prefix))
    outputs.update(
        status=status,
        errors=str(errors),
        warnings=str(len(findings) - errors),
        findings=str(len(findings)),
        sarif=str(sarif),
        summary=str(summary),
        **{
            "failed-gates": ",".join(
                str(g.get("name")) for g in gates if g.get("status") in ("failed", "error")
            )
        },
    )
    set_outputs(outputs)
    return outputs


def enforce(env: Mapping[str, str]) -> int:
    code = env.get("DJG_RUN_EXIT", "").strip()
    if not code.isdigit():
        error("the gates did not run (no exit status): failing closed")
        return 3
    status = int(code)
    if status:
        meaning = {1: "a gate failed", 2: "usage or configuration error", 3: "a gate could not run"}
        error(f"django-gates: {meaning.get(status, 'error')} (exit {status})")
    return status


# ------------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    env = os.environ
    try:
        if args[0] == "validate":
            set_outputs(validate(env))
            return 0
        if args[0] == "install":
            install(env)
            return 0
        if args[0] == "install-package":
            install_package(env)
            return 0
        if args[0] == "install-gitleaks":
            path = install_gitleaks(env)
            set_outputs({"path": str(path)})
            return 0
        if args[0] == "run":
            run(env)
            return 0  # the enforce step fails the job, after the results are published
        if args[0] == "fixes":
            fixes(env)
            return 0  # fixes are a proposal: the gates' verdict fails the job, not them
        if args[0] == "publish":
            publish(env)
            return 0
        if args[0] == "merge-shards":
            merge_shards(env)
            return 0  # the enforce step fails the job, after the results are published
        if args[0] == "enforce":
            return enforce(env)
    except InputError as exc:
        error(str(exc))
        return 2
    except subprocess.CalledProcessError as exc:
        error(f"{' '.join(map(str, exc.cmd[1:]))} failed with exit {exc.returncode}")
        return 2
    print(f"unknown step {args[0]!r}\n\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
