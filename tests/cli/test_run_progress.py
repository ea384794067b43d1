"""``django-gates run`` says how far the suite is while it waits (issue: minutes of silence).

The suite's process keeps a small progress file (``run_outcomes``); the runner reads
it every few seconds on a terminal and every minute in a CI log, and prints one line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pytest_django_gates import suite_process
from pytest_django_gates.run_outcomes import progress_path
from pytest_django_gates.runner import OUTCOMES_ENV, show_progress


def test_the_suite_process_reports_progress_while_it_runs_and_loses_no_output(
    tmp_path: Path,
) -> None:
    calls: list[float] = []
    script = "import sys, time\nfor i in range(6):\n    print(i, flush=True); time.sleep(0.25)\n"
    proc = suite_process.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        timeout=30,
        progress=calls.append,
        every=0.4,
    )
    assert proc.returncode == 0
    assert proc.stdout.split() == ["0", "1", "2", "3", "4", "5"]
    assert len(calls) >= 2
    assert calls == sorted(calls)


def test_the_progress_file_counts_done_collected_and_failed_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = pytester.path / "outcomes.json"
    monkeypatch.setenv(OUTCOMES_ENV, str(outcomes))
    pytester.makepyfile(
        test_a="def test_1():\n    pass\n\ndef test_2():\n    assert False\n\ndef test_3():\n"
        "    pass\n"
    )
    result = pytester.runpytest_subprocess("-p", "pytest_django_gates.run_outcomes")
    result.assert_outcomes(passed=2, failed=1)
    assert json.loads(progress_path(outcomes).read_text()) == {
        "done": 3,
        "total": 3,
        "failed": 1,
    }
    lines: list[str] = []
    show_progress(outcomes, 125.0, lines.append)
    assert lines[0] == "      tests: 3/3 done, 1 failed so far (2m 05s)"
    progress_path(outcomes).unlink()
    show_progress(outcomes, 3.0, lines.append)
    assert lines[1] == "      tests: collecting ... (0m 03s)"
