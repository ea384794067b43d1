"""``django-gates coverage`` on a small generated package, measured for real."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from tests.coverage.conftest import Project, Run


def assert_consistent(run: Run) -> None:
    """Never a failure printed while exiting 0."""
    if run.rc == 0:
        assert "FAILED" not in run.out
        assert "[error]" not in run.out
        assert run.gate["status"] in ("passed", "skipped")
    if run.report is not None and run.gate["status"] == "failed":
        assert run.rc == 1
        assert "FAILED" in run.out


def test_global_line_floor_fails_with_the_gap_in_lines(shop: Project) -> None:
    shop.configure("[tool.django-gates.coverage]\nline = 80\n")
    shop.measure()
    run = shop.gates()
    assert_consistent(run)
    assert run.rc == 1
    finding = run.finding("DJG401")
    assert finding["object"] == "total"
    assert "73.33% < 80.00% (11/15 lines)" in finding["message"]
    assert "1 more line needed in total" in finding["message"]
    assert "shop/orders.py: uncovered lines 12, 17-19" in finding["message"]
    assert (finding["path"], finding["line"]) == ("shop/orders.py", 12)
    assert "coverage: FAILED" in run.out
    assert "1 more line needed in total" in run.out


def test_global_floor_met_passes_and_reports_the_figures(shop: Project) -> None:
    shop.configure("[tool.django-gates.coverage]\nline = 73\nbranch = -3\n")
    shop.measure()
    run = shop.gates()
    assert_consistent(run)
    assert run.rc == 0
    assert run.gate["status"] == "passed"
    assert "total 73.33% (11/15 lines), branches 62.50% (5/8 branches)" in run.gate["summary"]


@pytest.mark.parametrize(
    ("floor", "rc", "shown"),
    [
        ("73.333", 0, "73.33% >= 73.333%"),  # 11/15 = 73.3333...
        ("73.3334", 1, "73.33% < 73.3334%"),  # below by a hair: fails, never rounds up
        ("73.34", 1, "73.33% < 73.34%"),
    ],
)
def test_exact_comparison_end_to_end(shop: Project, floor: str, rc: int, shown: str) -> None:
    shop.configure(f"[tool.django-gates.coverage]\nline = {floor}\n")
    shop.measure()
    run = shop.gates()
    assert_consistent(run)
    assert run.rc == rc
    if rc:
        assert shown in run.finding("DJG401")["message"]


def test_negative_floor_allows_at_most_n_uncovered_lines(shop: Project) -> None:
    shop.measure()
    assert shop.gates("--line", "-4").rc == 0
    run = shop.gates("--line", "-3")
    assert_consistent(run)
    assert run.rc == 1
    message = run.finding("DJG401")["message"]
    assert "4 uncovered lines > 3 allowed" in message
    assert "1 more line needed in total" in message


def test_branch_floor_is_separate_from_the_line_floor(shop: Project) -> None:
    shop.configure("[tool.django-gates.coverage]\nline = 70\nbranch = 70\n")
    shop.measure()
    run = shop.gates()
    assert_consistent(run)
    assert run.codes() == ["DJG402"]
    message = run.finding("DJG402")["message"]
    assert "62.50% < 70.00% (5/8 branches)" in message
    assert "1 more branch needed in total" in message
    assert "missing branches 11->12, 17->18, 17->19" in message


def test_branch_floor_without_branch_data_is_a_usage_error(shop: Project) -> None:
    shop.configure(
        "[tool.django-gates.coverage]\nbranch = 50\n",
        coverage_toml='[tool.coverage.run]\nsource = ["shop"]\n',
    )
    shop.measure()
    run = shop.gates()
    assert run.rc == 2
    assert "no branch measurement" in run.err


def test_glob_floor_applies_to_each_matching_file(shop: Project) -> None:
    shop.write("shop/payments.py", "def pay(x):\n    return x\n")
    shop.write("run.py", "from shop.payments import pay\nimport shop.orders\npay(1)\n")
    shop.configure(
        """
        [[tool.django-gates.coverage.paths]]
        glob = "shop/*.py"
        line = 100
        """
    )
    shop.measure()
    run = shop.gates()
    assert_consistent(run)
    assert run.rc == 1
    finding = run.finding("DJG405")  # only orders.py; payments.py and __init__.py meet it
    assert finding["object"] == "shop/orders.py"
    assert "floor of glob 'shop/*.py'" in finding["message"]
    assert "3 files under 1 glob floor" in run.gate["summary"]


def test_glob_matching_nothing_is_a_configuration_error(shop: Project) -> None:
    shop.configure('[[tool.django-gates.coverage.paths]]\nglob = "src/**/*.py"\nline = 90\n')
    shop.measure()
    run = shop.gates()
    assert run.rc == 2
    assert "'src/**/*.py' matches no measured file" in run.err
    assert "shop/orders.py" in run.err  # shows what measured paths look like


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[tool.django-gates.coverage]\nline = 120\n", "above 100"),
        ("[tool.django-gates.coverage]\nline = -2.5\n", "not a whole number"),
        ('[tool.django-gates.coverage]\nline = "high"\n', "expected a number"),
        ('[[tool.django-gates.coverage.apps]]\napp = "shop"\nlines = 90\n', "unknown key(s) lines"),
        ('[[tool.django-gates.coverage.apps]]\napp = "shop"\n', "give 'line' and/or 'branch'"),
        ('[[tool.django-gates.coverage.paths]]\nglob = "/abs/*.py"\nline = 1\n', "relative"),
        (
            '[[tool.django-gates.coverage.apps]]\napp = "a"\nline = 1\n'
            '[[tool.django-gates.coverage.apps]]\napp = "a"\nline = 2\n',
            "two floors",
        ),
        ("[tool.django-gates.coverage]\nfloor = 80\n", "unknown key 'floor'"),
        ('[tool.django-gates.coverage]\nlower_baseline = ["shop"]\n', "is a command"),
    ],
)
def test_bad_configuration_exits_2_naming_the_key(shop: Project, toml: str, expected: str) -> None:
    shop.configure(toml)
    shop.measure()
    run = shop.gates()
    assert run.rc == 2
    assert expected in run.err
    assert run.out == ""


def test_command_line_floor_overrides_pyproject(shop: Project) -> None:
    shop.configure("[tool.django-gates.coverage]\nline = 99\n")
    shop.measure()
    assert shop.gates().rc == 1
    assert shop.gates("--line", "70").rc == 0
    bad = shop.gates("--line", "abc")
    assert bad.rc == 2
    assert "expected a number" in bad.err


def test_missing_data_is_a_usage_error(shop: Project) -> None:
    run = shop.gates()
    assert run.rc == 2
    assert "no coverage data at .coverage" in run.err
    run = shop.gates("--data", "nope/.coverage")
    assert run.rc == 2
    assert "--data nope/.coverage: no such file or directory" in run.err


def test_unreadable_data_is_a_usage_error_naming_the_file(shop: Project) -> None:
    (shop.root / "garbage.cov").write_text("this is not a coverage database\n")
    run = shop.gates("--data", "garbage.cov")
    assert run.rc == 2
    assert "garbage.cov: not readable coverage data" in run.err
    other = shop.root / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("create table t (x)")
    run = shop.gates("--data", str(other))
    assert run.rc == 2
    assert "other.db" in run.err


def test_data_naming_files_that_are_not_here_is_a_usage_error(shop: Project) -> None:
    shop.measure()
    (shop.root / "shop" / "orders.py").unlink()
    run = shop.gates()
    assert run.rc == 2
    assert "another checkout" in run.err


def test_shards_are_combined(shop: Project) -> None:
    shop.write("run_a.py", "from shop.orders import total, discount\ntotal([])\ndiscount(1, 'x')\n")
    shop.write("run_b.py", "from shop.orders import refund\nrefund(1)\nrefund(0)\n")
    shop.configure("[tool.django-gates.coverage]\nline = 80\n")
    shop.measure("run_a.py", data_file="shard-a/.coverage")
    shop.measure("run_b.py", data_file="shard-b/.coverage")
    only_a = shop.gates("--data", "shard-a/.coverage")
    assert only_a.rc == 1
    both = shop.gates("--data", "shard-a/.coverage", "shard-b/.coverage")
    assert_consistent(both)
    # a misses the loop body and the HALF/TENTH returns, b covers refund: exactly 12 of 15.
    assert both.rc == 0, both.out
    assert "total 80.00% (12/15 lines)" in both.gate["summary"]
    # directories work too, and the inputs are left as they were
    dirs = shop.gates("--data", "shard-a", "shard-b")
    assert dirs.gate["summary"] == both.gate["summary"]
    assert (shop.root / "shard-a" / ".coverage").is_file()


def test_parallel_files_are_used_when_there_is_no_combined_file(shop: Project) -> None:
    shop.configure(
        "[tool.django-gates.coverage]\nline = 70\n",
        coverage_toml='[tool.coverage.run]\nbranch = true\nparallel = true\nsource = ["shop"]\n',
    )
    shop.measure()
    assert not (shop.root / ".coverage").exists()
    run = shop.gates()
    assert run.rc == 0
    assert "total 73.33%" in run.gate["summary"]


def test_no_floors_configured_passes_and_says_so(shop: Project) -> None:
    shop.measure()
    run = shop.gates("--format", "json")
    assert run.rc == 0
    assert "no floors configured" in run.gate["summary"]
    assert '"status": "passed"' in run.out


def test_renders_without_a_report_file(
    shop: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shop.configure("[tool.django-gates.coverage]\nline = 90\n")
    shop.measure()
    out = tmp_path_factory.mktemp("out") / "coverage.txt"
    run = shop.gates("--output", str(out))
    assert run.rc == 1
    assert "DJG401 [error] total (shop/orders.py:12)" in out.read_text()
    shutil.rmtree(out.parent)
