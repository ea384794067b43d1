"""Patch coverage against a real git repository with a base branch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pytest_django_gates.coverage.patch import Base, find_base, parse_diff, unquote
from tests.coverage.conftest import SHOP_ORDERS, Project, commit_all, git, lines_of

SHIP = """

def ship(order, express):
    if express:
        fee = 10
        return order + fee
    return order
"""


@pytest.fixture
def repo(shop: Project) -> Project:
    """The shop on a ``feature`` branch off ``main``; ``ship()`` is new and half covered."""
    shop.configure("[tool.django-gates.coverage]\npatch = 100\n")
    shop.write(".gitignore", ".coverage*\n.gates-report.json\n__pycache__/\n")
    git(shop.root, "init", "-q", "-b", "main")
    commit_all(shop.root, "base")
    git(shop.root, "checkout", "-q", "-b", "feature")
    shop.write("shop/orders.py", SHOP_ORDERS + SHIP)
    shop.write("run.py", "from shop.orders import ship, total\ntotal([])\nship(1, False)\n")
    commit_all(shop.root, "ship")
    return shop


def test_patch_below_its_floor_fails_pointing_at_the_changed_lines(repo: Project) -> None:
    repo.measure()
    run = repo.gates("--since", "main")
    assert run.rc == 1
    finding = run.finding("DJG407")
    text = (repo.root / "shop/orders.py").read_text()
    fee, ret = lines_of(text, "fee = 10")[0], lines_of(text, "return order + fee")[0]
    # 5 coverable changed lines (def, if, fee, return+fee, return); 2 never ran
    assert "50.00%" not in finding["message"]
    assert "60.00% < 100.00% (3/5 lines)" in finding["message"]
    assert "2 more lines needed in the patch" in finding["message"]
    assert f"shop/orders.py: uncovered changed lines {fee}-{ret}" in finding["message"]
    assert (finding["object"], finding["path"], finding["line"]) == ("patch", "shop/orders.py", fee)
    assert "since main (merge base" in run.gate["summary"]


def test_patch_meeting_its_floor_passes(repo: Project) -> None:
    repo.write("run.py", "from shop.orders import ship\nship(1, False)\nship(1, True)\n")
    commit_all(repo.root, "test express")
    repo.measure()
    run = repo.gates("--since", "main")
    assert run.rc == 0, run.out
    assert "patch 100.00% (5/5 lines) since main" in run.gate["summary"]
    # a lower floor given as -N: at most N uncovered changed lines
    repo.write("run.py", "from shop.orders import ship\nship(1, False)\n")
    repo.measure()
    assert repo.gates("--since", "main", "--patch", "-2").rc == 0
    assert repo.gates("--since", "main", "--patch", "-1").rc == 1


def test_no_coverable_change_is_a_neutral_pass_that_says_so(shop: Project) -> None:
    shop.configure("[tool.django-gates.coverage]\npatch = 100\n")
    git(shop.root, "init", "-q", "-b", "main")
    shop.write(".gitignore", ".coverage*\n.gates-report.json\n")
    commit_all(shop.root, "base")
    git(shop.root, "checkout", "-q", "-b", "docs")
    shop.write("shop/orders.py", "# Orders.\n" + SHOP_ORDERS + "\n# the end\n")
    shop.write("README.md", "docs\n")
    commit_all(shop.root, "comments only")
    shop.measure()
    run = shop.gates("--since", "main")
    assert run.rc == 0
    assert "patch: no coverable lines changed since main" in run.gate["summary"]
    assert "(2 files changed)" in run.gate["summary"]


def test_uncommitted_and_untracked_changes_count(repo: Project) -> None:
    repo.write("shop/extra.py", "def extra(x):\n    if x:\n        return 1\n    return 2\n")
    repo.write(
        "run.py",
        "from shop.orders import ship\nfrom shop.extra import extra\n"
        "ship(1, True)\nship(1, False)\nextra(1)\n",
    )
    repo.measure()
    run = repo.gates("--since", "main")
    assert run.rc == 1
    finding = run.finding("DJG407")
    assert "shop/extra.py: uncovered changed line 4" in finding["message"]
    assert "88.88% < 100.00% (8/9 lines)" in finding["message"]


def test_a_base_that_does_not_exist_is_a_usage_error(repo: Project) -> None:
    repo.measure()
    run = repo.gates("--since", "no-such-branch")
    assert run.rc == 2
    assert "'no-such-branch' (--since) does not exist in the git repository" in run.err
    assert run.out == ""


def test_not_a_git_repository_is_a_usage_error(shop: Project) -> None:
    shop.measure()
    run = shop.gates("--since", "main")
    assert run.rc == 2
    assert "needs a git repository" in run.err


def test_patch_floor_without_a_base_is_reported_not_silently_passed(repo: Project) -> None:
    repo.measure()
    run = repo.gates()
    assert run.rc == 0
    assert "patch floor not checked: no git base (pass --since REF)" in run.gate["summary"]


def _clone(repo: Project, tmp_path: Path, *args: str) -> Project:
    """A bare origin of ``repo`` and a clone of its ``feature`` branch (``args`` to git clone)."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo.root), str(origin))
    work = tmp_path / "clone"
    git(tmp_path, "clone", "-q", *args, "--branch", "feature", f"file://{origin}", str(work))
    clone = Project(work, repo._capsys)
    clone.measure()
    return clone


