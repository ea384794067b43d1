"""``django-gates migrations`` as a real process: exit codes, formats, --since against a
real git repository, --unapplied, the baseline, ignores and bad input."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.migrations.migrations_support import (
    ADD_FLAG_SOURCE,
    CORPUS,
    FLAG_FIELD,
    cli,
    cli_json,
    codes_by_object,
    corpus_env,
    make_project,
    migration,
    must,
    probe,
    project_cli,
    project_json,
    simple_app,
)

ADD_FLAG = ADD_FLAG_SOURCE
FLAG = FLAG_FIELD


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def test_safe_project_passes_with_exit_0_in_text_and_json(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"shop": simple_app()})
    proc = project_cli(root, "--all", "--report", str(tmp_path / "report.json"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("migrations: PASSED - 1 of 1 migrations checked")
    assert "PostgreSQL-only rules skipped on sqlite" in proc.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["format"] == 1
    assert report["gates"] == [
        {
            "name": "migrations",
            "status": "passed",
            "summary": report["gates"][0]["summary"],
            "findings": [],
        }
    ]


def test_unsafe_project_fails_with_exit_1_and_points_at_the_line(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"shop": simple_app(FLAG, **{"0002_add_flag": ADD_FLAG})})
    code, report, _ = project_json(root, "--all")
    assert code == 1
    (finding,) = report["gates"][0]["findings"]
    assert finding["code"] == "DJG201"
    assert finding["object"] == "shop.0002_add_flag"
    assert finding["path"] == "shop/migrations/0002_add_flag.py"
    assert finding["line"] == 7
    text = project_cli(root, "--all")
    assert text.returncode == 1
    assert "DJG201 [error] shop.0002_add_flag (shop/migrations/0002_add_flag.py:7)" in text.stdout
    assert "fix: Give the column a database default" in text.stdout


def test_since_checks_only_migrations_added_since_the_merge_base(tmp_path: Path) -> None:
    extra = (
        FLAG
        + "    size = models.IntegerField(default=0)\n"
        + "    color = models.CharField(max_length=9, default='')\n"
    )
    root = make_project(tmp_path / "p", {"shop": simple_app(extra, **{"0002_add_flag": ADD_FLAG})})
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "base")
    _git(root, "checkout", "-q", "-b", "feature")
    (root / "shop/migrations/0003_add_size.py").write_text(
        migration(
            "shop",
            "0002_add_flag",
            'migrations.AddField("item", "size", models.IntegerField(default=0))',
        )
    )
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "size")
    # not committed yet: checked too (a migration just generated)
    (root / "shop/migrations/0004_add_color.py").write_text(
        migration(
            "shop",
            "0003_add_size",
            'migrations.AddField("item", "color", models.CharField(max_length=9, default=""))',
        )
    )
    code, report, _ = project_json(root, "--since", "main")
    gate = report["gates"][0]
    assert code == 1
    assert set(codes_by_object(gate)) == {"shop.0003_add_size", "shop.0004_add_color"}
    base = _git(root, "rev-parse", "main")
    assert (
        f"2 of 4 migrations checked (added since main (merge-base {base[:10]}))" in gate["summary"]
    )

    # In a GitHub pull request the base is origin/$GITHUB_BASE_REF when --since is not given.
    _git(root, "update-ref", "refs/remotes/origin/main", base)
    code, report, _ = project_json(root, env={"GITHUB_BASE_REF": "main"})
    assert "added since origin/main" in report["gates"][0]["summary"]
    assert set(codes_by_object(report["gates"][0])) == {"shop.0003_add_size", "shop.0004_add_color"}

    # A ref that does not exist is a usage error, never a pass.
    proc = project_cli(root, "--since", "origin/does-not-exist")
    assert proc.returncode == 2
    assert "--since origin/does-not-exist: the base 'origin/does-not-exist'" in proc.stderr
    assert "does not exist in the git repository" in proc.stderr
    assert proc.stdout == ""


def test_since_in_a_depth_1_ci_clone_fetches_the_base_and_deepens_or_fails_closed(
    tmp_path: Path,
) -> None:
    """What actions/checkout gives by default: one commit, no base branch. The base is
    fetched and the clone deepened until the merge base is found, so only the change's
    migrations are judged; with the remote gone it cannot look: exit 3, naming
    fetch-depth: 0."""
    extra = FLAG + "    size = models.IntegerField(default=0)\n"
    origin = make_project(
        tmp_path / "origin", {"shop": simple_app(extra, **{"0002_add_flag": ADD_FLAG})}
    )
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "add", ".")
    _git(origin, "commit", "-q", "-m", "base")
    _git(origin, "checkout", "-q", "-b", "feature")
    for i in range(3):  # more history on the branch than a depth-1 clone has
        (origin / f"notes{i}.txt").write_text(f"{i}\n")
        _git(origin, "add", ".")
        _git(origin, "commit", "-q", "-m", f"note {i}")
    (origin / "shop/migrations/0003_add_size.py").write_text(
        migration(
            "shop",
            "0002_add_flag",
            'migrations.AddField("item", "size", models.IntegerField(default=0))',
        )
    )
    _git(origin, "add", ".")
    _git(origin, "commit", "-q", "-m", "size")
    clone = tmp_path / "clone"
    _git(
        tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{origin}", "clone"
    )
    assert _git(clone, "rev-parse", "--is-shallow-repository") == "true"
    code, report, err = project_json(clone, "--since", "origin/main")
    gate = report["gates"][0]
    assert code == 1, err
    assert set(codes_by_object(gate)) == {"shop.0003_add_size"}  # not 0002: it is the base's
    assert "1 of 3 migrations checked (added since origin/main" in gate["summary"]

    again = tmp_path / "again"
    _git(
        tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{origin}", "again"
    )
    _git(again, "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    shutil.rmtree(origin / ".git")  # the remote is gone: the history cannot be fetched
    code, report, err = project_json(again, "--since", "origin/main")
    assert code == 3, err
    assert report["gates"][0]["status"] == "error"
    assert "fetch-depth: 0" in report["gates"][0]["summary"]


def test_unapplied_checks_what_the_database_has_not_applied(tmp_path: Path) -> None:
    db = tmp_path / "corpus.sqlite3"
    with probe(corpus_env(sqlite=db, pg_apps=False)) as running:
        must(running.migrate("djgc_columns", "0003_add_nullable"))
    code, report = cli_json(
        ["--project", str(CORPUS), "migrations", "--unapplied"],
        env=corpus_env(sqlite=db, pg_apps=False),
    )
    gate = report["gates"][0]
    found = codes_by_object(gate)
    assert "djgc_columns.0002_add_status_not_null" not in found  # applied already
    assert found["djgc_columns.0004_remove_nickname"] == {"DJG203"}
    assert "not applied to database 'default'" in gate["summary"]
    assert code == 1


def test_third_party_apps_are_checked_only_on_request() -> None:
    _code, report = cli_json(
        ["--project", str(CORPUS), "migrations", "--all", "--third-party"],
        env=corpus_env(pg_apps=False),
    )
    found = codes_by_object(report["gates"][0])
    assert found["contenttypes.0002_remove_content_type_name"] == {"DJG203"}
    path = next(
        f["path"] for f in report["gates"][0]["findings"] if f["object"].startswith("contenttypes.")
    )
    assert path.endswith("django/contrib/contenttypes/migrations/0002_remove_content_type_name.py")


def test_baseline_accepts_existing_migrations_and_reports_stale_entries(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"shop": simple_app(FLAG, **{"0002_add_flag": ADD_FLAG})})
    baseline = root / "migrations-baseline.json"
    proc = project_cli(root, "--baseline", str(baseline), "--update-baseline")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert (
        "baseline updated: 1 migration with 1 findings accepted in migrations-baseline.json"
        in proc.stdout
    )
    data = json.loads(baseline.read_text())
    assert data["migrations"] == {"shop.0002_add_flag": ["DJG201"]}

    code, report, _ = project_json(root, "--all", "--baseline", str(baseline))
    gate = report["gates"][0]
    assert code == 0
    assert gate["findings"] == []
    assert "1 finding in 1 baselined migration not shown" in gate["summary"]

    data["migrations"]["shop.0009_gone"] = ["DJG203"]
    baseline.write_text(json.dumps(data))
    code, report, _ = project_json(root, "--all", "--baseline", str(baseline))
    (stale,) = report["gates"][0]["findings"]
    assert (stale["code"], stale["severity"], stale["object"]) == (
        "DJG291",
        "warning",
        "shop.0009_gone",
    )
    assert code == 0

    baseline.write_text('{"format": 1, "gate": "migrations", "migrations": {')
    proc = project_cli(root, "--all", "--baseline", str(baseline))
    assert proc.returncode == 2
    assert f"migrations baseline {baseline}:1:" in proc.stderr
    assert "not valid JSON" in proc.stderr


def test_ignores_per_code_app_and_migration_and_unused_ones_reported(tmp_path: Path) -> None:
    pyproject = """
