"""Adopt pytest-django-gates on real Django applications with zero hand edits (issue 19).

For every project of ``projects.toml`` (beside this file) it:

1. makes a clean copy: ``git clone`` of a fetched mirror at a pinned commit, or a PyPI
   sdist (``--require-hashes``, sha256 checked again) unpacked into a fresh git
   repository whose first commit is the base;
2. fills ``<workdir>/<name>/venv`` with the project's own install commands plus this
   repository's plugin (reused when its install list is unchanged);
3. runs the project's own test preparation, then, as README.md and docs/adopting.md
   say, ``django-gates init --baselines`` and commits what it wrote (expected exit 0);
4. ``django-gates run --skip pip-audit`` (expected exit 0: the first run passes);
5. ``django-gates init`` again (expected: ``pyproject.toml`` unchanged);
6. commits one planted problem per gate on the branch ``planted`` and runs
   ``django-gates run --since <base> --skip pip-audit`` (expected exit 1 with exactly
   the planted findings: code, path and line; any other error or warning is unexpected);
7. ``django-gates init --force --dry-run`` on a table with a hand-written key
   (expected: the key is kept).

Usage::

    python benchmarks/adoption/run.py [--project NAME ...] [--workdir DIR]
        [--config FILE] [--fresh-venv] [--plugin DIR]

Writes ``<workdir>/<name>/logs/*.log``, the JSON reports, and
``<workdir>/summary.json``; prints one table of expectations. Exit status: 0 when
every expectation held, 1 when one failed (expected today: the script documents the
target), 2 on a usage or configuration error.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the harness itself needs 3.11
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CONFIG = HERE / "projects.toml"
DEFAULT_WORKDIR = Path("/tmp/adoption-bench")
STAMP = ".adoption-install.json"
# Inherited variables that would change what a run does.
SCRUBBED_PREFIXES = ("DJANGO_GATES_", "PYTEST_")
SCRUBBED = ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "DATABASE_URL", "VIRTUAL_ENV")
# A hand-written key init --force must keep (step 7).
HAND_KEY = ("run", "timeout", "5400")
AUTHOR = ["-c", "user.name=adoption-bench", "-c", "user.email=adoption-bench@invalid"]


class HarnessError(Exception):
    """A step could not be done; the message says which and why."""


@dataclass(frozen=True)
class Plant:
    gate: str
    code: str
    file: str
    insert: str
    report_line: int
    anchor: str = ""
    within: str = ""
    position: str = "after"
    create: bool = False
    note: str = ""
    # Findings this plant causes besides its own, each "CODE path" (e.g. the query count
    # growth of a test whose page now runs the planted query once): expected, checked.
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Project:
    name: str
    layout: str
    python: str
    branch: str
    project_dir: str
    install: tuple[str, ...]
    setup: tuple[str, ...]
    env: dict[str, str]
    plants: tuple[Plant, ...]
    gitattributes: tuple[str, ...] = ()
    mirror: str = ""
    commit: str = ""
    sdist: str = ""
    sdist_file: str = ""
    sha256: str = ""
    # Hours to move Django's clock by for more first runs (DJANGO_GATES_QUERIES_CLOCK_SHIFT):
    # the first run at other times of day, for a suite whose data follows the clock.
    clock_hours: tuple[float, ...] = ()
    # More arguments of step 3's init --baselines (e.g. --no-clock-probe).
    init_args: tuple[str, ...] = ()
    # "HH:MM": every command of the project sees about this UTC time of day (Django's clock
    # moved by DJANGO_GATES_QUERIES_CLOCK_SHIFT, set from the harness's start), so that a
    # test whose count follows the clock cannot cross one of its hours between init and
    # the runs that compare with init's counts. For a project run without the clock probe.
    clock_utc: str = ""


@dataclass
class Check:
    """One expectation and whether it held."""

    step: str
    expected: str
    observed: str
    ok: bool


@dataclass
class Outcome:
    project: str
    checks: list[Check] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)

    def check(self, step: str, expected: str, observed: str, ok: bool) -> None:
        self.checks.append(Check(step, expected, observed, ok))

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


# --- configuration -------------------------------------------------------------------


def find_python(version: str) -> str | None:
    """A Python ``version`` that runs: ``pythonX.Y`` on PATH (a pyenv shim may exist without
    the version behind it, so it is tried), else pyenv's ``~/.pyenv/versions/X.Y*``."""
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(
        (str(p) for p in Path.home().glob(f".pyenv/versions/{version}*/bin/python3")), reverse=True
    )
    for candidate in candidates:
        if candidate is None:
            continue
        wanted = tuple(map(int, version.split(".")))
        check = f"import sys, venv; assert sys.version_info[:2] == {wanted}"
        if subprocess.run([candidate, "-c", check], capture_output=True).returncode == 0:
            return candidate
    return None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise HarnessError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def load_config(path: Path) -> tuple[dict[str, Any], dict[str, Project]]:
    """Read and check ``projects.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HarnessError(f"{path}: {exc}") from exc
    common = dict(data.get("common", {}))
    projects: dict[str, Project] = {}
    plant_keys = set(Plant.__dataclass_fields__)
    project_keys = set(Project.__dataclass_fields__) - {"name", "plants"} | {"plant"}
    tables = data.get("projects", {})
    for name, table in tables.items():
        where = f"projects.{name}"
        if "like" in table:  # every key of that project, these replacing
            like = tables.get(table["like"])
            if like is None or "like" in like:
                raise HarnessError(f"{where}.like: no project {table['like']!r} without like")
            table = {k: v for k, v in like.items() if k not in ("mirror", "commit")} | {
                k: v for k, v in table.items() if k != "like"
            }
        unknown = set(table) - project_keys
        if unknown:
            raise HarnessError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        plants = []
        for i, entry in enumerate(table.get("plant", [])):
            bad = set(entry) - plant_keys
            if bad:
                raise HarnessError(f"{where}.plant[{i}]: unknown key(s) {sorted(bad)}")
            also = entry.get("also", [])
            if not isinstance(also, list) or not all(
                isinstance(a, str) and len(a.split()) == 2 for a in also
            ):
                raise HarnessError(f'{where}.plant[{i}].also: a list of "CODE path" strings')
            plant = Plant(**{**entry, "also": tuple(also)})
            if plant.position not in ("after", "before"):
                raise HarnessError(f"{where}.plant[{i}].position: 'after' or 'before'")
            if not plant.create and not plant.anchor:
                raise HarnessError(f"{where}.plant[{i}]: an anchor, or create = true")
            plants.append(plant)
        has_mirror = bool(table.get("mirror")) and bool(table.get("commit"))
        has_sdist = all(table.get(k) for k in ("sdist", "sdist_file", "sha256"))
        if has_mirror == has_sdist:
            raise HarnessError(f"{where}: give mirror + commit, or sdist + sdist_file + sha256")
        env = table.get("env", {})
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise HarnessError(f"{where}.env: expected a table of strings")
        hours = table.get("clock_hours", [])
        if not isinstance(hours, list) or not all(
            isinstance(h, (int, float)) and not isinstance(h, bool) for h in hours
        ):
            raise HarnessError(f"{where}.clock_hours: expected a list of numbers")
        clock_utc = str(table.get("clock_utc", ""))
        if clock_utc and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", clock_utc):
            raise HarnessError(f'{where}.clock_utc: "HH:MM" (UTC), not {clock_utc!r}')
        projects[name] = Project(
            name=name,
            layout=str(table.get("layout", "")),
            python=str(table["python"]),
            branch=str(table.get("branch", "main")),
            project_dir=str(table.get("project_dir", ".")),
            install=_strings(table.get("install", []), f"{where}.install"),
            setup=_strings(table.get("setup", []), f"{where}.setup"),
            env=dict(env),
            plants=tuple(plants),
            gitattributes=_strings(table.get("gitattributes", []), f"{where}.gitattributes"),
            mirror=str(table.get("mirror", "")),
            commit=str(table.get("commit", "")),
            sdist=str(table.get("sdist", "")),
            sdist_file=str(table.get("sdist_file", "")),
            sha256=str(table.get("sha256", "")),
            clock_hours=tuple(float(h) for h in hours),
            init_args=_strings(table.get("init_args", []), f"{where}.init_args"),
            clock_utc=clock_utc,
        )
    return common, projects


# --- running commands ----------------------------------------------------------------


class Runner:
    """Runs one project's commands, logging each with its wall time and exit code."""

    def __init__(self, outcome: Outcome, logs: Path, env: dict[str, str], timeout: float):
        self.outcome = outcome
        self.logs = logs
        self.env = env
        self.timeout = timeout
        self.count = 0

    def run(self, label: str, argv: Sequence[str] | str, cwd: Path) -> tuple[int, str]:
        self.count += 1
        log = self.logs / f"{self.count:02d}-{label}.log"
        shell = isinstance(argv, str)
        shown = argv if isinstance(argv, str) else shlex.join(argv)
        print(f"  $ {shown}", flush=True)
        start = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                cwd=cwd,
                env=self.env,
                shell=shell,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
            code, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            code = -1
            output = f"{exc.stdout or ''}{exc.stderr or ''}\n(timed out after {self.timeout:g} s)"
        seconds = round(time.monotonic() - start, 1)
        log.write_text(f"$ {shown}\n(cwd {cwd})\n{output}\n(exit {code}, {seconds} s)\n")
        print(f"    exit {code} in {seconds} s (log {log})", flush=True)
        self.outcome.commands.append(
            {"label": label, "command": shown, "exit": code, "seconds": seconds, "log": str(log)}
        )
        return code, output

    def git(self, cwd: Path, *args: str) -> str:
        proc = subprocess.run(
            ["git", *AUTHOR, *args], cwd=cwd, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise HarnessError(f"git {' '.join(args)} in {cwd}: {proc.stderr.strip()}")
        return proc.stdout.strip()


def base_env(project: Project, venv: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SCRUBBED and not k.startswith(SCRUBBED_PREFIXES)
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env.update(project.env)
    if project.clock_utc:
        env[CLOCK_SHIFT] = f"{clock_shift_to(project.clock_utc):.4f}"
    return env


CLOCK_SHIFT = "DJANGO_GATES_QUERIES_CLOCK_SHIFT"


def clock_shift_to(hhmm: str, now: datetime.datetime | None = None) -> float:
    """The hours (in (-12, 12]) that move ``now`` (UTC) to the time of day ``hhmm``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    hour, minute = (int(part) for part in hhmm.split(":"))
    hours = (hour + minute / 60 - (now.hour + now.minute / 60 + now.second / 3600)) % 24
    return hours - 24 if hours > 12 else hours


# --- the clean copy ------------------------------------------------------------------


def clean_copy(project: Project, root: Path, runner: Runner) -> Path:
    src = root / "src"
    if src.exists():
        shutil.rmtree(src)
    if project.mirror:
        if not Path(project.mirror).is_dir():
            raise HarnessError(f"{project.name}: no mirror at {project.mirror} (fetch it first)")
        subprocess.run(
            ["git", "clone", "-q", "--no-checkout", project.mirror, str(src)], check=True
        )
        if project.gitattributes:
            (src / ".git/info/attributes").write_text("\n".join(project.gitattributes) + "\n")
        runner.git(src, "checkout", "-q", "-B", project.branch, project.commit)
    else:
        sdists = root / "sdist"
        sdists.mkdir(exist_ok=True)
        archive = sdists / project.sdist_file
        if not archive.is_file():
            with (sdists / "req.txt").open("w") as req:
                req.write(f"{project.sdist} --hash=sha256:{project.sha256}\n")
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary",
                 ":all:", "--require-hashes", "-r", str(sdists / "req.txt"), "-d", str(sdists)],
                check=True,
            )  # fmt: skip
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != project.sha256:
            raise HarnessError(f"{archive}: sha256 {digest}, expected {project.sha256}")
        unpack = root / "unpack"
        shutil.rmtree(unpack, ignore_errors=True)
        with tarfile.open(archive) as tar:
            tar.extractall(unpack, filter="data")
        (top,) = list(unpack.iterdir())
        top.rename(src)
        shutil.rmtree(unpack)
        runner.git(src, "init", "-q", "-b", project.branch)
        runner.git(src, "add", "-A")
        runner.git(src, "commit", "-q", "-m", f"{project.sdist} (the PyPI sdist, unchanged)")
    return src


def install(
    project: Project,
    root: Path,
    runner: Runner,
    common: dict[str, Any],
    fresh: bool,
    plugin: Path,
) -> None:
    venv = root / "venv"
    spec = {"install": list(project.install), "python": project.python, "plugin": str(plugin)}
    stamp = venv / STAMP
    if not fresh and stamp.is_file() and json.loads(stamp.read_text()) == spec:
        print(f"  venv {venv}: reused", flush=True)
        return
    shutil.rmtree(venv, ignore_errors=True)
    python = find_python(project.python)
    if python is None:
        raise HarnessError(
            f"{project.name}: no working python{project.python} on PATH nor in "
            f"~/.pyenv/versions/{project.python}*"
        )
    uv = shutil.which("uv")
    if uv is None:
        tools = root.parent / "tools"
        if not (tools / "bin/uv").exists():
            subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True)
            subprocess.run([str(tools / "bin/pip"), "install", "-q", "uv"], check=True)
        uv = str(tools / "bin/uv")
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    values = {
        "venv": str(venv),
        "python": python,
        "src": str(root / "src"),
        "project": str(root / "src" / project.project_dir),
        "repo": str(plugin),
        "uv": uv,
        "gitleaks_requirements": str(REPO / common["gitleaks_requirements"]),
    }
    env = dict(runner.env, UV_PROJECT_ENVIRONMENT=str(venv))
    saved, runner.env = runner.env, env
    try:
        for i, command in enumerate(project.install):
            code, _ = runner.run(f"install{i}", command.format(**values), root / "src")
            if code != 0:
                raise HarnessError(f"{project.name}: install command {i} exited {code}")
    finally:
        runner.env = saved
    stamp.write_text(json.dumps(spec))


# --- planting ------------------------------------------------------------------------


def fake_github_token(seed: str) -> str:
    """A GitHub-token-shaped value made at run time (none is committed here)."""
    return "ghp" + "_" + hashlib.sha256(seed.encode()).hexdigest()[:36]


def plant(project_dir: Path, p: Plant, seed: str) -> tuple[str, int]:
    """Apply one recipe; returns the path and the line the finding should point at."""
    text = p.insert.replace("{fake_github_token}", fake_github_token(seed))
    path = project_dir / p.file
    if p.create:
        if path.exists():
            raise HarnessError(f"{p.file}: exists, cannot create")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return p.file, p.report_line
    # Bytes kept as they are (a file with CRLF line ends stays CRLF: rewriting it would
    # make every line of it "changed" for the gates that judge changed lines).
    with path.open(encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines(keepends=True)
    if lines and lines[0].endswith("\r\n"):
        text = text.replace("\n", "\r\n")
    start = 0
    if p.within:
        start = next((i for i, line in enumerate(lines) if p.within in line), -1)
        if start < 0:
            raise HarnessError(f"{p.file}: no line with {p.within!r}")
    at = next((i for i in range(start, len(lines)) if p.anchor in lines[i]), -1)
    if at < 0:
        raise HarnessError(f"{p.file}: no line with {p.anchor!r} after {p.within!r}")
    index = at + 1 if p.position == "after" else at
    lines[index:index] = [text]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("".join(lines))
    return p.file, index + p.report_line if p.report_line else 0


def findings(report_path: Path) -> list[dict[str, Any]]:
    data = json.loads(report_path.read_text())
    out = []
    for gate in data.get("gates", []):
        for f in gate.get("findings", []):
            out.append({"gate": gate["name"], **f})
    return out


def clock_tests(project_dir: Path) -> set[str]:
    """The tests init's clock probe found to follow the time of day (the query baseline's
    ``clock`` list): their count growth is a warning by design."""
    path = project_dir / ".django-gates" / "query-baseline.json"
    try:
        return set(json.loads(path.read_text()).get("clock", {}))
    except (OSError, ValueError):
        return set()


def follows_clock(finding: dict[str, Any], clock: set[str]) -> bool:
    """A warning on a test of the clock list (its count growth, or a write loop its data
    reaches at another hour): expected, counted apart. An error never is."""
    return finding.get("severity") == "warning" and finding.get("object") in clock


def first_run_check(outcome: Outcome, step: str, code: int, report: Path, clock: set[str]) -> None:
    """Expected: exit 0 and no finding, but the warnings of the clock list's tests."""
    found = findings(report) if report.is_file() else []
    failing = [
        f"{f['code']} {f.get('path')}:{f.get('line')}" for f in found if not follows_clock(f, clock)
    ]
    moved = sum(1 for f in found if follows_clock(f, clock))
    note = f" ({moved} warning(s) of tests that follow the clock)" if moved else ""
    outcome.check(
        step,
        "exit 0, no finding but the clock list's warnings",
        f"exit {code}; {len(failing)} finding(s){note}: {', '.join(failing[:4])}",
        code == 0 and not failing and report.is_file(),
    )


def matches(finding: dict[str, Any], code: str, path: str, line: int) -> bool:
    codes = code.split("|")
    return (
        any(fnmatch.fnmatchcase(str(finding.get("code")), c) for c in codes)
        and finding.get("path") == path
        and finding.get("line") == line
    )


# --- one project ---------------------------------------------------------------------


def adopt(
    project: Project, workdir: Path, common: dict[str, Any], fresh: bool, plugin: Path
) -> Outcome:
    root = workdir / project.name
    logs = root / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    outcome = Outcome(project.name)
    runner = Runner(outcome, logs, base_env(project, root / "venv"), float(common["timeout"]))
    print(f"== {project.name} ({project.layout})", flush=True)
    src = clean_copy(project, root, runner)
    install(project, root, runner, common, fresh, plugin)
    proj = src / project.project_dir
    pyproject = proj / "pyproject.toml"
    values = {"venv": str(root / "venv"), "project": str(proj), "src": str(src)}
    for i, command in enumerate(project.setup):
        code, _ = runner.run(f"setup{i}", command.format(**values), proj)
        if code != 0:
            raise HarnessError(f"{project.name}: setup command {i} exited {code}")
    base = runner.git(src, "rev-parse", "HEAD")

    # 3. init --baselines
    code, out = runner.run(
        "init-baselines", ["django-gates", "init", "--baselines", *project.init_args], proj
    )
    last = out.strip().splitlines()[-1] if out.strip() else ""
    outcome.check("init --baselines", "exit 0", f"exit {code}: {last[:120]}", code == 0)
    runner.git(src, "add", "-A")
    runner.git(src, "commit", "-q", "--allow-empty", "-m", "django-gates init --baselines")
    base = runner.git(src, "rev-parse", "HEAD")

    # 4. the first run
    first = logs / "first-run.json"
    code, out = runner.run(
        "first-run",
        ["django-gates", "run", "--skip", "pip-audit", "--report", str(first)],
        proj,
    )
    clock = clock_tests(proj)
    first_run_check(outcome, "first run", code, first, clock)
    # the first run at other times of day (the data of some suites follows the clock)
    for hours in project.clock_hours:
        moved = logs / f"first-run-clock-{hours:g}.json"
        saved, runner.env = (
            runner.env,
            {
                **runner.env,
                CLOCK_SHIFT: f"{float(runner.env.get(CLOCK_SHIFT, 0)) + hours:g}",
            },
        )
        try:
            code, out = runner.run(
                f"first-run-clock-{hours:g}",
                ["django-gates", "run", "--skip", "pip-audit", "--report", str(moved)],
                proj,
            )
        finally:
            runner.env = saved
        first_run_check(outcome, f"first run, clock +{hours:g} h", code, moved, clock)

    # 5. init again changes nothing
    before = pyproject.read_text() if pyproject.is_file() else ""
    code, out = runner.run("init-again", ["django-gates", "init"], proj)
    after = pyproject.read_text() if pyproject.is_file() else ""
    outcome.check(
        "init again",
        "exit 0, pyproject.toml unchanged",
        f"exit {code}, {'unchanged' if before == after else 'changed'}",
        code == 0 and before == after,
    )
    runner.git(src, "checkout", "-q", "--", ".")

    # 6. planted problems, one commit each, then run --since base
    runner.git(src, "checkout", "-q", "-b", "planted")
    expected: list[tuple[Plant, str, int]] = []
    for i, p in enumerate(project.plants):
        path, line = plant(proj, p, f"{project.name}-{i}")
        expected.append((p, path, line))
        runner.git(src, "add", "-A")
        runner.git(src, "commit", "-q", "-m", f"planted: {p.gate} {p.code}")
    planted = logs / "planted-run.json"
    code, out = runner.run(
        "planted-run",
        ["django-gates", "run", "--since", base, "--skip", "pip-audit", "--report", str(planted)],
        proj,
    )
    outcome.check("planted run", "exit 1", f"exit {code}", code == 1)
    found = findings(planted) if planted.is_file() else []
    used: set[int] = set()
    for p, path, line in expected:
        if not line:
            continue
        hit = [i for i, f in enumerate(found) if matches(f, p.code, path, line)]
        used.update(hit)
        near = [
            f"{f['code']} {f.get('path')}:{f.get('line')}"
            for f in found
            if f.get("path") == path or f["gate"] == p.gate
        ]
        outcome.check(
            f"planted {p.gate}",
            f"{p.code} at {path}:{line}",
            "found" if hit else f"missed; that gate/file: {', '.join(near[:3]) or 'nothing'}",
            bool(hit),
        )
        for also in p.also:
            also_code, also_path = also.split()
            caused = [
                i
                for i, f in enumerate(found)
                if fnmatch.fnmatchcase(str(f.get("code")), also_code) and f.get("path") == also_path
            ]
            used.update(caused)
            outcome.check(
                f"planted {p.gate} also",
                also,
                "found" if caused else "missed",
                bool(caused),
            )
    extra = [
        f"{f['code']} {f.get('path')}:{f.get('line')}"
        for i, f in enumerate(found)
        if i not in used and not follows_clock(f, clock)
    ]
    outcome.check(
        "nothing else",
        "no other finding",
        f"{len(extra)} other: {', '.join(extra[:5])}" if extra else "none",
        not extra,
    )

    # 7. init --force keeps a hand-written key
    runner.git(src, "checkout", "-q", project.branch)
    text = pyproject.read_text()
    table, key, value = HAND_KEY
    header = f"[tool.django-gates.{table}]\n"
    if header in text:
        text = text.replace(header, f"{header}{key} = {value}\n", 1)
    else:
        text += f"\n{header}{key} = {value}\n"
    pyproject.write_text(text)
    code, out = runner.run("init-force", ["django-gates", "init", "--force", "--dry-run"], proj)
    dropped = f"-{key} = {value}" in out
    outcome.check(
        "init --force",
        f"keeps {table}.{key}",
        f"exit {code}, {'dropped' if dropped else 'kept'}",
        code == 0 and not dropped,
    )
    runner.git(src, "checkout", "-q", "--", ".")
    return outcome


def table(outcomes: Sequence[Outcome]) -> str:
    rows = [("project", "step", "ok", "expected", "observed")]
    for o in outcomes:
        for c in o.checks:
            rows.append((o.project, c.step, "yes" if c.ok else "NO", c.expected, c.observed))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", action="append", help="Only this project (repeatable).")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument(
        "--fresh-venv", action="store_true", help="Recreate the venvs even when unchanged."
    )
    parser.add_argument(
        "--plugin",
        type=Path,
        default=REPO,
        help="The pytest-django-gates tree installed editable (default: this repository; "
        "a copy keeps the measurement still while the repository is being edited).",
    )
    args = parser.parse_args(argv)
    try:
        common, projects = load_config(args.config)
        names = args.project or list(projects)
        unknown = [n for n in names if n not in projects]
        if unknown:
            raise HarnessError(f"unknown project(s): {', '.join(unknown)}")
        args.workdir.mkdir(parents=True, exist_ok=True)
        outcomes = []
        for name in names:
            try:
                outcome = adopt(
                    projects[name], args.workdir, common, args.fresh_venv, args.plugin.resolve()
                )
                outcomes.append(outcome)
            except HarnessError as exc:
                failed = Outcome(name)
                failed.check("harness", "every step runs", str(exc), False)
                outcomes.append(failed)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = args.workdir / "summary.json"
    kept: list[dict[str, Any]] = []
    if summary.is_file():  # the other projects' entries of earlier runs stay
        ran = {o.project for o in outcomes}
        kept = [e for e in json.loads(summary.read_text()) if e.get("project") not in ran]
    summary.write_text(json.dumps(kept + [asdict(o) for o in outcomes], indent=2) + "\n")
    print()
    print(table(outcomes))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
