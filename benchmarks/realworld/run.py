"""Run the own test suites of real Django projects under ``pytest --django-gates``.

For every project of ``projects.toml`` (beside this file) it:

1. downloads the pinned sdist from PyPI with pip (``--require-hashes``) and checks its
   sha256 again; a mismatch is refused;
2. unpacks it into ``<workdir>/src`` (reused when already there);
3. creates ``<workdir>/venvs/<name>`` with Python 3.11 and installs this repository's
   plugin (editable), Django, pytest-django, pytest-xdist, the project itself and its
   test requirements (reused while the install spec is unchanged); for an application
   that ships a lock file (``requirements_lock``, a ``uv.lock``), every pin of its
   default and dev groups, exported with a pinned uv; then its ``setup`` commands (an
   application's own test preparation, run once in the unpacked sdist);
4. runs its suite three times with ``-n N``: plain pytest (the baseline),
   ``--django-gates --gates-n-plus-one=report`` (N+1s are warnings; the JSON report
   holds the DJG101 findings) and ``--django-gates`` in the default ``fail`` mode (how
   many tests the gate would fail).

Only the query gate runs (``DJANGO_GATES_GATES=queries``) unless the project's
pyproject.toml has a ``[tool.django-gates]`` table of its own.

Usage::

    python benchmarks/realworld/run.py [--project NAME ...] [--workdir DIR]
        [--gates | --no-gates] [-n N] [--report-dir DIR]

Writes ``<report-dir>/<name>.json`` (report mode), ``<name>.fail.json`` (fail mode),
the JUnit XML and log of every run, and ``summary.json``. Exit status: 0 when every
plain run passed and every gates run produced its report, 1 otherwise, 2 on a usage or
configuration error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the harness itself needs 3.11 (see [common].python)
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CONFIG = HERE / "projects.toml"
DEFAULT_WORKDIR = Path("/tmp/djg-realworld")
STAMP = ".djg-realworld.json"
N_PLUS_ONE = "DJG101"
# "in 74 tests: a, b, c (+71 more)": the tail of a finding grouped across tests.
GROUPED_RE = re.compile(r"^in (?P<count>\d+) tests: (?P<named>.*?)(?: \(\+\d+ more\))?$")
# The first line of an N+1 failure: "N+1: 3 x SELECT ... at path:line (in func)" (the
# repeated rule) or "latent N+1: 1 x ..." (the latent rule).
FAILURE_RE = re.compile(
    r"^(?:Failed: )?(?P<latent>latent )?N\+1: \d+ x .* at (?P<location>\S+:\d+)(?: \(in .*\))?$"
)
# Inherited variables that would change what a run does.
SCRUBBED_ENV_PREFIXES = ("DJANGO_GATES_", "PYTEST_")
SCRUBBED_ENV = ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "DATABASE_URL", "VIRTUAL_ENV")


class HarnessError(Exception):
    """A step could not be done; the message says which and why."""


@dataclass(frozen=True)
class Deselect:
    id: str
    reason: str


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    sdist: str
    sha256: str
    install: str
    plugin_install: str
    requirements: tuple[str, ...]
    requirements_lock: str
    setup: tuple[str, ...]
    settings: str
    pythonpath: tuple[str, ...]
    env: dict[str, str]
    cwd: str
    test_paths: tuple[str, ...]
    pytest_args: tuple[str, ...]
    deselect: tuple[Deselect, ...]
    notes: str


@dataclass(frozen=True)
class Common:
    python: str
    django: str
    requirements: tuple[str, ...]


@dataclass
class Outcomes:
    """Per-test outcomes of one run, read from its JUnit XML."""

    tests: dict[str, str] = field(default_factory=dict)
    # The text of each failure or error (the longest one when reported twice).
    texts: dict[str, str] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return sum(1 for value in self.tests.values() if value == outcome)

    def ids(self, outcome: str) -> set[str]:
        return {test for test, value in self.tests.items() if value == outcome}

    def totals(self) -> dict[str, int]:
        return {
            "tests": len(self.tests),
            **{name: self.count(name) for name in ("passed", "failed", "error", "skipped")},
        }


@dataclass
class RunResult:
    mode: str
    command: list[str]
    exit_code: int
    seconds: float
    log: str
    junit: str
    totals: dict[str, int]
    report: str | None = None


# --- configuration -------------------------------------------------------------------


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise HarnessError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def _string(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str):
        raise HarnessError(f"{where}.{key}: expected a string, got {value!r}")
    return value


def load_config(path: Path) -> tuple[Common, dict[str, Project]]:
    """Read and check ``projects.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HarnessError(f"{path}: {exc}") from exc
    common_table = data.get("common", {})
    common = Common(
        python=_string(common_table, "python", "common"),
        django=_string(common_table, "django", "common"),
        requirements=_strings(common_table.get("requirements", []), "common.requirements"),
    )
    projects: dict[str, Project] = {}
    for name, table in data.get("projects", {}).items():
        where = f"projects.{name}"
        allowed = {f.name for f in Project.__dataclass_fields__.values()} - {"name"}
        unknown = set(table) - allowed
        if unknown:
            raise HarnessError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        deselect = []
        for i, entry in enumerate(table.get("deselect", [])):
            node = _string(entry, "id", f"{where}.deselect[{i}]")
            reason = _string(entry, "reason", f"{where}.deselect[{i}]")
            if not reason.strip():
                raise HarnessError(f"{where}.deselect[{i}]: every deselect needs a reason")
            deselect.append(Deselect(node, reason))
        env = table.get("env", {})
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise HarnessError(f"{where}.env: expected a table of strings")
        requirements = _strings(table.get("requirements", []), f"{where}.requirements")
        unpinned = [r for r in requirements if "==" not in r]
        if unpinned:
            raise HarnessError(f"{where}.requirements: not pinned with ==: {unpinned}")
        install = _string(table, "install", where)
        if install not in ("editable", "plain"):
            raise HarnessError(f"{where}.install: 'editable' or 'plain', got {install!r}")
        plugin_install = table.get("plugin_install", "editable")
        if plugin_install not in ("editable", "wheel"):
            raise HarnessError(
                f"{where}.plugin_install: 'editable' or 'wheel', got {plugin_install!r}"
            )
        projects[name] = Project(
            name=name,
            version=_string(table, "version", where),
            sdist=_string(table, "sdist", where),
            sha256=_string(table, "sha256", where).lower(),
            install=install,
            plugin_install=plugin_install,
            requirements=requirements,
            requirements_lock=table.get("requirements_lock", ""),
            setup=_strings(table.get("setup", []), f"{where}.setup"),
            settings=table.get("settings", ""),
            pythonpath=_strings(table.get("pythonpath", []), f"{where}.pythonpath"),
            env=dict(env),
            cwd=table.get("cwd", "."),
            test_paths=_strings(table.get("test_paths", []), f"{where}.test_paths"),
            pytest_args=_strings(table.get("pytest_args", []), f"{where}.pytest_args"),
            deselect=tuple(deselect),
            notes=table.get("notes", ""),
        )
    if not projects:
        raise HarnessError(f"{path}: no [projects.NAME] table")
    return common, projects


