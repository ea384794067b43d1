"""A report, output or baseline path that cannot be written: a usage error naming it,
nothing created or half-written, and the results still shown."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli.cli_support import django_gates


def _report_file(tmp_path: Path) -> Path:
    report = tmp_path / "in.json"
    report.write_text(
        json.dumps(
            {
                "format": 1,
                "tool": {},
                "gates": [{"name": "ruff", "status": "passed", "summary": "ok", "findings": []}],
            }
        ),
        encoding="utf-8",
    )
    return report


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return django_gates(*args)


def test_a_missing_directory_is_a_usage_error_and_the_results_are_still_printed(
    tmp_path: Path,
) -> None:
    source = _report_file(tmp_path)
    missing = tmp_path / "no" / "such"
    proc = _cli(
        "report",
        str(source),
        "--output",
        str(missing / "o.txt"),
        "--report",
        str(missing / "r.json"),
    )
    assert proc.returncode == 2
    assert "ruff: PASSED" in proc.stdout  # --output failed: the text goes to stdout
    assert (
        f"cannot write {missing / 'o.txt'}: the directory {missing} does not exist" in proc.stderr
    )
    assert f"cannot write {missing / 'r.json'}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "no").exists()  # nothing created


def test_a_path_under_a_file_is_a_usage_error(tmp_path: Path) -> None:
    source = _report_file(tmp_path)
    proc = _cli("report", str(source), "--report", str(source / "r.json"))
    assert proc.returncode == 2
    assert f"{source} is not a directory" in proc.stderr
    assert json.loads(source.read_text(encoding="utf-8"))["format"] == 1  # intact
