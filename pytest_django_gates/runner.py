"""``django-gates run``: every enabled gate, in the project it is started in, in one report.

Order: the external tools first (ruff, mypy, gitleaks, pip-audit, each a real
process, see :mod:`pytest_django_gates.gates._tools`), then the project's test
suite, once, as ``python -m pytest --django-gates --gates-report=<tmp.json>``
(plus ``--cov=.`` and ``--cov=`` each ``pythonpath`` entry of pytest's configuration
(:func:`coverage_sources`), or ``--cov`` when coverage.py's configuration names its
``source``, when the coverage gate is selected and the run's pytest arguments do not
already choose), whose report (queries, migrations, deploy, coverage) is
merged in. Without pytest-cov but with coverage.py installed, the suite runs as
``python -m coverage run [--source=.,src] -m pytest ... -n 0`` and the coverage gate reads
its data file once the suite has ended (:func:`coverage_measure`).

Which gates run: ``[tool.django-gates] gates`` (default: all), narrowed by
``--only`` / widened or narrowed by ``--skip``; ``--only`` may name gates that
the configuration leaves out (an explicit request wins).

The ``tests`` gate: whenever the suite runs, its outcome is a gate too, so a test
failure that is not a gate finding still fails the run. Its findings are the
failed tests (``tests:failed``), errors in a test's setup or teardown
(``tests:error``) and collection errors (``tests:collection-error``), with the
node id as ``object`` and the test's file and line; a failed test that a gate
already reports (an N+1 that fails its test) is not counted twice. A suite that
collects no test is ``tests:no-tests``. ``tests`` is not a name for ``--only`` /
``--skip``: it is reported exactly when a test-time gate runs.

Fail closed: a suite that cannot start, crashes, is interrupted, is stopped by
the timeout or writes no report makes every selected test-time gate, and
``tests``, an ``error``; a selected gate missing from the report is an ``error``.

Ctrl-C or SIGTERM stops the run: a tool's process is stopped, the suite's whole
process group (pytest and its xdist workers) gets the signal, a grace period,
then SIGKILL; the temporary directory is removed and ``django-gates`` exits 130
(Ctrl-C) or 143 (SIGTERM) with one line on stderr, reporting nothing. The
project's coverage data file is replaced only by a suite that ran to its end
(see :mod:`pytest_django_gates.suite_process`).

With ``--fail-on-warnings`` (``[tool.django-gates.run] fail_on_warnings``), a gate
whose findings are only warnings is ``failed`` instead of ``passed``.

Progress goes to stderr, one line when a gate starts and one when it ends; the
result is printed in the chosen ``--format`` and, for ``text``, followed by the
summary table (gate, status, findings, time), which otherwise goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_django_gates import options, shards, suite_process
from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.gates import GateContext, run_gate
from pytest_django_gates.gates._tools import tail
from pytest_django_gates.report import Finding, GateResult, Report, ReportError

# Where the run_outcomes plugin (loaded into the pytest subprocess) writes the
# test outcomes. Defined here, not there: that plugin imports pytest, which the
# django-gates command must not pay for at start-up.
OUTCOMES_ENV = "DJANGO_GATES_RUN_OUTCOMES"

TOOL_GATES = ("ruff", "mypy", "gitleaks", "pip-audit")
TESTS_GATE = "tests"
# How often django-gates run says how far the suite is: on a terminal, and in a CI log.
PROGRESS_TTY_SECONDS = 5.0
PROGRESS_LOG_SECONDS = 60.0


def show_progress(outcomes: Path, seconds: float, progress: Progress | None) -> None:
    """One line: tests done of collected, failures so far, time (from run_outcomes)."""
    from pytest_django_gates.run_outcomes import progress_path

    if progress is None:
        return
    minutes, secs = divmod(int(seconds), 60)
    try:
        data = json.loads(progress_path(outcomes).read_text(encoding="utf-8"))
        done, total, failed = int(data["done"]), int(data["total"]), int(data["failed"])
    except (OSError, ValueError, KeyError, TypeError):
        progress(f"      tests: collecting ... ({minutes}m {secs:02d}s)")
        return
    progress(f"      tests: {done}/{total} done, {failed} failed so far ({minutes}m {secs:02d}s)")


# Options of the test-time gates that take the change's base ref, when those gates
# define them: ``django-gates run --since REF`` passes REF on through the environment.
_SINCE_KEYS = ("migrations.since", "coverage.since")

_PYTEST_EXIT = {
    2: "interrupted",
    3: "an internal error",
    4: "a usage error",
}

Progress = Callable[[str], None]


@dataclass
class RunResult:
    report: Report
    durations: dict[str, float] = field(default_factory=dict)
    shard: Mapping[str, Any] | None = None  # the suite's shard stamp (run --shard)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GATE[,GATE]",
        help=f"Run only these gates (of: {', '.join(options.ALL_GATES)}).",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="GATE[,GATE]",
        help="Do not run these gates.",
    )
    parser.add_argument(
        "--since",
        metavar="REF",
        help="Base git ref of the change (e.g. origin/main): gitleaks scans REF..HEAD, and the "
        "migrations and coverage gates get it as their base (config: [tool.django-gates.run] "
        "since).",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        default=None,
        help="Show and count every ruff and mypy finding: nothing is held back by a baseline "
        "or by the changed lines.",
    )
    parser.add_argument(
        "--update-baselines",
        action="store_true",
        default=None,
        help="Rewrite the ruff, mypy and deploy baselines (.django-gates/<gate>-baseline.json) "
        "with today's findings, and append gitleaks' findings to .gitleaksignore.",
    )
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="Run the K-th of N groups of the test suite, for a suite split across CI "
        "runners: only the gates that need the tests (queries, coverage measured but not "
        "judged, indexes); merge the N reports with django-gates report --shards N "
        "(env DJANGO_GATES_RUN_SHARD).",
    )
    parser.add_argument(
        "--fail-on-warnings",
        action="store_true",
        default=None,
        help="A gate with warnings fails (config: [tool.django-gates.run] fail_on_warnings).",
    )


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "run.since": args.since,
        "run.fail_on_warnings": args.fail_on_warnings,
        "run.all": args.all,
        "run.update_baselines": args.update_baselines,
        "run.shard": args.shard,
    }


def _names(values: Sequence[str], flag: str) -> list[str]:
    names = [part.strip() for value in values for part in value.split(",") if part.strip()]
    unknown = [n for n in names if n not in options.ALL_GATES]
    if unknown:
        hint = " ('tests' runs whenever a test-time gate does)" if TESTS_GATE in unknown else ""
        raise ConfigError(
            f"{flag}: unknown gate(s) {', '.join(map(repr, unknown))}; "
            f"choose from: {', '.join(options.ALL_GATES)}{hint}"
        )
    return names


def select(cfg: GatesConfig, only: Sequence[str], skip: Sequence[str]) -> list[str]:
    """The gates to run, in the documented order."""
    only_names = _names(only, "--only")
    skip_names = _names(skip, "--skip")
    chosen = set(only_names) if only_names else set(cfg["gates"])
    chosen -= set(skip_names)
    selected = [g for g in options.ALL_GATES if g in chosen]
    if not selected:
        raise ConfigError(
            "no gate selected: [tool.django-gates] gates, --only and --skip leave nothing to run"
        )
    return selected


def run(
    cfg: GatesConfig,
    rootdir: Path,
    gates: Sequence[str],
    *,
    progress: Progress,
    environ: Mapping[str, str] | None = None,
) -> RunResult:
    environ = dict(os.environ if environ is None else environ)
    # With the lock trace on, the migrations gate runs as `django-gates migrations`
    # does (the trace needs its own database connection, not pytest's test database).
    own = set(TOOL_GATES) | ({"migrations"} if cfg["migrations.trace"] else set())
    tool_gates = [g for g in gates if g in own]
    test_gates = [g for g in gates if g in options.PYTEST_GATES and g not in own]
    shard = shards.of(cfg["run.shard"])
    if shard is not None:
        once = [g for g in gates if g not in shards.SHARDED_GATES]
        tool_gates = []
        test_gates = [g for g in test_gates if g in shards.SHARDED_GATES]
        if not test_gates:
            raise ConfigError(
                f"--shard {shard}: none of the selected gates ({', '.join(gates)}) needs the "
                "tests; a shard runs queries, coverage and indexes (run the others once, "
                "without --shard)"
            )
        if once:
            progress(f"shard {shard}: {', '.join(once)} left out (they run once, not per shard)")
    steps = len(tool_gates) + (1 if test_gates else 0)
    result = RunResult(report=Report(gates=()))
    progress(f"django-gates run: {', '.join(gates)} in {rootdir}")
    results: list[GateResult] = []
    ctx = GateContext(config=_with_run_since(cfg, environ), rootdir=rootdir)
    for number, name in enumerate(tool_gates, start=1):
        progress(f"[{number}/{steps}] {name} ...")
        gate_result, seconds = run_gate(name, ctx)
        result.durations[name] = seconds
        results.append(gate_result)
        progress(f"[{number}/{steps}] {name}: {gate_result.status} in {seconds:.1f} s")
    if test_gates:
        label = f"tests ({', '.join(test_gates)})"
        progress(f"[{steps}/{steps}] {label}: python -m pytest --django-gates ...")
        start = time.perf_counter()
        test_results, result.shard = run_test_suite(
            cfg, rootdir, test_gates, environ=environ, progress=progress
        )
        seconds = time.perf_counter() - start
        # The gates inside the suite share its time: it is shown once, on ``tests``.
        result.durations[TESTS_GATE] = seconds
        results.extend(test_results)
        statuses = ", ".join(f"{g.name} {g.status}" for g in test_results)
        progress(f"[{steps}/{steps}] {label}: {statuses} in {seconds:.1f} s")
    if cfg["run.fail_on_warnings"]:
        results = [_warnings_fail(g) for g in results]
    result.report = Report(gates=tuple(results), shard=result.shard)
    return result


def _with_run_since(cfg: GatesConfig, environ: Mapping[str, str]) -> GatesConfig:
    """``cfg`` with ``run.since`` as the base of the gates that take one, exactly as the
    suite's gates get it through the environment (:func:`run_test_suite`): for the
    migrations gate when the lock trace makes it run here, outside the suite."""
    since = str(cfg["run.since"] or "")
    values, sources = dict(cfg.values), dict(cfg.sources)
    for key in _SINCE_KEYS:
        opt = options.OPTIONS.get(key)
        if not since or opt is None or opt.env_name in environ:
            continue  # the caller's environment wins, as it does for the suite
        if sources[key].startswith("command line"):
            continue
        values[key] = opt.convert(since, "django-gates run --since")
        sources[key] = f"environment ({opt.env_name}, from django-gates run --since)"
    return replace(cfg, values=values, sources=sources)


def _warnings_fail(gate: GateResult) -> GateResult:
    if gate.status == "passed" and gate.warnings:
        return replace(
            gate, status="failed", summary=f"{gate.summary} (warnings fail: fail_on_warnings)"
        )
    return gate


def pytest_command(cfg: GatesConfig, gates: Sequence[str], report: Path) -> list[str]:
    python = str(cfg["run.python"] or sys.executable)
    extra = [str(a) for a in cfg["run.pytest_args"]]
    head = [python, "-m", "pytest"]
    tail_args: list[str] = []
    shard = shards.of(cfg["run.shard"])
    if shard is not None:
        tail_args.append(f"--gates-shard={shard}")
        if shards.durations_file(cfg.base_dir) is not None and _importable(python, "pytest_split"):
            # pytest-split balances the shards by the committed durations.
            tail_args += [f"--splits={shard.total}", f"--group={shard.index}"]
    if "coverage" in gates and not any(a.startswith(("--cov", "--no-cov")) for a in extra):
        # Files no test imports count too (an untested new module is uncovered, not
        # invisible): measure the project directory unless coverage's own configuration
        # names its source.
        configured = coverage_source_configured(cfg.base_dir)
        sources = [] if configured else coverage_sources(cfg.base_dir)
        if coverage_measure(cfg) == "coverage run":
            head = [python, "-m", "coverage", "run"]
            head += [f"--source={','.join(sources)}"] if sources else []
            head += ["-m", "pytest"]
            if _importable(python, "xdist") and "no:xdist" not in extra:
                tail_args += ["-n", "0"]  # `coverage run` measures this process only
        else:
            tail_args += [f"--cov={s}" for s in sources] if sources else ["--cov"]
    return [
        *head,
        "--django-gates",
        # One word: as two, pytest would take an existing path for a test path
        # while it looks for its configuration (see spaced_values).
        f"--gates-report={report}",
        "-p",
        "pytest_django_gates.run_outcomes",
        *extra,
        *tail_args,
    ]


def coverage_sources(rootdir: Path) -> list[str]:
    """What the suite's coverage measures when coverage.py's configuration names no
    source: the project directory (``.``), so that a module no test imports counts as
    uncovered rather than unseen, plus each ``pythonpath`` entry of pytest's configuration
    inside it (a ``src/`` layout): coverage.py looks for never-imported files only in
    packages below a source directory, and ``src/`` itself is not one."""
    from pytest_django_gates import pytest_ini

    sources = ["."]
    root = rootdir.resolve()
    ini = pytest_ini.read(rootdir)
    for entry in ini.pythonpath:
        path = ((ini.root or rootdir) / entry).resolve()
        if path.is_dir() and path != root and path.is_relative_to(root):
            relative = path.relative_to(root).as_posix()
            if relative not in sources:
                sources.append(relative)
    return sources


def coverage_measure(cfg: GatesConfig) -> str:
    """How ``django-gates run`` measures the suite's coverage for the coverage gate:
    ``"pytest-cov"`` (``--cov``, in memory, xdist workers included) when pytest-cov is
    installed in the suite's interpreter, else ``"coverage run"`` when coverage.py is
    (``python -m coverage run -m pytest``, as projects without pytest-cov run it in their
    CI: the suite runs in one process, ``-n 0``, and the gate reads the data file after
    the suite), else ``"pytest-cov"`` (the gate then says it was not measured)."""
    python = str(cfg["run.python"] or sys.executable)
    if _importable(python, "pytest_cov") or not _importable(python, "coverage"):
        return "pytest-cov"
    return "coverage run"


def _importable(python: str, module: str) -> bool:
    """Whether ``module`` can be imported by the interpreter ``python``."""
    import importlib.util

    if python == sys.executable:
        return importlib.util.find_spec(module) is not None
    try:
        proc = subprocess.run(
            [python, "-c", f"import importlib.util as u; exit(u.find_spec({module!r}) is None)"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def coverage_source_configured(rootdir: Path) -> bool:
    """Whether coverage.py's configuration in ``rootdir`` sets ``[run] source`` (or
    ``source_pkgs``): .coveragerc, setup.cfg, tox.ini or pyproject.toml."""
    import configparser

    for name, section in (
        (".coveragerc", "run"),
        ("setup.cfg", "coverage:run"),
        ("tox.ini", "coverage:run"),
    ):
        path = rootdir / name
        if path.is_file():
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read(path, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError):
                continue
            if parser.has_option(section, "source") or parser.has_option(section, "source_pkgs"):
                return True
    pyproject = rootdir / "pyproject.toml"
    if pyproject.is_file():
        if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
            import tomllib
        else:  # pragma: no cover - version dependent
            import tomli as tomllib
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        run = data.get("tool", {}).get("coverage", {}).get("run", {})
        return isinstance(run, dict) and bool(run.get("source") or run.get("source_pkgs"))
    return False


def run_test_suite(
    cfg: GatesConfig,
    rootdir: Path,
    gates: Sequence[str],
    *,
    environ: Mapping[str, str],
    progress: Progress | None = None,
) -> tuple[list[GateResult], Mapping[str, Any] | None]:
    """Run the suite once under ``--django-gates``: the selected gates' results plus
    ``tests``, and the shard stamp of its report (``run.shard``; else None).

    Under ``coverage run`` (:func:`coverage_measure`) the coverage gate is not run inside
    the suite (its data is complete only once pytest has exited): it reads the data file
    the run wrote, after the suite, and only when the suite ran to its end."""
    shard = shards.of(cfg["run.shard"])
    # A shard that could not run still says which shard it is: the merge then fails
    # closed on its error, not on a "missing" shard.
    planned = {"index": shard.index, "total": shard.total} if shard is not None else None
    with tempfile.TemporaryDirectory(prefix="django-gates-run-") as tmp:
        report_path = Path(tmp) / "gates-report.json"
        outcomes_path = Path(tmp) / "outcomes.json"
        argv = pytest_command(cfg, gates, report_path)
        by_coverage_run = "coverage" in gates and argv[1:4] == ["-m", "coverage", "run"]
        in_suite = [g for g in gates if not (by_coverage_run and g == "coverage")]
        env = dict(environ)
        env.setdefault("PYTHONHASHSEED", suite_process.HASH_SEED)
        env["DJANGO_GATES_GATES"] = ",".join(in_suite)
        env[OUTCOMES_ENV] = str(outcomes_path)
        env.pop(options.OPTIONS["report"].env_name, None)
        since = str(cfg["run.since"] or "")
        for key in _SINCE_KEYS:
            opt = options.OPTIONS.get(key)
            if since and opt is not None and opt.env_name not in env:
                env[opt.env_name] = since
        # Under coverage run, the data gets a directory of its own: a configuration with
        # parallel = true writes .coverage.* files beside it, which the gate combines.
        measured_dir = Path(tmp) / "coverage-run" if by_coverage_run else None
        if measured_dir is not None:
            measured_dir.mkdir()
        coverage_file = suite_process.CoverageFile.plan(
            rootdir, env, [str(a) for a in cfg["run.pytest_args"]], measured_dir or Path(tmp)
        )
        # coverage run starts a new data file; pytest-cov may append (--cov-append)
        coverage_file.prepare(env, with_existing=measured_dir is None)
        if measured_dir is not None:
            env.setdefault("COVERAGE_FILE", str(measured_dir / ".coverage"))
        timeout = float(cfg["run.timeout"])
        try:
            proc = suite_process.run(
                argv,
                cwd=rootdir,
                env=env,
                timeout=timeout,
                progress=lambda seconds: show_progress(outcomes_path, seconds, progress),
                every=PROGRESS_TTY_SECONDS if sys.stderr.isatty() else PROGRESS_LOG_SECONDS,
            )
        except subprocess.TimeoutExpired:
            return _all_error(gates, f"the test suite did not finish within {timeout:g} s"), planned
        except OSError as exc:
            return _all_error(gates, f"cannot run {argv[0]}: {exc.strerror or exc}"), planned
        if shard is not None and measured_dir is not None:
            _combine_parallel(argv[0], measured_dir, env)
        not_kept = coverage_file.keep() if proc.returncode in suite_process.COMPLETED else ""
        output = proc.stdout + proc.stderr
        if not report_path.is_file():
            why = _PYTEST_EXIT.get(proc.returncode, f"exit {proc.returncode}")
            return (
                _all_error(gates, _no_report(why, argv[0], output)),
                planned,
            )
        try:
            suite_report = Report.load(report_path)
        except ReportError as exc:
            return (
                _all_error(gates, f"the report of pytest --django-gates is unusable: {exc}"),
                planned,
            )
        outcomes = _load_outcomes(outcomes_path)
        after: dict[str, GateResult] = {}
        if measured_dir is not None and shard is not None:
            after["coverage"] = shards.not_judged_coverage(shard)
        elif measured_dir is not None:
            after["coverage"] = _coverage_after_run(
                cfg, rootdir, measured_dir, proc.returncode, environ
            )
    results: list[GateResult] = []
    for name in gates:
        found = after.get(name) or suite_report.gate(name)
        if found is None:
            found = GateResult(
                name=name,
                status="error",
                summary=f"pytest --django-gates did not report the {name} gate "
                f"(pytest exit {proc.returncode})",
            )
        results.append(found)
    tests = gate_from_suite(proc.returncode, outcomes, results, output)
    if not_kept:
        warning = Finding(
            code="tests:coverage-data",
            severity="warning",
            message=not_kept,
            object="COVERAGE_FILE",
            hint="Check that the directory exists and can be written; the gates are not affected.",
        )
        tests = replace(tests, findings=(*tests.findings, warning))
    return [tests, *results], suite_report.shard or planned


_EXCEPTION_LINE = re.compile(r"^(?:E\s+)?([A-Za-z_][\w.]*(?:Error|Exception|Exit)): (.+)$")


def _no_report(why: str, python: str, output: str) -> str:
    """Why the suite wrote no report: the exception that stopped pytest (its last
    ``SomeError: message`` line, with the lines that continue it), not a traceback; the
    output's tail when there is none."""
    lines = output.splitlines()
    if "unrecognized arguments: --django-gates" in output or (
        "pytest_django_gates" in output and "No module named" in output
    ):
        return (
            f"pytest --django-gates wrote no report ({why}): pytest-django-gates is not "
            f"installed in {python} (install it there, or set [tool.django-gates.run] python)"
        )
    for i in range(len(lines) - 1, -1, -1):
        match = _EXCEPTION_LINE.match(lines[i].strip())
        if match:
            rest = []
            for line in lines[i + 1 : i + 4]:
                if not line.strip() or line.lstrip().startswith(("=", "_", "File ")):
                    break
                rest.append(line.strip())
            sentence = " ".join([f"{match[1]}: {match[2]}", *rest])
            return f"pytest --django-gates wrote no report ({why}): {sentence[:1200]}"
    return f"pytest --django-gates wrote no report ({why}): {tail(output, 1200)}"


