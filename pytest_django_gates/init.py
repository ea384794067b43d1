"""Write the [tool.django-gates] table that fits an existing project.

``django-gates init [--dry-run] [--force] [--baselines]`` inspects the project
without importing it (it reads files and asks git; ``--baselines`` is the one
step that runs anything: the migrations analysis, ruff, mypy and the test suite)
and writes only what it found:

* ``gates``: the test-time gates (queries, migrations, and deploy when a
  production settings module exists; coverage is left for the user to add with a
  floor, since there is nothing to hold before one is chosen) and the tools that
  are installed (ruff, mypy when it is configured, gitleaks, pip-audit);
* ``deploy_settings``: the production settings module, found as the deploy gate
  finds it (``settings/production.py`` or ``prod.py``);
* with ``--baselines``, what exists today is accepted so that the first run
  passes and later runs fail only on what is new:

  - ``[tool.django-gates.migrations] baseline``: today's migration findings;
  - the ruff and mypy baselines (``.django-gates/ruff-baseline.json``,
    ``mypy-baseline.json``; see :mod:`pytest_django_gates.gates._hold`), which
    ``hold = "auto"`` uses because the files exist;
  - ``[tool.django-gates.queries] baseline``: the per-test query counts of one run
    of the suite (``pytest --django-gates --gates-update-baseline``, with N+1s
    reported rather than failing the run);
  - each N+1 that run finds becomes a ``[[tool.django-gates.queries.allow]]`` entry
    for its test, its file and its query shape (not its line, which moves as the
    file is edited), with a reason saying it predates the gates. An entry
    whose N+1 is fixed is reported as unused (``DJG104``), so the list only shrinks.

  A suite that does not pass as it is makes ``init --baselines`` exit 1 after
  saying so: the baselines of a broken suite would hold the wrong thing.

It prints what it chose and why, including what it left alone: the test settings
and whether pytest-django runs the suite, the production database engine (which
``backend = "auto"`` uses), the project's apps, and the git base branch (which
the CI gives the gates; locally, ``django-gates run --since BASE``).

The table goes into ``pyproject.toml`` (created when there is none), replacing
an earlier ``[tool.django-gates*]`` section only with ``--force``; everything
else in the file is kept byte for byte. The result is written atomically, and
running ``init`` again on an unchanged project changes nothing (idempotent).
``--dry-run`` prints the diff and writes nothing.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_django_gates.config import ConfigError
from pytest_django_gates.gates._hold import DEFAULT_DIR

BASELINE_DIR = DEFAULT_DIR  # one directory for every baseline (see gates/_hold.py)
MIGRATIONS_BASELINE = f"{BASELINE_DIR}/migrations-baseline.json"
QUERY_BASELINE = f"{BASELINE_DIR}/query-baseline.json"
ADOPTED_REASON = (
    "an N+1 that existed when django-gates was adopted (django-gates init --baselines); "
    "fix it, then remove this entry"
)
_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*tool\.django-gates(\.[^\]]*)?\s*\]\]?\s*(#.*)?$")
_SKIPPED_DIRS = frozenset({"node_modules", "site-packages", "venv", "build", "dist"})
_ANY_HEADER = re.compile(r"^\s*\[\[?[^\]]+\]\]?\s*(#.*)?$")


@dataclass
class Plan:
    """What init found (``notes``: one line each, printed) and the table it writes."""

    root: Path
    gates: list[str] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # [[tool.django-gates.queries.allow]] entries: the project's own, kept, and those
    # ``--baselines`` adds for the N+1s the suite has today.
    allows: list[dict[str, str]] = field(default_factory=list)

    def set(self, table: str, key: str, value: Any) -> None:
        self.values.setdefault(table, {})[key] = value

    def toml(self) -> str:
        lines = [
            "[tool.django-gates]",
            "# Written by `django-gates init`; run it again with --force after changing the",
            "# project's layout. Every key is in the docs' configuration page.",
            f"gates = [{', '.join(_toml(g) for g in self.ordered_gates)}]",
        ]
        for key, value in self.values.get("", {}).items():
            lines.append(f"{key} = {_toml(value)}")
        for table, entries in self.values.items():
            if not table:
                continue
            lines += ["", f"[tool.django-gates.{table}]"]
            lines += [f"{key} = {_toml(value)}" for key, value in entries.items()]
        for entry in self.allows:
            lines += ["", "[[tool.django-gates.queries.allow]]"]
            lines += [f"{key} = {_toml(value)}" for key, value in entry.items()]
        return "\n".join(lines) + "\n"

    @property
    def ordered_gates(self) -> list[str]:
        from pytest_django_gates.options import ALL_GATES

        return [g for g in ALL_GATES if g in self.gates]


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"no TOML form for {value!r}")  # pragma: no cover - init writes these only


# -- inspecting ------------------------------------------------------------------------


def inspect(root: Path, environ: Mapping[str, str]) -> Plan:
    from pytest_django_gates import config, options
    from pytest_django_gates.migrations.project import resolve_project

    plan = Plan(root=root)
    pyproject = root / "pyproject.toml"
    bare = config.load(
        options.OPTIONS, cli={}, environ={}, pyproject=pyproject if pyproject.is_file() else None
    )
    plan.allows = [
        {k: str(v) for k, v in entry.items() if isinstance(v, str)}
        for entry in bare["queries.allow"]
    ]
    # test settings and pytest-django
    try:
        project = resolve_project(bare, root, environ)
        plan.notes.append(f"test settings: {project.settings} (from {project.settings_source})")
    except ConfigError:
        plan.notes.append(
            "test settings: none found (no DJANGO_SETTINGS_MODULE in pytest's configuration or "
            "manage.py); set DJANGO_SETTINGS_MODULE under [tool.pytest.ini_options]"
        )
    if importlib.util.find_spec("pytest_django") is None:
        plan.notes.append(
            "pytest-django: not installed; the test-time gates need it: pip install pytest-django"
        )
    else:
        plan.notes.append("pytest-django: installed (pytest --django-gates runs the suite)")
    plan.gates += ["queries", "migrations"]
    if importlib.util.find_spec("pytest_cov") is None:
        plan.notes.append("coverage: left out (pytest-cov is not installed)")
    else:
        plan.notes.append(
            'coverage: left out until there is a floor to hold: add "coverage" to gates with '
            "[tool.django-gates.coverage] line = N (or patch = N for changed lines) and run "
            "pytest with --cov"
        )
    _production(plan, bare, root)
    _tools(plan, root)
    _apps(plan, root)
    _git_base(plan, root)
    return plan


def _production(plan: Plan, cfg: Any, root: Path) -> None:
    from pytest_django_gates.deploy.runner import resolve_target
    from pytest_django_gates.migrations.request import production_database

    try:
        module, _, discovered = resolve_target(cfg, root)
    except ConfigError as exc:
        plan.notes.append(
            f"deploy: left out ({str(exc).split(';')[0]}); once production settings exist, "
            "run django-gates init --force"
        )
        return
    plan.gates.append("deploy")
    plan.set("", "deploy_settings", module)
    how = "found" if discovered else "configured"
    plan.notes.append(f"deploy: production settings {module} ({how})")
    engine = production_database(cfg, root)
    if engine:
        plan.notes.append(f"migrations: PostgreSQL rules apply (backend auto: {engine})")
    else:
        plan.notes.append(
            "migrations: the production database engine is not written in the production "
            "settings; if production runs PostgreSQL, set [tool.django-gates.migrations] "
            'backend = "postgresql"'
        )


def _tools(plan: Plan, root: Path) -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    if _installed("ruff"):
        plan.gates.append("ruff")
        configured = "[tool.ruff" in text or (root / "ruff.toml").is_file()
        plan.notes.append(f"ruff: installed ({'configured' if configured else 'its defaults'})")
    else:
        plan.notes.append("ruff: left out (not installed)")
    mypy_config = "[tool.mypy" in text or (root / "mypy.ini").is_file()
    if _installed("mypy") and mypy_config:
        plan.gates.append("mypy")
        plan.notes.append("mypy: installed and configured")
    else:
        plan.notes.append("mypy: left out (not installed, or no [tool.mypy] / mypy.ini)")
    for tool in ("gitleaks", "pip-audit"):
        if _installed(tool):
            plan.gates.append(tool)
            plan.notes.append(f"{tool}: installed")
        else:
            plan.notes.append(f"{tool}: left out (not installed)")


def _installed(tool: str) -> bool:
    """As the tool gates find it: next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / tool
    return (beside.is_file() and os.access(beside, os.X_OK)) or shutil.which(tool) is not None


