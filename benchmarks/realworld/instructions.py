"""Instructions executed by a real project's suite, plain and under the query gate.

CPU seconds on a shared 2-core machine spread by 10 to 40 percent from run to run
(``overhead.py`` reports that spread), more than the gate's whole cost, so a change of a
few percent cannot be seen in them. The number of machine instructions a run executes
does not depend on the machine's load: this script runs a project's suite (or some of
its test files) under valgrind's callgrind, which counts them, with
``PYTHONHASHSEED=0`` so that two runs of one variant execute the same instructions.
Each variant runs once; two at a time (the counts do not depend on it).

Variants: ``plain``; ``gates`` (``--django-gates --gates-n-plus-one=report``, the
query gate, as ``overhead.py`` runs it); ``--baseline DIR``: the gate again from
another checkout of this repository (``git worktree add DIR <commit>``), put first on
``PYTHONPATH``; ``--zeal``: django-zeal around every test, as ``overhead.py`` runs it.
Python's bytecode cache is on for all (see ``overhead.py``), warmed by one plain run
and one run of each variant outside valgrind.

An instruction is not a second (a cache miss costs more than an add), but a change
that removes work shows in this count on the first run, where the CPU seconds of
``overhead.py`` need many rounds on a quiet machine. valgrind runs a suite about 40
times slower: use a few test files of a large suite (``--tests``).

Usage::

    python benchmarks/realworld/instructions.py --project djangorestframework \\
        [--tests tests/test_generics.py ...] [--baseline /tmp/old] [--zeal] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import overhead  # the CPU-time benchmark beside this file
import run as harness  # the harness beside this file

_COLLECTED = re.compile(r"Collected : (\d+)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--project", required=True, metavar="NAME")
    parser.add_argument("--tests", nargs="+", default=None, metavar="PATH")
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR")
    parser.add_argument("--zeal", action="store_true")
    parser.add_argument("--workdir", type=Path, default=harness.DEFAULT_WORKDIR)
    parser.add_argument("--config", type=Path, default=harness.CONFIG)
    args = parser.parse_args(argv)
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        parser.error("valgrind is not on PATH (Debian: apt-get install valgrind)")
    if args.baseline is not None and not (args.baseline / "pytest_django_gates").is_dir():
        parser.error(f"--baseline {args.baseline}: no pytest_django_gates package there")
    _common, projects = harness.load_config(args.config)
    if args.project not in projects:
        parser.error(f"--project {args.project}: not in {args.config}")
    project = projects[args.project]
    suite = overhead.serial_suite(project, args.workdir, args.tests, plugins_off=["randomly"])
    python, env, base = suite.python, suite.env, suite.command
    env["PYTHONHASHSEED"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "bytecode")
        gates = ["--django-gates", "--gates-n-plus-one=report"]
        variants: dict[str, tuple[list[str], dict[str, str]]] = {
            "plain": (base, env),
            "gates": ([*base, *gates, f"--gates-report={tmp}/gates.json"], env),
        }
        if args.baseline is not None:
            path = os.pathsep.join(p for p in (str(args.baseline), env.get("PYTHONPATH", "")) if p)
            variants["baseline"] = (
                [*base, *gates, f"--gates-report={tmp}/baseline.json"],
                {**env, "PYTHONPATH": path},
            )
        if args.zeal:
            overhead.ensure_zeal(python)
            (Path(tmp) / "djg_bench_zeal.py").write_text(overhead.ZEAL_PLUGIN, encoding="utf-8")
            path = os.pathsep.join(p for p in (tmp, env.get("PYTHONPATH", "")) if p)
            variants["zeal"] = ([*base, "-p", "djg_bench_zeal"], {**env, "PYTHONPATH": path})
        cwd = suite.cwd
        for name, (command, variant_env) in variants.items():  # warm the bytecode cache
            done = subprocess.run(command, cwd=cwd, env=variant_env, capture_output=True)
            if done.returncode not in (0, 1):
                raise SystemExit(f"{project.name}: {name} run exited {done.returncode}")

        def count(name: str) -> int:
            command, variant_env = variants[name]
            out = Path(tmp) / f"{name}.callgrind"
            done = subprocess.run(
                [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", *command],
                cwd=cwd,
                env=variant_env,
                capture_output=True,
                text=True,
            )
            found = _COLLECTED.search(done.stderr)
            if done.returncode not in (0, 1) or found is None:
                raise SystemExit(f"{project.name}: {name} under valgrind exited {done.returncode}")
            return int(found.group(1))

        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = dict(zip(variants, pool.map(count, variants), strict=True))
    plain = counts["plain"]
    tests = " ".join(args.tests) if args.tests else "whole suite"
    print(f"{project.name} ({tests})")
    print("| variant | instructions | / plain |")
    print("|---|---:|---:|")
    for name, value in counts.items():
        print(f"| {name} | {value:,} | {value / plain:.4f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