def _combine_parallel(python: str, measured: Path, env: Mapping[str, str]) -> None:
    """A shard measured by ``coverage run`` with ``parallel = true`` wrote ``.coverage.*``
    files: combine them into the one data file the shard keeps for the merge (which would
    otherwise find no data and report the coverage gate as an error)."""
    data = Path(env.get("COVERAGE_FILE") or measured / ".coverage")
    if data.is_file() or not any(measured.glob(".coverage.*")):
        return
    subprocess.run(
        [python, "-m", "coverage", "combine", "--keep", f"--data-file={data}", str(measured)],
        cwd=measured,
        env=dict(env),
        capture_output=True,
        check=False,
        timeout=600,
    )


def _coverage_after_run(
    cfg: GatesConfig, rootdir: Path, measured: Path, returncode: int, environ: Mapping[str, str]
) -> GateResult:
    """The coverage gate on the data ``coverage run`` wrote into ``measured``."""
    if returncode not in suite_process.COMPLETED:
        return GateResult(
            name="coverage",
            status="error",
            summary=f"the test suite did not run to its end (pytest exit {returncode}), so "
            "its coverage is incomplete",
        )
    values, sources = dict(cfg.values), dict(cfg.sources)
    values["coverage.data"] = [str(measured)]
    sources["coverage.data"] = "django-gates run (the data file of its coverage run)"
    ctx = GateContext(
        config=_with_run_since(replace(cfg, values=values, sources=sources), environ),
        rootdir=rootdir,
    )
    from pytest_django_gates.coverage.data import CoverageDataError

    try:
        result, _ = run_gate("coverage", ctx)
    except CoverageDataError as exc:
        # The run's own data, not the user's input: the gate could not look (fail closed),
        # which is not a usage error.
        return GateResult(
            name="coverage", status="error", summary=f"coverage run left no usable data: {exc}"
        )
    return replace(result, summary=f"{result.summary} (measured by coverage run)")


