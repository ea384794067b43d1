"""``kill -9`` at random points of a real ``django-gates run`` (issue 24 §4).

50 kills in all (two halves of 25, one per seed, so that ``-n 2`` runs them side by
side), each after a random delay within the length of a whole run, of the whole process
tree (a cancelled CI job) or of the ``django-gates`` process alone (its test suite runs
on as an orphan, beside the next runs). After each kill every file the run writes is
absent, as it was, or a whole new file; every few kills, and at the end, a normal run
passes with no repair and leaves no temporary file behind (those of the killed runs
included).
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

import pytest

from tests.robustness import runs

# tests/run.sh runs this harness in one series (KILL_SERIES) and sets "skip" in the others.
SERIES_SWITCH = "DJANGO_GATES_KILL_TESTS"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
    pytest.mark.skipif(
        os.environ.get(SERIES_SWITCH) == "skip",
        reason="the kill -9 harness runs in one series of tests/run.sh (KILL_SERIES)",
    ),
]

KILLS = 25  # per seed: 50 in all
CHECK_EVERY = 13  # kills between two normal runs (one half way, one at the end)


def _normal_run(root: Path) -> float:
    started = time.monotonic()
    code, err = runs.finish(runs.start(root))
    assert code == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert runs.broken_targets(root) == {}
    missing = [name for name in runs.TARGETS if not (root / name).is_file()]
    assert not missing, missing
    assert runs.temp_files(root) == []  # the strays of killed runs are gone too
    return time.monotonic() - started


@pytest.mark.parametrize("seed", [0, 1])
def test_kill_9_at_random_points_leaves_no_half_written_file(tmp_path: Path, seed: int) -> None:
    root = runs.project(tmp_path)
    rng = random.Random(seed)
    length = _normal_run(root)
    strays = 0
    orphans: list[int] = []
    kill = 0
    while kill < KILLS:
        before = [name for name in runs.TARGETS if (root / name).is_file()]
        proc = runs.start(root)
        time.sleep(rng.uniform(0, length))
        killed = proc.poll() is None
        if killed:
            kill += 1
            # Orphans write on while the next runs start: concurrent writers.
            orphans += runs.kill(proc, tree=kill % 2 == 0)
        else:  # the run ended before the kill: it must have ended normally
            code, err = runs.finish(proc)
            assert code == 0, err[-3000:]
        broken = runs.broken_targets(root)
        assert broken == {}, (kill, broken)
        gone = [name for name in before if not (root / name).is_file()]
        assert gone == [], (kill, gone)  # a file is replaced, never removed
        strays += len(runs.temp_files(root))
        if killed and (kill % CHECK_EVERY == 0 or kill == KILLS):
            runs.wait_gone(orphans)
            _normal_run(root)
    print(f"seed {seed}: {KILLS} kills, {strays} stray temporary file(s) seen after them")
