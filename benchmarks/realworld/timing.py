"""Where the query gate's time goes on a real project's suite: its steps, timed in process.

A profiler charges every Python call its own overhead, which inflates the many small
calls the gate makes per statement; a sampling profiler that stops the process (py-spy)
skews the picture the other way. This script wraps only the gate's own steps
(``djg_timing_plugin.py``, beside this file) and adds up their wall time, serially,
with Python's bytecode cache warm. It also times the plain run and the gated run
(without the wrappers) of the same tests, so the table shows what part of the gate's
whole cost the steps explain. Median of ``--repeat`` rounds; the machine's noise
applies (see ``overhead.py``): compare steps within one table, not across machines.

Usage::

    python benchmarks/realworld/timing.py --project djangorestframework [--tests PATH ...]
        [--repeat 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import overhead  # the CPU-time benchmark beside this file (its serial_suite)
import run as harness  # the harness beside this file

HERE = Path(__file__).resolve().parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--project", required=True, metavar="NAME")
    parser.add_argument("--tests", nargs="+", default=None, metavar="PATH")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=harness.DEFAULT_WORKDIR)
    parser.add_argument("--config", type=Path, default=harness.CONFIG)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat {args.repeat}: give 1 or more")
    _common, projects = harness.load_config(args.config)
    if args.project not in projects:
        parser.error(f"--project {args.project}: not in {args.config}")
    project = projects[args.project]
    suite = overhead.serial_suite(project, args.workdir, args.tests, plugins_off=["randomly"])
    env, base, cwd = suite.env, suite.command, suite.cwd
    rounds: list[dict[str, dict[str, int]]] = []
    plain: list[float] = []
    gated: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "bytecode")
        gates = [
            *base,
            "--django-gates",
            "--gates-n-plus-one=report",
            f"--gates-report={tmp}/g.json",
        ]
        path = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
        out = Path(tmp) / "timing.json"
        timed_env = {**env, "PYTHONPATH": path, "DJG_TIMING_OUT": str(out)}

        def run(command: list[str], run_env: dict[str, str]) -> float:
            start = time.perf_counter()
            done = subprocess.run(command, cwd=cwd, env=run_env, capture_output=True)
            if done.returncode not in (0, 1):
                raise SystemExit(f"{project.name}: exited {done.returncode}: {' '.join(command)}")
            return time.perf_counter() - start

        run(base, env)  # warm the bytecode cache
        run(gates, env)
        for _ in range(args.repeat):
            plain.append(run(base, env))
            gated.append(run(gates, env))
            run([*gates, "-p", "djg_timing_plugin"], timed_env)
            rounds.append(json.loads(out.read_text(encoding="utf-8")))
    extra = statistics.median(g - p for g, p in zip(gated, plain, strict=True))
    print(f"{project.name} ({' '.join(args.tests) if args.tests else 'whole suite'})")
    print(f"plain {statistics.median(plain):.2f} s, gated {statistics.median(gated):.2f} s,")
    print(f"the gate's whole cost (median of the rounds' differences) {extra * 1000:.0f} ms")
    print("| step | own ms | calls | us per call |")
    print("|---|---:|---:|---:|")
    medians = {
        label: statistics.median(r[label]["ns"] for r in rounds) / 1e6 for label in rounds[0]
    }
    steps = sum(medians.values())
    for label, ms in sorted(medians.items(), key=lambda item: -item[1]):
        calls = rounds[0][label]["calls"]
        per = ms * 1000 / calls if calls else 0.0
        print(f"| {label} | {ms:.1f} | {calls:,} | {per:.1f} |")
    print(f"| all steps | {steps:.1f} | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