def _all_error(gates: Sequence[str], why: str) -> list[GateResult]:
    return [GateResult(name=g, status="error", summary=why) for g in (*gates, TESTS_GATE)]


def _load_outcomes(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def gate_from_suite(
    exit_status: int,
    outcomes: Mapping[str, Any] | None,
    gate_results: Sequence[GateResult],
    output: str,
) -> GateResult:
    """The ``tests`` gate from pytest's exit status and the recorded failures."""
    if exit_status in _PYTEST_EXIT:
        return GateResult(
            name=TESTS_GATE,
            status="error",
            summary=f"pytest stopped with {_PYTEST_EXIT[exit_status]} (exit {exit_status}): "
            f"{tail(output, 1200)}",
        )
    if outcomes is None:
        return GateResult(
            name=TESTS_GATE,
            status="error",
            summary=f"pytest (exit {exit_status}) recorded no test outcomes: {tail(output, 800)}",
        )
    collected = int(outcomes.get("collected") or 0)
    if exit_status == 5 or (collected == 0 and not outcomes.get("failures")):
        return GateResult.from_findings(
            TESTS_GATE,
            [
                Finding(
                    code="tests:no-tests",
                    severity="error",
                    message="pytest collected no test, so nothing was tested",
                    object="pytest",
                    hint="Check testpaths / python_files in the pytest configuration.",
                )
            ],
            summary="no test collected",
        )
    reported = {f.object for g in gate_results for f in g.findings}
    findings = []
    covered = 0
    for failure in outcomes.get("failures", []):
        nodeid = str(failure.get("nodeid", ""))
        if nodeid in reported or failure.get("by_gate"):
            covered += 1
            continue
        when = failure.get("when")
        code = {"call": "tests:failed", "collect": "tests:collection-error"}.get(
            str(when), "tests:error"
        )
        phase = "" if when in ("call", "collect") else f" (in {when})"
        line = failure.get("line")
        findings.append(
            Finding(
                code=code,
                severity="error",
                message=f"{failure.get('message') or 'failed'}{phase}",
                object=nodeid or "pytest",
                path=failure.get("path") or None,
                line=line if isinstance(line, int) else None,
                hint="Run it alone: python -m pytest " + (nodeid or "") if nodeid else "",
            )
        )
    gate_failed = any(g.status in ("failed", "error") for g in gate_results)
    if exit_status == 1 and not findings and not covered and not gate_failed:
        return GateResult(
            name=TESTS_GATE,
            status="error",
            summary=f"pytest exited 1 but no test and no gate failed: {tail(output, 800)}",
        )
    note = f"{collected} test{'s' if collected != 1 else ''}"
    if covered:
        # Not "PASSED ... 2 failures": say whose failures they are and that there is no other.
        note += (
            f"; {covered} failed only by a gate's finding (counted by that gate above)"
            f"{'' if findings else ', no other failure'}"
        )
    result = GateResult.from_findings(TESTS_GATE, findings)
    return replace(result, summary=f"{note}: {result.summary}" if findings else note)


def run_command(args: argparse.Namespace, cfg: GatesConfig, rootdir: Path) -> RunResult:
    """What ``django-gates run`` does between parsing and printing."""
    gates = select(cfg, args.only, args.skip)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    return run(cfg, rootdir, gates, progress=progress)
