"""What the end-to-end tests of ``django-gates fix`` share."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import run_pytest
from tests.migrations.migrations_support import cli


def fix_after_report(root: Path, *tests: str) -> subprocess.CompletedProcess[str]:
    """Run ``tests`` of the project at ``root`` under the query gate (they must fail on
    its findings), then ``django-gates fix --only queries`` on that report."""
    first = run_pytest(root, "--django-gates", "--gates-report", "report.json", *tests)
    assert first.returncode == 1, first.stdout
    return cli(
        ["--project", str(root), "fix", "--only", "queries", "--from-report", "report.json"],
        cwd=root,
    )