# --- helpers -------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[realworld] {message}", flush=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    logfile: Path,
    env: dict[str, str] | None = None,
) -> None:
    """Run a set-up command, its output to ``logfile``; raise with the tail on failure."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with logfile.open("a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(command)}\n")
        fh.flush()
        result = subprocess.run(
            command, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False
        )
    if result.returncode != 0:
        tail = "\n".join(logfile.read_text(encoding="utf-8").splitlines()[-25:])
        raise HarnessError(
            f"command failed ({result.returncode}): {' '.join(command)}\n"
            f"(full log: {logfile})\n{tail}"
        )


# --- sdist ---------------------------------------------------------------------------


def fetch_sdist(project: Project, common: Common, workdir: Path) -> Path:
    """The verified sdist in ``<workdir>/sdists``, downloaded by pip if missing."""
    target_dir = workdir / "sdists"
    target = target_dir / project.sdist
    if not target.exists():
        target_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=workdir) as tmp:
            requirement = Path(tmp) / "requirement.txt"
            requirement.write_text(
                f"{project.name}=={project.version} --hash=sha256:{project.sha256}\n",
                encoding="utf-8",
            )
            download = Path(tmp) / "download"
            log(f"{project.name}: downloading {project.sdist}")
            check(
                [
                    common.python,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    "--require-hashes",
                    "-r",
                    str(requirement),
                    "-d",
                    str(download),
                ],
                logfile=workdir / "logs" / f"{project.name}.setup.log",
            )
            got = sorted(download.iterdir())
            if [p.name for p in got] != [project.sdist]:
                raise HarnessError(
                    f"{project.name}: pip downloaded {[p.name for p in got]}, "
                    f"expected {project.sdist}"
                )
            verify_sha256(got[0], project)
            shutil.move(str(got[0]), target)
    verify_sha256(target, project)
    return target


def verify_sha256(path: Path, project: Project) -> None:
    actual = sha256_of(path)
    if actual != project.sha256:
        raise HarnessError(
            f"{project.name}: sha256 mismatch for {path}: expected {project.sha256}, "
            f"got {actual}; refusing to use it (delete the file to download it again)"
        )


def unpack(sdist: Path, project: Project, workdir: Path) -> Path:
    """The unpacked sdist, ``<workdir>/src/<top dir>``; reused when its stamp matches."""
    src_root = workdir / "src"
    src_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as tar:
        tops = {Path(m.name).parts[0] for m in tar.getmembers() if m.name not in ("", ".")}
        if len(tops) != 1:
            raise HarnessError(f"{sdist}: expected one top-level directory, got {tops}")
        top = tops.pop()
        dest = src_root / top
        stamp = dest / STAMP
        if stamp.is_file() and json.loads(stamp.read_text()).get("sha256") == project.sha256:
            return dest
        if dest.exists():
            shutil.rmtree(dest)
        log(f"{project.name}: unpacking into {dest}")
        with tempfile.TemporaryDirectory(dir=src_root) as tmp:
            tar.extractall(tmp, filter="data")
            (Path(tmp) / top).rename(dest)
    stamp.write_text(json.dumps({"sha256": project.sha256, "sdist": sdist.name}))
    missing = [p for p in project.test_paths if not (dest / project.cwd / p).exists()]
    if missing:
        raise HarnessError(f"{project.name}: the sdist has no {missing}: no tests to run")
    return dest


# --- virtualenv ----------------------------------------------------------------------


def install_spec(project: Project, common: Common, src: Path, workdir: Path) -> list[str]:
    """The ``pip install`` arguments of a project's virtualenv."""
    project_arg = ["-e", str(src)] if project.install == "editable" else [str(src)]
    plugin_arg = ["-e", str(REPO)] if project.plugin_install == "editable" else [str(REPO)]
    locked = locked_requirements(project, common, src, workdir)
    return [
        *plugin_arg,
        common.django,
        *common.requirements,
        *project_arg,
        *project.requirements,
        *locked,
    ]


