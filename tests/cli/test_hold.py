"""Hold the line for ruff and mypy: old findings held back, new ones fail (real tools).

Each test builds a small project with old lint and type errors and runs
``django-gates run --only ruff,mypy`` as a real process (real ruff, real mypy):
with a committed baseline, and with the lines changed since a git base.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from pytest_django_gates import config, options
from pytest_django_gates.gates import _hold
from pytest_django_gates.report import Finding
from tests.cli.cli_support import commit_all, django_gates, git
from tests.helpers import runs_once

pytestmark = runs_once()

PYPROJECT = """
[tool.ruff.lint]
select = ["F"]

[tool.mypy]
strict = true
files = ["pkg"]

[tool.django-gates]
gates = ["ruff", "mypy"]
"""

OLD_SHOP = """
import os
import sys


def total(prices: list[int]) -> int:
    return sum(prices)


def label(n: int) -> str:
    return n
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def project(root: Path) -> Path:
    write(root, {"pyproject.toml": PYPROJECT, "pkg/__init__.py": "", "pkg/shop.py": OLD_SHOP})
    return root


def run(root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    report = root / "report.json"
    proc = django_gates("run", "--project", str(root), "--report", str(report), *args)
    data = json.loads(report.read_text()) if report.is_file() else {}
    return proc.returncode, data, proc.stdout + proc.stderr


def gate(data: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [g for g in data["gates"] if g["name"] == name]
    return found


def where(data: dict[str, Any], name: str) -> list[tuple[str, str, int]]:
    return [(f["code"], f["path"], f["line"]) for f in gate(data, name)["findings"]]


def add_new_errors(root: Path) -> None:
    """Two lines at the top (every old finding moves down), one new error of each kind."""
    shop = root / "pkg/shop.py"
    shop.write_text(
        '"""The shop."""\n\n'
        + shop.read_text()
        + "\n\ndef count(items: list[str]) -> int:\n    import json\n    return items\n"
    )


def test_baseline_holds_old_findings_and_new_ones_fail(tmp_path: Path) -> None:
    root = project(tmp_path)
    code, data, out = run(root)
    assert code == 1, out
    assert len(gate(data, "ruff")["findings"]) == 2
    assert len(gate(data, "mypy")["findings"]) == 1

    code, data, out = run(root, "--update-baselines")
    assert code == 0, out
    assert (
        "baseline .django-gates/ruff-baseline.json written with 2 findings"
        in (gate(data, "ruff")["summary"])
    )
    assert (
        "baseline .django-gates/mypy-baseline.json written with 1 finding "
        in (gate(data, "mypy")["summary"])
    )
    saved = json.loads((root / ".django-gates/ruff-baseline.json").read_text())
    assert (saved["format"], saved["gate"]) == (1, "ruff")
    assert [(e["code"], e["path"], e["line"]) for e in saved["findings"]] == [
        ("ruff:F401", "pkg/shop.py", 1),
        ("ruff:F401", "pkg/shop.py", 2),
    ]

    code, data, out = run(root)
    assert code == 0, out
    assert gate(data, "ruff")["findings"] == []
    assert (
        "2 old findings held back by the baseline .django-gates/ruff-baseline.json"
        in (gate(data, "ruff")["summary"])
    )
    assert "1 old finding held back" in gate(data, "mypy")["summary"]

    add_new_errors(root)
    code, data, out = run(root)
    assert code == 1, out
    # Only the new ones, although every old finding moved two lines down.
    assert where(data, "ruff") == [("ruff:F401", "pkg/shop.py", 16)]
    assert where(data, "mypy") == [("mypy:return-value", "pkg/shop.py", 17)]
    assert "2 old findings held back" in gate(data, "ruff")["summary"]

    code, data, out = run(root, "--all")
    assert code == 1, out
    assert len(gate(data, "ruff")["findings"]) == 3
    assert len(gate(data, "mypy")["findings"]) == 2
    assert "held back" not in gate(data, "ruff")["summary"]


def edit_after_baseline(root: Path, old: str, new: str) -> tuple[int, dict[str, Any], str]:
    """Write the ruff baseline, replace ``old`` by ``new`` in the module, run ruff again."""
    assert run(root, "--only", "ruff", "--update-baselines")[0] == 0
    shop = root / "pkg/shop.py"
    shop.write_text(shop.read_text().replace(old, new))
    return run(root, "--only", "ruff")


def test_fixed_baseline_entries_are_counted_with_the_command_that_shrinks_it(
    tmp_path: Path,
) -> None:
    code, data, out = edit_after_baseline(project(tmp_path), "import sys\n", "")
    assert code == 0, out
    summary = gate(data, "ruff")["summary"]
    assert "1 old finding held back" in summary
    assert (
        "1 baseline entry is fixed: `django-gates run --only ruff --update-baselines` shrinks it"
        in summary
    )


def test_an_edited_line_with_an_old_finding_counts_as_new(tmp_path: Path) -> None:
    code, data, out = edit_after_baseline(
        project(tmp_path), "import sys\n", "import sys  # the exit code\n"
    )
    assert code == 1, out
    assert where(data, "ruff") == [("ruff:F401", "pkg/shop.py", 2)]


def undefined_y(line: int) -> Finding:
    return Finding(
        code="ruff:F821",
        severity="error",
        message="Undefined name `y`",
        object=f"app.py:{line}:7",
        path="app.py",
        line=line,
    )


def test_a_repeated_finding_beyond_the_baseline_count_is_new(tmp_path: Path) -> None:
    """Identical fingerprints are counted: the third copy of a line recorded twice fails."""
    root = tmp_path
    (root / "app.py").write_text("x = 1\nprint(y)\nz = 2\nprint(y)\n")
    cfg = config.load(options.OPTIONS, cli={"ruff.hold": "baseline"}, environ={}, pyproject=None)
    old = [undefined_y(2), undefined_y(4)]
    path = root / ".django-gates" / "ruff-baseline.json"
    assert _hold.write("ruff", path, old, root) == 1
    assert json.loads(path.read_text())["findings"][0]["count"] == 2
    (root / "app.py").write_text("x = 1\nprint(y)\nz = 2\nprint(y)\nprint(y)\n")
    now = [*old, undefined_y(5)]
    held = _hold.apply("ruff", now, cfg, root, {})
    assert [f.line for f in held.findings] == [5]
    assert held.held == 2


def test_changed_lines_since_a_git_base_hold_old_findings(tmp_path: Path) -> None:
    root = project(tmp_path)
    commit_all(root, "old code with old errors")
    git(root, "checkout", "-q", "-b", "feature")
    add_new_errors(root)
    commit_all(root, "the change")
    code, data, out = run(root, "--since", "main")
    assert code == 1, out
    assert where(data, "ruff") == [("ruff:F401", "pkg/shop.py", 16)]
    assert where(data, "mypy") == [("mypy:return-value", "pkg/shop.py", 17)]
    summary = gate(data, "ruff")["summary"]
    assert "2 old findings held back on lines this change did not touch (base main" in summary

    # In a pull request the base comes from GITHUB_BASE_REF (origin/<base>) as for
    # patch coverage; without any base every finding counts.
    code, data, out = run(root)
    assert code == 1, out
    assert len(gate(data, "ruff")["findings"]) == 3


def test_hold_changed_without_a_base_and_baseline_without_a_file_are_usage_errors(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    with (root / "pyproject.toml").open("a") as f:
        f.write('\n[tool.django-gates.ruff]\nhold = "changed"\n')
        f.write('\n[tool.django-gates.mypy]\nhold = "baseline"\n')
    code, _, out = run(root, "--only", "ruff")
    assert code == 2, out
    assert 'hold = "changed" needs a git base: pass --since REF' in out
    code, _, out = run(root, "--only", "mypy")
    assert code == 2, out
    assert (
        'hold = "baseline", but the baseline .django-gates/mypy-baseline.json does not exist; '
        "write it with `django-gates run --only mypy --update-baselines`"
    ) in out
    assert "Traceback" not in out


def test_corrupt_baseline_names_the_file_and_the_fix_that_works(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / ".django-gates").mkdir()
    broken = root / ".django-gates/ruff-baseline.json"
    broken.write_text('{"format": 1, "gate": "ruff", "findings": [\n')
    code, _, out = run(root, "--only", "ruff")
    assert code == 2, out
    assert "ruff baseline " in out
    assert "ruff-baseline.json:2:1: not valid JSON" in out
    assert "regenerate it with `django-gates run --only ruff --update-baselines`" in out
    assert "Traceback" not in out
    # The suggested command works on the corrupt file.
    assert run(root, "--only", "ruff", "--update-baselines")[0] == 0
    assert run(root, "--only", "ruff")[0] == 0


def test_all_and_update_baselines_together_are_a_usage_error(tmp_path: Path) -> None:
    root = project(tmp_path)
    code, _, out = run(root, "--only", "ruff", "--all", "--update-baselines")
    assert code == 2, out
    assert "--all and --update-baselines do not go together" in out
    assert not (root / ".django-gates").exists()