def test_shallow_clone_is_deepened_to_find_the_base(repo: Project, tmp_path: Path) -> None:
    for i in range(3):  # more history on the feature branch than the clone has
        repo.write(f"notes/{i}.txt", f"{i}\n")
        commit_all(repo.root, f"note {i}")
    clone = _clone(repo, tmp_path, "--depth", "1")
    assert git(clone.root, "rev-parse", "--is-shallow-repository") == "true"
    run = clone.gates("--since", "origin/main")  # origin/main is not even fetched yet
    assert run.rc == 1
    assert "3/5 lines" in run.finding("DJG407")["message"]
    assert "fetched origin/main from origin" in run.gate["summary"]
    assert "deepened the shallow clone" in run.gate["summary"]


def test_unreachable_base_in_a_shallow_clone_fails_loudly(repo: Project, tmp_path: Path) -> None:
    repo.write("notes/a.txt", "a\n")
    commit_all(repo.root, "note")
    clone = _clone(repo, tmp_path, "--depth", "1")
    git(clone.root, "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    shutil.rmtree(tmp_path / "origin.git")  # the remote is gone: history cannot be fetched
    run = clone.gates("--since", "origin/main")
    assert run.rc == 3
    assert run.gate["status"] == "error"
    finding = run.finding("DJG412")
    assert "fetch-depth: 0" in finding["message"]


def test_pull_request_base_comes_from_github_base_ref(
    repo: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = _clone(repo, tmp_path)
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    run = clone.gates()
    assert run.rc == 1
    assert "since origin/main" in run.gate["summary"]
    assert "pull request base" not in run.err


def test_merge_group_base_comes_from_the_event_file(
    repo: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base_sha = git(repo.root, "rev-parse", "main")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"merge_group": {"base_sha": base_sha, "head_sha": "x"}}))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "merge_group")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_BASE_REF", "ignored-in-a-merge-group")
    repo.measure()
    run = repo.gates()
    assert run.rc == 1
    assert f"since {base_sha}" in run.gate["summary"]
    event.write_text("{}")
    broken = repo.gates()
    assert broken.rc == 2
    assert "merge_group.base_sha" in broken.err


def test_find_base_precedence() -> None:
    env = {"GITHUB_BASE_REF": "main"}
    assert find_base("dev", "--since", env) == Base("dev", "--since")
    assert find_base(None, "", env) == Base("origin/main", "pull request base (GITHUB_BASE_REF)")
    assert find_base(None, "", {}) is None


def test_parse_diff_reads_hunks_by_count() -> None:
    diff = "\n".join(
        [
            "diff --git a/x.py b/x.py",
            "--- a/x.py",
            "+++ b/x.py",
            "@@ -1,0 +2,2 @@",
            "+++ this added line looks like a header",
            "+--- and so does this one",
            "@@ -10 +11 @@",
            "-old",
            "+new",
            "@@ -20,3 +22,0 @@",
            "-gone",
            "-gone",
            "-gone",
            "diff --git a/gone.py b/gone.py",
            "--- a/gone.py",
            "+++ /dev/null",
            "@@ -1 +0,0 @@",
            "-x",
            'diff --git "a/sp ace\\303\\251.py" "b/sp ace\\303\\251.py"',
            '--- "a/sp ace\\303\\251.py"',
            '+++ "b/sp ace\\303\\251.py"',
            "@@ -0,0 +1 @@",
            "+y",
            "\\ No newline at end of file",
        ]
    )
    assert parse_diff(diff) == {"x.py": {2, 3, 11}, "sp ace\u00e9.py": {1}}
    assert unquote('"a\\tb\\"c"') == 'a\tb"c'
    assert unquote("plain.py") == "plain.py"
