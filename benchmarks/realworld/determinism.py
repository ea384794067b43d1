"""Is the query gate's report of a real suite the same whatever order its tests run in?

A report must be a function of the code and the tests, never of test order, xdist
scheduling or timing. For each project of ``projects.toml`` asked for, this runs its
suite in report mode (``--gates-n-plus-one=report``, only the query gate) three ways,
with the harness of ``run.py`` (the same sdist, virtualenv and arguments):

* ``serial``: one process, file order;
* ``xdist``: ``-n 2`` (which tests share a process depends on the scheduling);
* ``random``: one process, the tests shuffled by pytest-randomly with a fixed seed
  (``--randomly-dont-reset-seed``: only the order changes, not the data the tests'
  random generators make). pytest-randomly, at the version pinned below, is installed
  beside the project's virtualenv (``<workdir>/randomly``) and put on ``PYTHONPATH``
  for this run alone: installed into the virtualenv, it would shuffle every run of
  ``run.py`` and ``overhead.py`` too.

and compares the query gate's findings, whole (code, message, object, path, line,
hint), between the three. Usage::

    python benchmarks/realworld/determinism.py --project ephios --project pretalx \\
        [--seed N] [--report-dir DIR]

Prints, per project, the number of findings of each run and whether they are the
same, and each finding one run has and another has not. Exit status: 0 when every
project's three reports agree, 1 when one differs or a run gave no report, 2 on a
usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as harness  # the harness beside this file

RANDOMLY = "pytest-randomly==5.1.0"
DEFAULT_SEED = 20261207


def findings(report: Path) -> list[str] | None:
    """The query gate's findings of ``report``, each as canonical JSON, sorted; None
    when the run wrote no report or no query gate."""
    if not report.exists():
        return None
    data = json.loads(report.read_text(encoding="utf-8"))
    for gate in data.get("gates", []):
        if gate.get("name") == "queries":
            return sorted(json.dumps(f, sort_keys=True) for f in gate.get("findings", []))
    return None


def ensure_randomly(python: Path, workdir: Path) -> Path:
    """The directory pytest-randomly is installed in, beside the virtualenvs."""
    target = workdir / "randomly" / RANDOMLY.replace("==", "-")
    if not (target / "pytest_randomly").is_dir():
        harness.log(f"installing {RANDOMLY} into {target}")
        pip = [str(python), "-m", "pip", "install", "-q", "--no-deps", "--target"]
        subprocess.run([*pip, str(target), RANDOMLY], check=True)
    return target


def compare(project: harness.Project, common: harness.Common, args: argparse.Namespace) -> bool:
    sdist = harness.fetch_sdist(project, common, args.workdir)
    src = harness.unpack(sdist, project, args.workdir)
    python = harness.ensure_venv(project, common, src, args.workdir)
    randomly = ensure_randomly(python, args.workdir)
    # Loaded from PYTHONPATH by its entry point (its dist-info lies beside it).
    shuffle = [f"--randomly-seed={args.seed}", "--randomly-dont-reset-seed"]
    runs: dict[str, tuple[int, Sequence[str]]] = {
        "serial": (0, ()),
        "xdist": (2, ()),
        "random": (0, shuffle),
    }
    found: dict[str, list[str] | None] = {}
    for label, (workers, extra) in runs.items():
        result, _ = harness.run_pytest(
            project,
            python,
            src,
            args.report_dir,
            mode="report",
            workers=workers,
            label=label,
            extra=extra,
            path=[randomly] if extra else [],
        )
        found[label] = findings(Path(str(result.report)))
    counts = ", ".join(
        f"{label} {'no report' if f is None else len(f)}" for label, f in found.items()
    )
    reference = found["serial"]
    same = reference is not None and all(f == reference for f in found.values())
    print(f"{project.name}: {counts}: {'the same' if same else 'DIFFERENT'}")
    if reference is None:
        return False
    for label, other in found.items():
        if other is None or other == reference:
            continue
        for line in sorted(set(reference) - set(other)):
            print(f"  only serial (not {label}): {line[:400]}")
        for line in sorted(set(other) - set(reference)):
            print(f"  only {label}: {line[:400]}")
    return same


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--project", action="append", metavar="NAME", required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="pytest-randomly's seed")
    parser.add_argument("--workdir", type=Path, default=harness.DEFAULT_WORKDIR)
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=None,
        help="where the reports and logs go (default <workdir>/determinism)",
    )
    parser.add_argument("--config", type=Path, default=harness.CONFIG)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        common, projects = harness.load_config(args.config)
    except harness.HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unknown = [name for name in args.project if name not in projects]
    if unknown:
        print(f"error: unknown project(s) {', '.join(unknown)}; known: {', '.join(projects)}")
        return 2
    args.workdir = args.workdir.resolve()
    args.report_dir = (args.report_dir or args.workdir / "determinism").resolve()
    args.report_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    for name in args.project:
        try:
            results[name] = compare(projects[name], common, args)
        except harness.HarnessError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            results[name] = False
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