[[tool.django-gates.migrations.ignore]]
migration = "shop.0002_add_flag"
code = "DJG201"
reason = "the table is empty in production"

[[tool.django-gates.migrations.ignore]]
app = "vendored"
reason = "third-party code we do not change"

[[tool.django-gates.migrations.ignore]]
code = "DJG220"
reason = "we never roll back data migrations"

[[tool.django-gates.migrations.ignore]]
code = "DJG212"
reason = "stale"
"""
    vendored = simple_app(FLAG, **{"0002_add_flag": ADD_FLAG.replace("'shop'", "'vendored'")})
    runpython = migration(
        "shop",
        "0002_add_flag",
        "migrations.RunPython(forwards)",
        head="\n\ndef forwards(apps, schema_editor):\n    pass",
    )
    root = make_project(
        tmp_path / "p",
        {
            "shop": simple_app(FLAG, **{"0002_add_flag": ADD_FLAG, "0003_data": runpython}),
            "vendored": vendored,
        },
        pyproject=pyproject,
    )
    code, report, stderr = project_json(root, "--all")
    gate = report["gates"][0]
    assert code == 0, stderr
    (unused,) = gate["findings"]
    assert unused["code"] == "DJG290"
    assert unused["severity"] == "warning"
    assert unused["object"] == "tool.django-gates.migrations.ignore[3]"
    assert unused["path"] == "pyproject.toml"
    assert "3 ignored" in gate["summary"]

    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text()
        + '\n[[tool.django-gates.migrations.ignore]]\napp = "shopp"\nreason = "typo"\n'
    )
    proc = project_cli(root, "--all")
    assert proc.returncode == 2
    assert "app 'shopp' is not an installed app label" in proc.stderr
    assert str(root / "pyproject.toml") in proc.stderr


def test_missing_migrations_and_conflicting_leaves_fail(tmp_path: Path) -> None:
    other = migration(
        "shop",
        "0001_initial",
        'migrations.AddField("item", "size", models.IntegerField(null=True))',
    )
    root = make_project(
        tmp_path / "p",
        {
            "shop": simple_app(
                "    size = models.IntegerField(null=True)\n"
                "    colour = models.IntegerField(null=True)\n",
                **{"0002_a": other, "0002_b": other.replace('"size"', '"colour"')},
            )
        },
    )
    code, report, _ = project_json(root, "--all")
    gate = report["gates"][0]
    assert code == 1
    by_code = {(f["code"], f["object"]) for f in gate["findings"]}
    assert ("DJG231", "shop.0002_a") in by_code
    assert ("DJG231", "shop.0002_b") in by_code
    (root / "shop/migrations/0002_b.py").unlink()
    code, report, _ = project_json(root, "--all")
    (missing,) = report["gates"][0]["findings"]
    assert missing["code"] == "DJG230"
    assert missing["object"] == "shop"
    assert missing["path"] == "shop/models.py"
    assert "colour" in missing["message"]
    assert code == 1


def test_drift_an_adopted_project_already_has_is_baselined_and_new_drift_is_not(
    tmp_path: Path,
) -> None:
    """A project adopting the gates with model changes no migration records (real
    histories have them): the baseline holds that drift, per app and by the exact list
    of changes, so the first run passes; one more unrecorded change is reported."""
    fields = "    size = models.IntegerField(null=True)\n"
    root = make_project(tmp_path / "p", {"shop": simple_app(fields)})
    baseline = tmp_path / "b.json"
    code, report, err = project_json(root, "--all")
    assert [f["code"] for f in report["gates"][0]["findings"]] == ["DJG230"], err
    code, report, err = project_json(
        root, "--all", "--update-baseline", "--baseline", str(baseline)
    )
    assert code == 0, err
    assert "the model changes no migration records of 1 app" in report["gates"][0]["summary"]
    data = json.loads(baseline.read_text())
    assert list(data["drift"]) == ["shop"]
    code, report, err = project_json(root, "--all", "--baseline", str(baseline))
    assert code == 0, err
    assert report["gates"][0]["findings"] == []
    models = root / "shop" / "models.py"
    models.write_text(models.read_text() + "    weight = models.IntegerField(null=True)\n")
    code, report, err = project_json(root, "--all", "--baseline", str(baseline))
    assert code == 1, err
    (drift,) = report["gates"][0]["findings"]
    assert drift["code"] == "DJG230"
    assert "weight" in drift["message"]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {
                "migrations/0002_broken.py": (
                    "from django.db import migrations\nimport not_a_module\n"
                )
            },
            (
                "shop/migrations/0002_broken.py:2: cannot import this migration: "
                "ModuleNotFoundError",
            ),
            id="import-error",
        ),
        pytest.param(
            {"migrations/0002_syntax.py": "class Migration(:\n"},
            ("shop/migrations/0002_syntax.py:1: cannot import this migration: SyntaxError",),
            id="syntax-error",
        ),
        pytest.param(
            {
                "migrations/0001_initial.py": migration(
                    "shop", "0002_b", "migrations.RunSQL('SELECT 1', 'SELECT 1')"
                ),
                "migrations/0002_b.py": migration(
                    "shop", "0001_initial", "migrations.RunSQL('SELECT 1', 'SELECT 1')"
                ),
            },
            (
                "the migration graph has a dependency cycle:",
                "shop.0001_initial (shop/migrations/0001_initial.py)",
                "shop.0002_b (shop/migrations/0002_b.py)",
            ),
            id="cycle",
        ),
        pytest.param(
            {
                "migrations/0002_x.py": migration(
                    "shop", "0009_missing", "migrations.RunSQL('SELECT 1', 'SELECT 1')"
                )
            },
            (
                "shop/migrations/0002_x.py: Migration shop.0002_x dependencies reference "
                "nonexistent parent node",
            ),
            id="missing-dependency",
        ),
    ],
)
def test_migrations_that_cannot_be_analysed_are_exit_3(
    tmp_path: Path, files: dict[str, str], expected: tuple[str, ...]
) -> None:
    app = simple_app()
    app.update(files)
    root = make_project(tmp_path / "p", {"shop": app})
    proc = project_cli(root, "--all", "--format", "json")
    assert proc.returncode == 3, proc.stderr
    gate = json.loads(proc.stdout)["gates"][0]
    assert gate["status"] == "error"
    for part in expected:
        assert part in gate["summary"], gate["summary"]


@pytest.mark.parametrize(
    ("args", "pyproject", "expected"),
    [
        (["--all", "--pg-version", "eleven"], "", "expected an integer"),
        (["--update-baseline"], "", "--update-baseline needs a baseline file"),
        (
            [],
            '[tool.django-gates.migrations]\nall = true\nsince = "main"\n',
            "are mutually exclusive",
        ),
        (
            ["--all", "--database", "replica"],
            "",
            "migrations.database 'replica' is not in DATABASES",
        ),
        (
            ["--all", "--settings", "no_such_settings"],
            "",
            "settings module 'no_such_settings' cannot be imported",
        ),
        (
            ["--all"],
            '[[tool.django-gates.migrations.ignore]]\ncode = "DJG999"\nreason = "x"\n',
            "unknown code 'DJG999'",
        ),
    ],
)
def test_usage_and_configuration_errors_are_exit_2(
    tmp_path: Path, args: list[str], pyproject: str, expected: str
) -> None:
    root = make_project(tmp_path / "p", {"shop": simple_app()}, pyproject=pyproject)
    proc = project_cli(root, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert expected in proc.stderr
    assert proc.stdout == ""


def test_without_any_settings_module_is_exit_2(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"shop": simple_app()})
    proc = cli(["--project", str(root), "migrations", "--all"], cwd=root)
    assert proc.returncode == 2
    assert "no Django settings module: pass --settings MODULE" in proc.stderr


def test_a_process_with_django_set_up_otherwise_runs_the_analysis_in_a_subprocess(
    tmp_path: Path,
) -> None:
    """Django can be set up once per process: a host that already set it up with other
    settings (here the corpus) gets the project's analysis from a clean interpreter."""
    root = make_project(tmp_path / "p", {"shop": simple_app(FLAG, **{"0002_add_flag": ADD_FLAG})})
    script = f"""
import json, os, sys
sys.path.insert(0, {str(CORPUS)!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "corpus_settings"
import django
django.setup()
from pathlib import Path
from pytest_django_gates import config, options
from pytest_django_gates.config import ConfigError
from pytest_django_gates.gates import GateContext, run_gate
root = Path({str(root)!r})
for settings in ("proj_settings", "missing_settings"):
    cfg = config.load(
        options.OPTIONS,
        cli={{"migrations.settings": settings, "migrations.all": True}},
        environ={{}},
        pyproject=root / "pyproject.toml",
    )
    try:
        result, _ = run_gate("migrations", GateContext(config=cfg, rootdir=root))
        print(json.dumps(result.to_dict()))
    except ConfigError as exc:
        print(json.dumps({{"config_error": str(exc)}}))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines()[-2:])
    assert first["status"] == "failed"
    assert [f["object"] for f in first["findings"]] == ["shop.0002_add_flag"]
    assert "settings module 'missing_settings' cannot be imported" in second["config_error"]


def test_a_migration_edited_since_the_base_is_djg232_but_a_reformat_is_not(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p", {"shop": simple_app(FLAG, **{"0002_add_flag": ADD_FLAG})})
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "base")
    initial = root / "shop/migrations/0001_initial.py"
    original = initial.read_text()
    # Formatting and a comment: the operations are the same code.
    initial.write_text("# reviewed\n" + original.replace("operations = [", "operations = [  # x"))
    code, report, _ = project_json(root, "--since", "main")
    assert "DJG232" not in {f["code"] for f in report["gates"][0]["findings"]}, report
    # A changed operation: an edit.
    initial.write_text(original.replace("max_length=50", "max_length=60"))
    assert initial.read_text() != original
    code, report, _ = project_json(root, "--since", "main")
    edited = [f for f in report["gates"][0]["findings"] if f["code"] == "DJG232"]
    assert [(f["object"], f["path"], f["severity"]) for f in edited] == [
        ("shop.0001_initial", "shop/migrations/0001_initial.py", "error")
    ]
    assert code == 1


def _remove(depends: str, name: str) -> str:
    return migration("shop", depends, f'migrations.RemoveField("item", {name!r})')


def _add(depends: str, name: str) -> str:
    return migration(
        "shop", depends, f'migrations.AddField("item", {name!r}, models.IntegerField(null=True))'
    )


def _released_project(root: Path) -> Path:
    """v1.0 ships 0001; v1.1 adds note and drops it again (never used by released code)
    and adds legacy; unreleased: tmp added and dropped, and legacy (released in v1.1)
    dropped: only that drop breaks released code."""
    root = make_project(root, {"shop": simple_app()})
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "1.0")
    _git(root, "tag", "v1.0")
    steps = {
        "0002_add_note": _add("0001_initial", "note"),
        "0003_drop_note": _remove("0002_add_note", "note"),
        "0004_add_legacy": _add("0003_drop_note", "legacy"),
    }
    for name, text in steps.items():
        (root / f"shop/migrations/{name}.py").write_text(text)
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "1.1")
    _git(root, "tag", "-a", "v1.1", "-m", "release 1.1")
    unreleased = {
        "0005_add_tmp": _add("0004_add_legacy", "tmp"),
        "0006_drop_tmp": _remove("0005_add_tmp", "tmp"),
        "0007_drop_legacy": _remove("0006_drop_tmp", "legacy"),
    }
    for name, text in unreleased.items():
        (root / f"shop/migrations/{name}.py").write_text(text)
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "next")
    _git(root, "tag", "not-a-release")
    return root


# What the gate lets through with release tags does not break the released code; what it
# stops does: (migrate target, a statement of the released code, whether it breaks).
_RELEASED_11 = "SELECT id, name, legacy FROM shop_item"  # v1.1's code
_RELEASED_10 = "SELECT id, name FROM shop_item"  # v1.0's code
_RELEASE_PROBES = (
    ("0003_drop_note", _RELEASED_10, False),  # note: added and dropped inside v1.1
    ("0004_add_legacy", _RELEASED_11, False),
    ("0006_drop_tmp", _RELEASED_11, False),  # tmp: added and dropped, unreleased
    ("0007_drop_legacy", _RELEASED_11, True),  # the one DJG203 with release tags
)


def _migrate_shop(root: Path, target: str, settings: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "shop", target, "-v", "0"],
        cwd=root,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings, "PYTHONPATH": str(root)},
        check=True,
        capture_output=True,
    )


def test_release_tags_make_the_migrations_of_one_release_one_deploy(tmp_path: Path) -> None:
    root = _released_project(tmp_path / "p")
    code, report, _ = project_json(root, "--all")
    gate = report["gates"][0]
    assert code == 1
    assert set(codes_by_object(gate)) == {
        "shop.0003_drop_note",
        "shop.0006_drop_tmp",
        "shop.0007_drop_legacy",
    }
    assert "each migration judged as its own deploy" in gate["summary"]

    tags = {"DJANGO_GATES_MIGRATIONS_RELEASES": "tags"}
    code, report, _ = project_json(root, "--all", env=tags)
    gate = report["gates"][0]
    assert code == 1
    assert codes_by_object(gate) == {"shop.0007_drop_legacy": {"DJG203"}}
    assert "3 deploys from 2 release tags" in gate["summary"]

    # A pattern no tag matches would judge the whole history as one deploy: refused.
    proc = project_cli(root, "--all", env={**tags, "DJANGO_GATES_MIGRATIONS_RELEASE_TAGS": "^rel-"})
    assert proc.returncode == 2
    assert "no tag of" in proc.stderr
    assert "matches '^rel-'" in proc.stderr
    assert proc.stdout == ""
    # --since: the range is the deploy, whatever the tags.
    code, report, _ = project_json(root, "--since", "v1.1", env=tags)
    assert codes_by_object(report["gates"][0]) == {"shop.0007_drop_legacy": {"DJG203"}}

    # The old-code probes, on SQLite (on PostgreSQL: the next test).
    for target, statement, breaks in _RELEASE_PROBES:
        _migrate_shop(root, target, "proj_settings")
        with sqlite3.connect(root / "db.sqlite3") as conn:
            try:
                conn.execute(statement)
                broke = False
            except sqlite3.OperationalError:
                broke = True
        assert broke is breaks, (target, statement)


def test_release_probes_on_postgresql(tmp_path: Path, postgres_db: str) -> None:
    """The same release history applied step by step on PostgreSQL: the drops the gate
    lets through with release tags leave the released code's queries working; the one it
    stops (0007, legacy released in v1.1) breaks them."""
    import psycopg

    root = _released_project(tmp_path / "p")
    code, report, _ = project_json(
        root, "--all", "--backend", "postgresql", env={"DJANGO_GATES_MIGRATIONS_RELEASES": "tags"}
    )
    assert code == 1
    assert codes_by_object(report["gates"][0]) == {"shop.0007_drop_legacy": {"DJG203"}}
    (root / "pg_settings.py").write_text(
        "import dj_database_url\n"
        "from proj_settings import *  # noqa: F403\n\n"
        f"DATABASES = {{'default': dj_database_url.parse({postgres_db!r})}}\n",
        encoding="utf-8",
    )
    for target, statement, breaks in _RELEASE_PROBES:
        _migrate_shop(root, target, "pg_settings")
        with psycopg.connect(postgres_db, autocommit=True) as conn:
            try:
                conn.execute(statement)
                broke = False
            except psycopg.errors.UndefinedColumn:
                broke = True
        assert broke is breaks, (target, statement)


def test_what_the_settings_print_goes_to_stderr_and_json_stays_json(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"shop": simple_app()})
    settings = root / "proj_settings.py"
    settings.write_text(settings.read_text() + '\nprint("Loading environment from .env")\n')
    proc = project_cli(root, "--all", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["gates"][0]["status"] == "passed"
    assert "Loading environment from .env" in proc.stderr


def test_an_index_on_a_column_new_in_the_deploy_still_reads_the_existing_table(
    tmp_path: Path,
) -> None:
    """The column is new in the range, the table is not: building the unique index reads
    every row of it under the lock, as an AddField of a unique column would (DJG211)."""
    root = make_project(
        tmp_path / "p",
        {"shop": simple_app("    code = models.IntegerField(null=True, unique=True)\n")},
    )
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "base")
    (root / "shop/migrations/0002_add_code.py").write_text(_add("0001_initial", "code"))
    (root / "shop/migrations/0003_unique_code.py").write_text(
        migration(
            "shop",
            "0002_add_code",
            'migrations.AlterField("item", "code", models.IntegerField(null=True, unique=True))',
        )
    )
    code, report, _ = project_json(root, "--since", "main", "--backend", "postgresql")
    assert codes_by_object(report["gates"][0]) == {"shop.0003_unique_code": {"DJG211"}}
    assert code == 1