# uv, to read an application's uv.lock (requirements_lock); pinned, installed once.
UV_REQUIREMENT = "uv==0.13.9"


def _uv(workdir: Path) -> str:
    tools = workdir / "tools"
    uv = tools / "bin" / "uv"
    if not uv.exists():
        log(f"installing {UV_REQUIREMENT} into {tools} (to read requirements_lock)")
        subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True)
        subprocess.run(
            [str(tools / "bin" / "python"), "-m", "pip", "install", "-q", UV_REQUIREMENT],
            check=True,
        )
    return str(uv)


def locked_requirements(project: Project, common: Common, src: Path, workdir: Path) -> list[str]:
    """The ``name==version`` pins of the project's lock file (its default and dev groups),
    less the project itself and what [common] pins (Django, pytest, pytest-django,
    pytest-xdist: the harness's versions win, as for every other project)."""
    if not project.requirements_lock:
        return []
    lock = src / project.requirements_lock
    if not lock.is_file():
        raise HarnessError(f"{project.name}: requirements_lock {lock} is not in the sdist")
    done = subprocess.run(
        [
            _uv(workdir),
            "export",
            "--frozen",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--no-annotate",
            "--format",
            "requirements-txt",
        ],
        cwd=lock.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise HarnessError(f"{project.name}: uv export of {lock} failed:\n{done.stderr}")
    ours = {
        re.split(r"[=~<>!\[ ;]", req, maxsplit=1)[0].lower().replace("_", "-")
        for req in (common.django, *common.requirements)
    }
    pins = []
    for line in done.stdout.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        name = re.split(r"[=~<>!\[ ;]", line, maxsplit=1)[0].lower().replace("_", "-")
        if name not in ours:
            pins.append(line)
    return pins


def plugin_tree_hash() -> str:
    """A hash of the plugin's sources, to reinstall a non-editable copy when they change."""
    digest = hashlib.sha256()
    files = [REPO / "pyproject.toml", *sorted((REPO / "pytest_django_gates").rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(project: Project, common: Common, src: Path, workdir: Path) -> Path:
    """``<workdir>/venvs/<name>`` with everything installed; its python."""
    venv = workdir / "venvs" / project.name
    python = venv / "bin" / "python"
    spec = install_spec(project, common, src, workdir)
    stamp = venv / STAMP
    setup_log = workdir / "logs" / f"{project.name}.setup.log"
    if not (python.exists() and stamp.is_file() and json.loads(stamp.read_text()) == spec):
        if venv.exists():
            shutil.rmtree(venv)
        log(f"{project.name}: creating {venv} (log: {setup_log})")
        check([common.python, "-m", "venv", str(venv)], logfile=setup_log)
        check(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", *spec],
            logfile=setup_log,
        )
        stamp.write_text(json.dumps(spec))
    if project.plugin_install == "wheel":
        plugin_stamp = venv / ".djg-plugin-hash"
        current = plugin_tree_hash()
        if not plugin_stamp.is_file() or plugin_stamp.read_text() != current:
            log(f"{project.name}: (re)installing the plugin from {REPO} (not editable)")
            check(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-deps",
                    "--force-reinstall",
                    str(REPO),
                ],
                logfile=setup_log,
            )
            plugin_stamp.write_text(current)
    setup_stamp = src / ".djg-realworld-setup.json"
    if project.setup and not (
        setup_stamp.is_file() and json.loads(setup_stamp.read_text()) == list(project.setup)
    ):
        env = run_env(project, src, python)
        for command in project.setup:
            log(f"{project.name}: setup: {command} (in {src})")
            check(["bash", "-c", command], cwd=src, logfile=setup_log, env=env)
        setup_stamp.write_text(json.dumps(list(project.setup)))
    return python


def installed_versions(python: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {item["name"]: item["version"] for item in json.loads(out)}


# --- pytest runs ---------------------------------------------------------------------


def has_own_gates_config(src: Path) -> bool:
    pyproject = src / "pyproject.toml"
    if not pyproject.is_file():
        return False
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return "django-gates" in data.get("tool", {})


# The gates the gates runs enable (--test-gates): the query gate, or it and others
# (``queries,indexes`` for the missing-index gate).
TEST_GATES = "queries"


def run_env(project: Project, src: Path, venv_python: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SCRUBBED_ENV and not key.startswith(SCRUBBED_ENV_PREFIXES)
    }
    venv_bin = str(venv_python.parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(venv_python.parent.parent)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if project.settings:
        env["DJANGO_SETTINGS_MODULE"] = project.settings
    if project.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(src / p) for p in project.pythonpath)
    if not has_own_gates_config(src):
        env["DJANGO_GATES_GATES"] = TEST_GATES
    env.update(project.env)
    return env


def read_junit(path: Path) -> Outcomes:
    """Per-test outcome (passed/failed/error/skipped); a test reported twice keeps the worst."""
    rank = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
    outcomes = Outcomes()
    if not path.is_file():
        return outcomes
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        test = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
            if child.tag in ("failure", "error"):
                text = child.text or child.get("message") or ""
                if len(text) > len(outcomes.texts.get(test, "")):
                    outcomes.texts[test] = text
        previous = outcomes.tests.get(test)
        if previous is None or rank[outcome] > rank[previous]:
            outcomes.tests[test] = outcome
    return outcomes


def run_pytest(
    project: Project,
    python: Path,
    src: Path,
    report_dir: Path,
    *,
    mode: str,
    workers: int,
    label: str = "",
    extra: Sequence[str] = (),
    path: Sequence[Path] = (),
) -> tuple[RunResult, Outcomes]:
    """One run of the suite: ``plain``, ``report`` or ``fail``. ``label``: a name of
    its own for its files (``<name>.<label>.json``, not ``<name>.json``); ``extra``:
    more pytest arguments (``--randomly-seed=...``); ``path``: more directories on
    ``PYTHONPATH`` (a plugin installed beside the virtualenv, not into it)."""
    tag = label or mode
    junit = report_dir / f"{project.name}.{tag}.junit.xml"
    logfile = report_dir / f"{project.name}.{tag}.log"
    command = [str(python), "-m", "pytest", *project.test_paths]
    if workers > 0:
        command += ["-n", str(workers)]
    command += ["-p", "no:cacheprovider", f"--junitxml={junit}", "-q", "-rfE", *extra]
    report: Path | None = None
    if mode != "plain":
        report = report_dir / (
            f"{project.name}.{label}.json"
            if label
            else f"{project.name}.json"
            if mode == "report"
            else f"{project.name}.fail.json"
        )
        command += ["--django-gates", f"--gates-n-plus-one={mode}", f"--gates-report={report}"]
    command += list(project.pytest_args)
    for entry in project.deselect:
        command += ["--deselect", entry.id]
    for stale in (junit, report):
        if stale is not None and stale.exists():
            stale.unlink()
    log(f"{project.name}: {tag} run: {' '.join(command[1:])}")
    env = run_env(project, src, python)
    if path:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(p) for p in path] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
    start = time.monotonic()
    with logfile.open("w", encoding="utf-8") as fh:
        fh.write(f"$ cd {src / project.cwd} && {' '.join(command)}\n")
        fh.flush()
        result = subprocess.run(
            command,
            cwd=src / project.cwd,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    seconds = time.monotonic() - start
    outcomes = read_junit(junit)
    return (
        RunResult(
            mode=mode,
            command=command,
            exit_code=result.returncode,
            seconds=round(seconds, 2),
            log=str(logfile),
            junit=str(junit),
            totals=outcomes.totals(),
            report=str(report) if report else None,
        ),
        outcomes,
    )


def tests_hit(finding: dict[str, Any]) -> list[str]:
    """The tests a (grouped) finding names: its object, then those after ``in N tests:``.

    The report groups one N+1 (code, location, query) across tests: the message then ends
    with ``in N tests: a, b, c (+K more)``; only the first few are named.
    """
    tests = [str(finding.get("object"))]
    for line in str(finding.get("message", "")).splitlines():
        match = GROUPED_RE.match(line)
        if match:
            named = [t.strip() for t in match.group("named").split(", ") if t.strip()]
            tests += [t for t in named if t not in tests]
    return tests


def is_latent(finding: dict[str, Any]) -> bool:
    return str(finding.get("message", "")).startswith("latent ")


def grouped_count(finding: dict[str, Any]) -> int:
    for line in str(finding.get("message", "")).splitlines():
        match = GROUPED_RE.match(line)
        if match:
            return int(match.group("count"))
    return 1


def summarize_report(path: Path) -> dict[str, Any]:
    """What the JSON report of a gates run says about the query gate."""
    if not path.is_file():
        return {"present": False}
    data = json.loads(path.read_text(encoding="utf-8"))
    gates = {gate.get("name"): gate for gate in data.get("gates", [])}
    queries = gates.get("queries", {})
    findings = queries.get("findings", [])
    n_plus_one = [f for f in findings if f.get("code") == N_PLUS_ONE]
    return {
        "present": True,
        "tool": data.get("tool"),
        "gates": {name: gate.get("status") for name, gate in gates.items()},
        "queries_status": queries.get("status"),
        "queries_summary": queries.get("summary"),
        "findings": len(findings),
        "codes": sorted({str(f.get("code")) for f in findings}),
        # DJG101 as the report gives them: one per (location, query), across tests.
        "djg101": len(n_plus_one),
        "djg101_test_hits": sum(grouped_count(f) for f in n_plus_one),
        "djg101_locations": len({(f.get("path"), f.get("line")) for f in n_plus_one}),
        "djg101_latent": sum(1 for f in n_plus_one if is_latent(f)),
        "djg101_by_location": by_location(n_plus_one),
    }


def by_location(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """DJG101 findings grouped by ``path:line``, most test hits first, with one example."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(f"{finding.get('path')}:{finding.get('line')}", []).append(finding)
    rows = [
        {
            "location": location,
            "queries": len(group),
            "rules": sorted({"latent" if is_latent(f) else "repeated" for f in group}),
            "test_hits": sum(grouped_count(f) for f in group),
            "some_tests": list(dict.fromkeys(t for f in group for t in tests_hit(f))),
            "example": str(group[0].get("message", "")).splitlines()[0],
            "hint": group[0].get("hint"),
        }
        for location, group in groups.items()
    ]
    return sorted(rows, key=lambda row: (-row["test_hits"], row["location"]))


def n_plus_one_failures(outcomes: Outcomes) -> dict[str, dict[str, list[str]]]:
    """``path:line`` -> rule (``repeated``/``latent``) -> the tests a fail-mode run failed
    with an N+1 there, from the JUnit failure texts."""
    where: dict[str, dict[str, set[str]]] = {}
    for test, text in outcomes.texts.items():
        for line in text.splitlines():
            match = FAILURE_RE.match(line)
            if match:
                rule = "latent" if match.group("latent") else "repeated"
                where.setdefault(match.group("location"), {}).setdefault(rule, set()).add(test)
    return {
        loc: {rule: sorted(tests) for rule, tests in sorted(rules.items())}
        for loc, rules in sorted(where.items())
    }


def run_project(
    project: Project,
    common: Common,
    *,
    workdir: Path,
    report_dir: Path,
    gates: bool,
    workers: int,
) -> dict[str, Any]:
    sdist = fetch_sdist(project, common, workdir)
    src = unpack(sdist, project, workdir)
    python = ensure_venv(project, common, src, workdir)
    versions = installed_versions(python)
    plugin_before = plugin_tree_hash()
    runs: dict[str, RunResult] = {}
    outcomes: dict[str, Outcomes] = {}
    modes = ["plain", "report", "fail"] if gates else ["plain"]
    for mode in modes:
        runs[mode], outcomes[mode] = run_pytest(
            project, python, src, report_dir, mode=mode, workers=workers
        )
    plain = outcomes["plain"]
    plugin_after = plugin_tree_hash()
    if plugin_after != plugin_before:
        log(f"{project.name}: warning: the plugin's sources changed while its suite ran")
    result: dict[str, Any] = {
        "project": project.name,
        "version": project.version,
        "sdist": project.sdist,
        "sha256": project.sha256,
        "src": str(src),
        "versions": {
            name: versions.get(name)
            for name in ("Django", "pytest", "pytest-django", "pytest-xdist", project.name)
        },
        # The plugin's sources when this project's runs started (see plugin_provenance).
        "plugin_tree_sha256": plugin_before,
        "plugin_changed_during_runs": plugin_after != plugin_before,
        "deselected": [asdict(d) for d in project.deselect],
        "notes": project.notes,
        "runs": {mode: asdict(run) for mode, run in runs.items()},
        "plain_failures": sorted(plain.ids("failed") | plain.ids("error")),
    }
    if gates:
        fail = outcomes["fail"]
        bad_plain = plain.ids("failed") | plain.ids("error")
        bad_fail = fail.ids("failed") | fail.ids("error")
        result["failed_by_gates"] = sorted(bad_fail - bad_plain)
        result["passed_only_with_gates"] = sorted(bad_plain - bad_fail)
        result["report_mode"] = summarize_report(report_dir / f"{project.name}.json")
        result["fail_mode"] = summarize_report(report_dir / f"{project.name}.fail.json")
        # Every test the fail-mode run failed with an N+1, by location (its JUnit text):
        # unlike the report, not grouped, so every test is named.
        failures = n_plus_one_failures(fail)
        with_n_plus_one = {t for rules in failures.values() for ts in rules.values() for t in ts}
        result["fail_mode_n_plus_one"] = {
            "tests": len(with_n_plus_one),
            "locations": len(failures),
            "by_rule": {
                rule: len({t for rules in failures.values() for t in rules.get(rule, [])})
                for rule in ("repeated", "latent")
            },
            "by_location": failures,
        }
        result["failed_by_gates_other"] = sorted(set(result["failed_by_gates"]) - with_n_plus_one)
    return result


def plugin_provenance() -> dict[str, Any]:
    """Which plugin the runs used: the repository's commit, its uncommitted plugin files."""

    def git(*args: str) -> str:
        proc = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        )
        return proc.stdout if proc.returncode == 0 else ""

    dirty = git("status", "--porcelain", "--", "pytest_django_gates", "pyproject.toml")
    return {
        "commit": git("rev-parse", "HEAD").strip() or None,
        "uncommitted": [line[3:] for line in dirty.splitlines()],
        "tree_sha256": plugin_tree_hash(),
    }


# --- output --------------------------------------------------------------------------


def print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'project':<22} {'tests':>6} {'plain ok':>8} {'gates ok':>8} {'by gate':>7} "
        f"{'DJG101':>6} {'hits':>5} {'locs':>5} {'gate':>7} "
        f"{'plain s':>8} {'report s':>8} {'fail s':>8}"
    )
    print()
    print(header)
    print("-" * len(header))
    for res in results:
        if "error" in res:
            print(f"{res['project']:<22} ERROR: {res['error'].splitlines()[0]}")
            continue
        runs = res["runs"]
        plain = runs["plain"]["totals"]
        line = f"{res['project']:<22} {plain['tests']:>6} {plain['passed']:>8}"
        if "fail" in runs:
            report = res["report_mode"]
            line += (
                f" {runs['fail']['totals']['passed']:>8} {len(res['failed_by_gates']):>7}"
                f" {report.get('djg101', '-'):>6} {report.get('djg101_test_hits', '-'):>5}"
                f" {report.get('djg101_locations', '-'):>5}"
                f" {report.get('queries_status') or '-':>7}"
                f" {runs['plain']['seconds']:>8.1f} {runs['report']['seconds']:>8.1f}"
                f" {runs['fail']['seconds']:>8.1f}"
            )
        else:
            line += f" {'-':>8} {'-':>7} {'-':>6} {'-':>5} {'-':>5} {'-':>7}"
            line += f" {runs['plain']['seconds']:>8.1f}"
        print(line)
    print()
    print(
        "tests: collected by the plain run; plain ok / gates ok: passed plain / with\n"
        "--django-gates in fail mode; by gate: tests failed in fail mode only; DJG101: N+1\n"
        "findings of the report-mode report (one per location and query, across tests);\n"
        "hits: the tests they name, summed; locs: distinct path:line; gate: the query\n"
        "gate's status in that report; s: wall seconds of each run."
    )


def is_green(res: dict[str, Any], gates: bool) -> bool:
    """The plain run passed; with gates, report mode failed no test and both reports exist.

    A gates run exits 1 when the gate itself is ``failed`` or ``error`` (shown in the
    table): that is a finding about the plugin, not a broken harness.
    """
    if "error" in res:
        return False
    plain = res["runs"]["plain"]
    if plain["exit_code"] != 0 or plain["totals"]["tests"] == 0:
        return False
    if not gates:
        return True
    report = res["runs"]["report"]
    return (
        report["exit_code"] in (0, 1)
        and report["totals"]["failed"] + report["totals"]["error"] == 0
        and res["runs"]["fail"]["exit_code"] in (0, 1)
        and res["report_mode"]["present"]
        and res["fail_mode"]["present"]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run real Django projects' test suites under pytest-django-gates.",
    )
    parser.add_argument(
        "--project",
        action="append",
        metavar="NAME",
        help="run only this project (repeatable; a [projects.NAME] of the config); default: all",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help=f"sdists, sources and virtualenvs (default {DEFAULT_WORKDIR}; reused)",
    )
    parser.add_argument(
        "--gates",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run with --django-gates in report and fail mode (default: yes)",
    )
    parser.add_argument(
        "--test-gates",
        default="queries",
        help="DJANGO_GATES_GATES of the gates runs (default: queries; e.g. queries,indexes)",
    )
    parser.add_argument(
        "-n",
        dest="workers",
        type=int,
        default=2,
        help="pytest-xdist workers (0: no xdist; default 2)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=None,
        help="where reports, logs and summary.json go (default <workdir>/reports)",
    )
    parser.add_argument(
        "--config", type=Path, default=CONFIG, help=f"project list (default {CONFIG})"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    global TEST_GATES
    args = parse_args(argv)
    TEST_GATES = args.test_gates
    try:
        common, projects = load_config(args.config)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unknown = [name for name in args.project or [] if name not in projects]
    if unknown:
        print(
            f"error: unknown project(s) {', '.join(unknown)}; known: {', '.join(projects)}",
            file=sys.stderr,
        )
        return 2
    workdir: Path = args.workdir.resolve()
    report_dir: Path = (args.report_dir or workdir / "reports").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    report_dir.mkdir(parents=True, exist_ok=True)
    selected = args.project or list(projects)
    plugin_before = plugin_provenance()
    results: list[dict[str, Any]] = []
    for name in selected:
        # One project at a time: each run already uses every worker it is given.
        try:
            res = run_project(
                projects[name],
                common,
                workdir=workdir,
                report_dir=report_dir,
                gates=args.gates,
                workers=args.workers,
            )
        except HarnessError as exc:
            log(f"{name}: {exc}")
            res = {"project": name, "version": projects[name].version, "error": str(exc)}
        results.append(res)
    plugin_after = plugin_provenance()
    if plugin_after != plugin_before:
        log("warning: the plugin's sources changed during the run; numbers may mix versions")
    summary = {
        "format": 1,
        "plugin": plugin_before,
        "plugin_changed_during_run": plugin_after != plugin_before,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "workers": args.workers,
        "gates": args.gates,
        "plugin_repo": str(REPO),
        "projects": results,
    }
    summary_path = report_dir / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print_table(results)
    print(f"\nsummary: {summary_path}")
    return 0 if all(is_green(res, args.gates) for res in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
