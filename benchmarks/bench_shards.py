"""A suite split in shards gives the unsharded verdict, and what splitting saves.

For one project (a directory where ``python -m pytest`` runs its suite, e.g. an sdist
unpacked by ``benchmarks/realworld/run.py`` with that harness's venv, or demo_project):

1. runs the suite once under ``pytest --django-gates`` (the ``queries`` gate; N+1s in
   ``report`` mode so that no test fails because of them) and keeps its report;
2. for each shard count N (default 3): runs the N shards one after the other
   (``--gates-shard K/N``), merges their reports with ``django-gates report --shards N``
   and compares the merged queries gate with the unsharded one: status, summary (test and
   query counts) and every finding must be equal;
3. with ``--timing``: times plain pytest and each shard (``--repeat`` times, median), and
   prints the wall time a CI run would see with N parallel runners (the slowest shard)
   against plain pytest on one runner.

Usage::

    python benchmarks/bench_shards.py --python /tmp/rw/venvs/djangorestframework/bin/python \\
        --project /tmp/rw/src/djangorestframework-3.16.1 --shards 3 -- tests
    python benchmarks/bench_shards.py --python ... --project ... --shards 1 2 4 --timing -- tests

Arguments after ``--`` go to every pytest run (test paths, ``-p no:...``). Exit status 1
when a merged report differs from the unsharded one. Time it on an idle machine.
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
from pathlib import Path
from typing import Any


def _pytest(python: str, project: Path, args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        tail = (done.stdout + done.stderr)[-3000:]
        raise SystemExit(f"pytest {' '.join(args)} exited {done.returncode}:\n{tail}")
    return seconds


def _queries(path: Path) -> dict[str, Any]:
    report = json.loads(path.read_text(encoding="utf-8"))
    (gate,) = [g for g in report["gates"] if g["name"] == "queries"]
    return dict(gate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="the Python of the project's venv")
    parser.add_argument("--project", type=Path, required=True, help="where pytest runs")
    parser.add_argument("--shards", type=int, nargs="+", default=[3])
    parser.add_argument("--timing", action="store_true", help="also time plain and shards")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_GATES_", "PYTEST_")) and k != "PYTHONPATH"
    }
    env["DJANGO_GATES_GATES"] = "queries"
    env["DJANGO_GATES_QUERIES_N_PLUS_ONE"] = "report"
    extra = list(args.pytest_args)
    differ = 0
    with tempfile.TemporaryDirectory(prefix="djg-bench-shards-") as tmp:
        out = Path(tmp)
        gated = ["--django-gates", "-n", "0", *extra]
        _pytest(args.python, args.project, [f"--gates-report={out / 'full.json'}", *gated], env)
        full = _queries(out / "full.json")
        print(f"unsharded: {full['status']}, {full['summary']}")
        for total in args.shards:
            files = [out / f"shard-{total}-{k}.json" for k in range(1, total + 1)]
            for k, path in enumerate(files, start=1):
                shard = [f"--gates-shard={k}/{total}", f"--gates-report={path}"]
                _pytest(args.python, args.project, [*shard, *gated], env)
            merged_path = out / f"merged-{total}.json"
            command = [args.python, "-m", "pytest_django_gates", "report", "--shards", str(total)]
            command += [*map(str, files), "--format", "json", "--output", str(merged_path)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode not in (0, 1):
                raise SystemExit(f"django-gates report exited {done.returncode}: {done.stderr}")
            merged = _queries(merged_path)
            same = merged == full
            differ += not same
            findings = len(full["findings"])
            print(
                f"{total} shard(s): merged {'==' if same else '!='} unsharded "
                f"({merged['status']}, {merged['summary']}; {findings} findings)"
            )
        if not args.timing:
            return 1 if differ else 0
        plain = [_pytest(args.python, args.project, extra, env) for _ in range(args.repeat)]
        base = statistics.median(plain)
        print(f"\n| run | wall time (median of {args.repeat}) | vs plain pytest |")
        print("|---|---:|---:|")
        print(f"| plain pytest, 1 runner | {base:.1f} s | 1.00x |")
        for total in args.shards:
            slowest = []
            for _ in range(args.repeat):
                times = [
                    _pytest(args.python, args.project, [f"--gates-shard={k}/{total}", *gated], env)
                    for k in range(1, total + 1)
                ]
                slowest.append(max(times))
            wall = statistics.median(slowest)
            print(
                f"| --django-gates, {total} runner(s) (slowest shard) | {wall:.1f} s "
                f"| {wall / base:.2f}x |"
            )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
