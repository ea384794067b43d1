"""The per-app ratchet: a committed baseline that only goes up unless lowered on purpose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.coverage.conftest import Project, use_data

BASELINE = "coverage-baseline.json"


@pytest.fixture
def ratchet(django_project: Project) -> Project:
    django_project.configure(f'[tool.django-gates.coverage]\nbaseline = "{BASELINE}"\n')
    return django_project


def read(project: Project) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project.root / BASELINE).read_text())
    return data


def test_missing_baseline_fails_and_says_how_to_create_it(ratchet: Project) -> None:
    run = ratchet.gates()
    assert run.rc == 1
    finding = run.finding("DJG410")
    assert finding["object"] == BASELINE
    assert "--update-baseline" in finding["hint"]


def test_update_creates_the_baseline_with_exact_per_app_figures(ratchet: Project) -> None:
    run = ratchet.gates("--update-baseline")
    assert run.rc == 0, run.err
    assert "baseline created" in run.gate["summary"]
    data = read(ratchet)
    assert data["format"] == 1
    assert data["apps"]["orders"]["line"] == {"covered": 8, "total": 11, "percent": "72.72"}
    assert data["apps"]["orders"]["branch"]["total"] == 4
    assert set(data["apps"]) == {"orders", "billing", "refunds"}  # project apps only
    assert data["lowered"] == []
    assert [p.name for p in ratchet.root.iterdir() if p.name.startswith(f".{BASELINE}")] == []
    again = ratchet.gates()
    assert again.rc == 0
    assert "baseline: 3 apps" in again.gate["summary"]


def test_drop_below_the_baseline_fails_and_update_never_lowers(ratchet: Project) -> None:
    assert ratchet.gates("--update-baseline").rc == 0
    before = (ratchet.root / BASELINE).read_text()
    use_data(ratchet, "less")
    run = ratchet.gates()
    assert run.rc == 1
    finding = run.finding("DJG408")
    assert finding["object"] == "orders"
    assert "dropped to 63.63% (7/11) below its baseline 72.72% (8/11)" in finding["message"]
    assert "1 more line needed in orders" in finding["message"]
    assert finding["path"] == "src/orders/logic.py"
    updated = ratchet.gates("--update-baseline")
    assert updated.rc == 1  # still below: --update-baseline does not lower it
    assert "baseline already up to date" in updated.gate["summary"]
    assert (ratchet.root / BASELINE).read_text() == before


def test_update_raises_the_baseline(ratchet: Project) -> None:
    assert ratchet.gates("--update-baseline").rc == 0
    use_data(ratchet, "more")
    above = ratchet.gates()
    assert above.rc == 0
    assert "above the baseline (raise it: --update-baseline)" in above.gate["summary"]
    run = ratchet.gates("--update-baseline")
    assert run.rc == 0
    assert "orders line 72.72% -> 90.90%" in run.gate["summary"]
    assert read(ratchet)["apps"]["orders"]["line"]["covered"] == 10


def test_lowering_needs_a_reason_and_records_it(ratchet: Project) -> None:
    assert ratchet.gates("--update-baseline").rc == 0
    use_data(ratchet, "less")
    no_reason = ratchet.gates("--lower-baseline", "orders")
    assert no_reason.rc == 2
    assert "--lower-baseline needs --reason" in no_reason.err
    blank = ratchet.gates("--lower-baseline", "orders", "--reason", "  ")
    assert blank.rc == 2
    run = ratchet.gates("--lower-baseline", "orders", "--reason", "cancel() moved to billing")
    assert run.rc == 0, run.out
    assert "lowered orders line 72.72% -> 63.63%" in run.gate["summary"]
    data = read(ratchet)
    assert data["apps"]["orders"]["line"] == {"covered": 7, "total": 11, "percent": "63.63"}
    (entry,) = [e for e in data["lowered"] if e["metric"] == "line"]
    assert entry["app"] == "orders"
    assert entry["reason"] == "cancel() moved to billing"
    assert entry["from"]["covered"] == 8
    assert entry["to"]["covered"] == 7
    assert entry["by"]
    assert entry["at"].endswith("+00:00")
    assert ratchet.gates().rc == 0


def test_lowering_what_did_not_drop_is_refused(ratchet: Project) -> None:
    assert ratchet.gates("--update-baseline").rc == 0
    run = ratchet.gates("--lower-baseline", "billing", "--reason", "why not")
    assert run.rc == 2
    assert "is not below its baseline; nothing to lower" in run.err
    unknown = ratchet.gates("--lower-baseline", "shipping", "--reason", "x")
    assert unknown.rc == 2
    assert "the baseline has no app 'shipping'" in unknown.err
    stray = ratchet.gates("--reason", "x")
    assert stray.rc == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"format": 1, "apps": {', f"{BASELINE}:1:"),
        ('{"format": 2, "apps": {}}', "format 2 is not 1"),
        ('{"format": 1, "apps": {"orders": {"line": {"covered": 9, "total": 3}}}}', "more than"),
        ('{"format": 1, "apps": {"orders": {"lines": {"covered": 1, "total": 3}}}}', "unknown"),
        ('{"format": 1, "apps": []}', "'apps' must be an object"),
    ],
)
def test_corrupt_baseline_is_a_usage_error_naming_the_file(
    ratchet: Project, content: str, expected: str
) -> None:
    (ratchet.root / BASELINE).write_text(content)
    run = ratchet.gates()
    assert run.rc == 2
    assert BASELINE in run.err
    assert expected in run.err
    assert (ratchet.root / BASELINE).read_text() == content  # never rewritten
    assert ratchet.gates("--update-baseline").rc == 2


def test_an_app_that_is_gone_is_a_warning_and_dropped_on_update(ratchet: Project) -> None:
    assert ratchet.gates("--update-baseline").rc == 0
    data = read(ratchet)
    data["apps"]["legacy"] = {"line": {"covered": 1, "total": 1, "percent": "100.00"}}
    (ratchet.root / BASELINE).write_text(json.dumps(data))
    run = ratchet.gates()
    assert run.rc == 0
    assert run.finding("DJG411")["severity"] == "warning"
    assert ratchet.gates("--update-baseline").rc == 0
    assert "legacy" not in read(ratchet)["apps"]


def test_baseline_flags_need_a_baseline_file(django_project: Project) -> None:
    run = django_project.gates("--update-baseline")
    assert run.rc == 2
    assert "need a baseline file" in run.err
    target = django_project.root / "elsewhere" / "baseline.json"
    # a missing directory is not created: a usage error naming it, and nothing written
    run = django_project.gates("--update-baseline", "--baseline", str(target))
    assert run.rc == 2
    assert f"the directory {target.parent} does not exist; create it first" in run.err
    assert not target.parent.exists()
    target.parent.mkdir()
    assert django_project.gates("--update-baseline", "--baseline", str(target)).rc == 0
    assert isinstance(json.loads(Path(target).read_text())["apps"], dict)
