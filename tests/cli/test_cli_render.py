"""Renderers (markdown, sarif, github) and ``django-gates report`` merging shards."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from pytest_django_gates import render
from pytest_django_gates.cli import main
from pytest_django_gates.report import Finding, GateResult, Report

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)


def finding(code: str = "ruff:DJ001", **kw: object) -> Finding:
    data: dict[str, object] = {
        "code": code,
        "severity": "error",
        "message": "Avoid using `null=True` on string-based fields",
        "object": "shop/models.py:5:13",
        "path": "shop/models.py",
        "line": 5,
        "hint": "",
    }
    data.update(kw)
    return Finding(**data)  # type: ignore[arg-type]


def sample() -> Report:
    return Report(
        gates=(
            GateResult.from_findings(
                "ruff",
                [
                    finding(),
                    finding(
                        "ruff:F401",
                        severity="warning",
                        message="`os` | imported <b>but</b> unused\nsecond line",
                        line=1,
                        object="a.py:1:8",
                        path="a.py",
                        hint="remove it",
                    ),
                ],
            ),
            GateResult(name="mypy", status="error", summary="mypy crashed: INTERNAL ERROR"),
            GateResult(name="coverage", status="skipped", summary="not measured"),
            GateResult.from_findings(
                "deploy",
                [finding("security.W004", object="SECURE_HSTS_SECONDS", path=None, line=None)],
            ),
        )
    )


# ------------------------------------------------------------------ markdown


def test_markdown_has_the_gate_table_then_findings_escaped() -> None:
    text = render.render_markdown(sample(), path_prefix="backend")
    assert text.startswith("## :boom: pytest-django-gates: error\n")
    assert "| ruff | :x: failed | 1 | 1 |" in text
    assert "| mypy | :boom: error | 0 | 0 | mypy crashed: INTERNAL ERROR |" in text
    assert "### ruff: 2 findings" in text
    assert "backend/shop/models.py:5" in text
    # No HTML, no broken table: pipes escaped, line breaks as <br>.
    assert "&lt;b&gt;but&lt;/b&gt;" in text
    assert "`os` \\| imported" in text
    assert "unused<br>second line" in text
    assert "SECURE_HSTS_SECONDS" in text  # no file: the object says where


def test_markdown_stays_under_the_limit_and_says_what_it_left_out() -> None:
    many = [
        finding(message="x" * 500, line=i, object=f"shop/models.py:{i}") for i in range(1, 3001)
    ]
    report = Report(gates=(GateResult.from_findings("ruff", many),))
    text = render.render_markdown(report, limit=100_000)
    assert len(text.encode("utf-8")) <= 100_000
    match = re.search(r"\*\*(\d+) of 3000 findings are not shown\*\*", text)
    assert match
    shown = text.count("| error | `ruff:DJ001` |")
    assert shown + int(match.group(1)) == 3000
    assert shown > 100
    full = render.render_markdown(report)
    assert len(full.encode("utf-8")) <= render.MARKDOWN_LIMIT < 1024 * 1024


# --------------------------------------------------------------------- SARIF


def test_sarif_is_valid_2_1_0_with_one_run_per_gate() -> None:
    log = json.loads(render.render_sarif(sample(), path_prefix="backend"))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["version"] == "2.1.0"
    runs = {run["tool"]["driver"]["name"]: run for run in log["runs"]}
    assert list(runs) == [
        "django-gates-ruff",
        "django-gates-mypy",
        "django-gates-coverage",
        "django-gates-deploy",
    ]
    ids = [run["automationDetails"]["id"] for run in log["runs"]]
    assert len(set(ids)) == len(ids)
    ruff = runs["django-gates-ruff"]
    assert [r["id"] for r in ruff["tool"]["driver"]["rules"]] == ["ruff:F401", "ruff:DJ001"]
    result = next(r for r in ruff["results"] if r["ruleId"] == "ruff:DJ001")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "backend/shop/models.py"
    assert location["region"] == {"startLine": 5}
    assert result["level"] == "error"
    mypy = runs["django-gates-mypy"]
    assert mypy["invocations"][0]["executionSuccessful"] is False
    assert mypy["results"] == []
    deploy = runs["django-gates-deploy"]["results"][0]
    assert deploy["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "backend/pyproject.toml"
    )
    assert deploy["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
        "SECURE_HSTS_SECONDS"
    )


def test_sarif_of_an_empty_report_is_valid() -> None:
    log = json.loads(render.render_sarif(Report(gates=())))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"] == []


# -------------------------------------------------------------------- github


def test_github_escaping_of_data_and_properties() -> None:
    assert render.escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert render.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    report = Report(
        gates=(
            GateResult.from_findings(
                "ruff",
                [
                    finding(
                        "ruff:E501",
                        path="dir,name/file:1.py",
                        message="50% too long\nreally",
                        hint="wrap it",
                    )
                ],
            ),
        )
    )
    lines = render.render_github(report, path_prefix="src").splitlines()
    assert lines[0] == "ruff: FAILED - 1 error"
    assert lines[1] == (
        "::error file=src/dir%2Cname/file%3A1.py,line=5,title=ruff ruff%3AE501"
        "::50%25 too long%0Areally%0AFix: wrap it"
    )


def test_github_annotations_respect_the_per_step_limits() -> None:
    errors = [finding(line=i, object=f"o{i}") for i in range(1, 26)]
    warnings = [finding("ruff:W1", severity="warning", line=i, object=f"w{i}") for i in range(15)]
    report = Report(
        gates=(
            GateResult(name="gitleaks", status="error", summary="gitleaks is not installed"),
            GateResult.from_findings("ruff", errors + warnings),
        )
    )
    lines = render.render_github(report).splitlines()
    annotated = [line for line in lines if line.startswith("::error")]
    assert len(annotated) == 10
    assert annotated[0].startswith("::error title=django-gates gitleaks%3A could not run::")
    assert len([line for line in lines if line.startswith("::warning")]) == 10
    notice = [line for line in lines if line.startswith("::notice")]
    assert len(notice) == 1
    assert "16 more error(s) and 5 more warning(s)" in notice[0]


# -------------------------------------------------------------- report command


def write_report(path: Path, *gates: GateResult) -> Path:
    Report(gates=gates).write(path)
    return path


def test_report_merges_shards_and_renders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = finding("tests:failed", object="tests/test_x.py::test_a", path="tests/test_x.py")
    one = write_report(
        tmp_path / "one.json",
        GateResult.from_findings("queries", []),
        GateResult.from_findings("tests", [shared]),
    )
    two = write_report(
        tmp_path / "two.json",
        GateResult.from_findings("queries", [finding("DJG101", object="tests/test_y.py::t")]),
        GateResult.from_findings("tests", [shared]),
        GateResult(name="coverage", status="error", summary="no data"),
    )
    merged_path = tmp_path / "merged.json"
    code = main(["report", str(one), str(two), "--format", "json", "--report", str(merged_path)])
    assert code == 3
    merged = Report.load(merged_path)
    assert [(g.name, g.status, len(g.findings)) for g in merged.gates] == [
        ("queries", "failed", 1),
        ("tests", "failed", 1),  # the same failure in two shards is one finding
        ("coverage", "error", 0),
    ]
    capsys.readouterr()
    sarif_path = tmp_path / "out.sarif"
    assert main(["report", str(one), str(two), "--format", "sarif", "-o", str(sarif_path)]) == 3
    jsonschema.Draft4Validator(SCHEMA).validate(json.loads(sarif_path.read_text()))
    assert main(["report", str(one), "--format", "markdown", "--path-prefix", "app"]) == 1
    assert "app/tests/test_x.py:5" in capsys.readouterr().out


def test_report_of_a_broken_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["report", str(bad), "--format", "github"]) == 2
    assert "bad.json:1:2: not valid JSON" in capsys.readouterr().err


def test_written_files_follow_the_umask_and_keep_an_existing_mode(tmp_path: Path) -> None:
    import os
    import stat

    from pytest_django_gates.report import atomic_write_text

    old = os.umask(0o027)
    try:
        new = tmp_path / "new.json"
        atomic_write_text(new, "{}")
        assert stat.S_IMODE(new.stat().st_mode) == 0o640
        kept = tmp_path / "kept.json"
        kept.write_text("old")
        kept.chmod(0o604)
        atomic_write_text(kept, "{}")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o604
        assert kept.read_text() == "{}"
    finally:
        os.umask(old)


def test_text_of_a_long_history_starts_with_counts_and_caps_the_findings() -> None:
    from pytest_django_gates.render import TEXT_FINDINGS, render_text
    from pytest_django_gates.report import Finding, GateResult, Report

    findings = tuple(
        Finding(
            code="DJG201" if i % 3 else "DJG211",
            severity="error",
            message=f"finding {i}",
            object=f"{'shop' if i % 2 else 'users'}.{i:04d}_x",
        )
        for i in range(120)
    )
    gate = GateResult(name="migrations", status="failed", summary="s", findings=findings)
    lines = render_text(Report(gates=(gate,))).splitlines()
    assert lines[1] == "  by code: DJG201 80, DJG211 40"
    assert lines[2] == "  by app: shop 60, users 60"
    assert lines[3] == f"  the first {TEXT_FINDINGS} of 120 findings:"
    assert lines[-1] == (
        f"  ... {120 - TEXT_FINDINGS} more: the JSON report has every finding "
        "(--format json, or --report FILE)"
    )