def _apps(plan: Plan, root: Path) -> None:
    apps = sorted(
        p.parent.relative_to(root).as_posix()
        for p in root.glob("**/apps.py")
        if not any(part.startswith(".") or part in _SKIPPED_DIRS for part in p.parts)
        and (p.parent / "__init__.py").is_file()
    )
    plan.notes.append(f"apps: {', '.join(apps) if apps else 'none found (no apps.py)'}")


def _git_base(plan: Plan, root: Path) -> None:
    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    if git("rev-parse", "--is-inside-work-tree") != "true":
        plan.notes.append("git: not a work tree (the gates that compare with a base need git)")
        return
    base = git("rev-parse", "--abbrev-ref", "origin/HEAD")
    if not base:
        for name in ("main", "master"):
            if git("show-ref", "--verify", "--quiet", f"refs/heads/{name}") is not None:
                base = name
                break
    if base:
        plan.notes.append(
            f"git base: {base} (pull requests get their base from CI; locally: "
            f"django-gates run --since {base})"
        )
    else:
        plan.notes.append("git base: none found (no origin/HEAD, main or master)")


# -- writing ---------------------------------------------------------------------------


def merge(text: str, table: str) -> tuple[str, bool]:
    """``text`` with its ``[tool.django-gates*]`` sections replaced by ``table`` (appended
    when there are none). Returns the new text and whether a section was replaced."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    replaced = False
    inside = False
    for line in lines:
        if _TABLE_HEADER.match(line.rstrip("\n")):
            if not replaced:
                out.append(table)
                replaced = True
            inside = True
            continue
        if inside and _ANY_HEADER.match(line.rstrip("\n")):
            inside = False
            out.append("\n")
        if not inside:
            out.append(line)
    if not replaced:
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        if out:
            out.append("\n")
        out.append(table)
    merged = "".join(out)
    merged = re.sub(r"\n{3,}", "\n\n", merged)
    return merged, replaced


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="Print the diff, write nothing.")
    parser.add_argument(
        "--force", action="store_true", help="Replace an existing [tool.django-gates] section."
    )
    parser.add_argument(
        "--baselines",
        action="store_true",
        help="Accept what exists today (migration findings, ruff and mypy findings, query "
        "counts and N+1s; this runs the test suite once) so that the first run passes and "
        "later runs fail only on what is new.",
    )


def run(args: argparse.Namespace, root: Path, out: Any) -> int:
    """The ``init`` command; returns the exit code."""
    plan = inspect(root, os.environ)
    pyproject = root / "pyproject.toml"
    if args.baselines:
        plan.set("migrations", "baseline", MIGRATIONS_BASELINE)
        plan.set("queries", "baseline", QUERY_BASELINE)
    before = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    after, replaced = merge(before, plan.toml())
    for note in plan.notes:
        out.write(f"  {note}\n")
    if after == before:
        out.write(f"{pyproject}: up to date\n")
        return _baselines(plan, root, pyproject, out) if args.baselines and not args.dry_run else 0
    if replaced and not args.force and not args.dry_run:
        raise ConfigError(
            f"{pyproject} already has a [tool.django-gates] section that differs from what init "
            "would write: see it with django-gates init --dry-run, replace it with --force"
        )
    diff = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"{pyproject.name} (now)",
        tofile=f"{pyproject.name} (init)",
    )
    if args.dry_run:
        out.writelines(diff)
        out.write("dry run: nothing written\n")
        return 0
    from pytest_django_gates.report import atomic_write_text

    atomic_write_text(pyproject, after)
    out.write(f"{pyproject}: {'[tool.django-gates] replaced' if replaced else 'written'}\n")
    code = _baselines(plan, root, pyproject, out) if args.baselines else 0
    out.write("next: pytest --django-gates (and django-gates run for every gate)\n")
    return code


def _baselines(plan: Plan, root: Path, pyproject: Path, out: Any) -> int:
    """Write the baselines of ``--baselines`` (the table is already written); the exit code."""
    from pytest_django_gates import config, options
    from pytest_django_gates.gates import GateContext, run_gate
    from pytest_django_gates.report import Report, exit_code

    (root / BASELINE_DIR).mkdir(exist_ok=True)
    codes = []
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "migrations",
            {
                "migrations.update_baseline": True,
                "migrations.baseline": str(root / MIGRATIONS_BASELINE),
            },
        ),
    ]
    steps += [
        (tool, {"run.update_baselines": True}) for tool in ("ruff", "mypy") if tool in plan.gates
    ]
    for gate, cli in steps:
        cfg = config.load(options.OPTIONS, cli=cli, environ=os.environ, pyproject=pyproject)
        result, _ = run_gate(gate, GateContext(config=cfg, rootdir=root))
        out.write(f"{gate} baseline: {result.summary}\n")
        codes.append(exit_code(Report(gates=(result,))))
    if importlib.util.find_spec("pytest_django") is None:
        out.write("queries baseline: not written (pytest-django is not installed)\n")
    else:
        codes.append(_query_baselines(plan, root, pyproject, out))
    return max(codes)


def _query_baselines(plan: Plan, root: Path, pyproject: Path, out: Any) -> int:
    """Run the suite once: its query counts become the baseline, its N+1s allow entries."""
    import tempfile

    from pytest_django_gates import config, options, suite_process
    from pytest_django_gates.report import Report, ReportError, atomic_write_text

    with tempfile.TemporaryDirectory(prefix="django-gates-init-") as tmp:
        report_path = Path(tmp) / "report.json"
        argv = [
            sys.executable,
            "-m",
            "pytest",
            "--django-gates",
            "--gates-update-baseline",
            f"--gates-query-baseline={root / QUERY_BASELINE}",
            "--gates-n-plus-one=report",
            f"--gates-report={report_path}",
            "-q",
        ]
        out.write(f"queries baseline: running the test suite ({' '.join(argv[1:4])} ...)\n")
        env = dict(os.environ, DJANGO_GATES_GATES="queries")
        timeout = float(
            config.load(options.OPTIONS, cli={}, environ=os.environ, pyproject=pyproject)[
                "run.timeout"
            ]
        )
        try:
            # As django-gates run runs it: its own process group, stopped whole (xdist
            # workers too) on Ctrl-C, SIGTERM or the run's timeout.
            proc = suite_process.run(argv, cwd=root, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            out.write(
                f"queries baseline: not written: the test suite did not finish within "
                f"{timeout:g} s ([tool.django-gates.run] timeout)\n"
            )
            return 3
        except OSError as exc:
            out.write(f"queries baseline: not written: cannot run {argv[0]}: {exc}\n")
            return 3
        try:
            report = Report.load(report_path)
        except ReportError:
            report = None
    if proc.returncode == 5:  # pytest: no tests collected
        out.write("queries baseline: no test collected, so no count to hold yet\n")
        return 0
    if report is None or proc.returncode != 0:
        from pytest_django_gates.gates._tools import tail

        output = tail(proc.stdout + proc.stderr, 1500)
        out.write(
            f"queries baseline: not written: the test suite exited {proc.returncode}; make it "
            f"pass, then run django-gates init --baselines again\n{output}\n"
        )
        return 1
    gate = report.gate("queries")
    found = [f for f in (gate.findings if gate else ()) if f.code == "DJG101"]
    added = 0
    from pytest_django_gates.queries.detect import shape_in_message

    known = {(a.get("test"), a.get("location"), a.get("sql")) for a in plan.allows}
    for finding in found:
        # By test, file and query shape, not line: lines move, and the entry must not.
        entry = {"test": finding.object}
        if finding.path:
            entry["location"] = f"{finding.path}:*"
        shape = shape_in_message(finding.message)
        if shape:
            entry["sql"] = shape
        key = (entry["test"], entry.get("location"), entry.get("sql"))
        if key in known:
            continue
        known.add(key)
        entry["reason"] = ADOPTED_REASON
        plan.allows.append(entry)
        added += 1
    out.write(
        f"queries baseline: {root / QUERY_BASELINE} written ({gate.summary if gate else ''})\n"
    )
    if added:
        before = pyproject.read_text(encoding="utf-8")
        after, _ = merge(before, plan.toml())
        atomic_write_text(pyproject, after)
        plural = "s" if added != 1 else ""
        out.write(
            f"queries: {added} N+1{plural} of today allowed in [[tool.django-gates.queries.allow]] "
            f"of {pyproject.name}; fix them, then remove their entries\n"
        )
    return 0
