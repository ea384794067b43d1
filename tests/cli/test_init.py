"""``django-gates init``: what it writes, and that it never loses what was there."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pytest_django_gates.init import merge
from tests.cli.cli_support import django_gates

PYPROJECT = """\
[project]
name = "x"  # a comment kept as it is

[tool.django-gates]
gates = ["queries"]

[tool.django-gates.queries]
threshold = 3

[[tool.django-gates.migrations.ignore]]
code = "DJG220"
reason = "r"

[tool.ruff]
line-length = 100
"""

TABLE = '[tool.django-gates]\ngates = ["migrations"]\n'


def test_merge_replaces_every_django_gates_section_and_keeps_the_rest() -> None:
    merged, replaced = merge(PYPROJECT, TABLE)
    assert replaced
    assert merged == (
        '[project]\nname = "x"  # a comment kept as it is\n\n'
        + TABLE
        + "\n[tool.ruff]\nline-length = 100\n"
    )
    # appended when there is none, and idempotent
    appended, replaced = merge('[project]\nname = "x"\n', TABLE)
    assert not replaced
    assert appended == '[project]\nname = "x"\n\n' + TABLE
    assert merge(appended, TABLE) == (appended, True)


def _init(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return django_gates("--project", str(root), "init", *args)


def test_init_asks_before_replacing_shows_a_diff_and_creates_a_missing_pyproject(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    proc = _init(tmp_path)
    assert proc.returncode == 2
    assert "--dry-run" in proc.stderr
    assert "--force" in proc.stderr
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT  # untouched
    dry = _init(tmp_path, "--dry-run")
    assert dry.returncode == 0
    assert '-gates = ["queries"]' in dry.stdout
    assert "dry run: nothing written" in dry.stdout
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT
    forced = _init(tmp_path, "--force")
    assert forced.returncode == 0, forced.stderr
    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    assert "[tool.ruff]\nline-length = 100\n" in text
    assert "threshold = 3" not in text
    # a project without pyproject.toml gets one holding only the table
    bare = tmp_path / "bare"
    bare.mkdir()
    assert _init(bare).returncode == 0
    assert (bare / "pyproject.toml").read_text(encoding="utf-8").startswith("[tool.django-gates]")
