"""The labelled corpus: the gate reports exactly each migration's ``expected_codes``,
and the corpus applies for real on SQLite and PostgreSQL (the unsafe migrations are
real migrations, not strings)."""

from __future__ import annotations

import ast
import re
import sqlite3
from pathlib import Path

import django
import pytest

from pytest_django_gates.migrations.registry import RULES
from tests.migrations.migrations_support import (
    CORPUS,
    POSTGRESQL_ONLY,
    cli_json,
    codes_by_object,
    corpus_env,
    corpus_migrations,
    must,
    probe,
)

# Tested outside the corpus (they need a broken or changing project).
ELSEWHERE = {"DJG230", "DJG231", "DJG232", "DJG240", "DJG241", "DJG291"}  # DJG24x: the tracer


def _corpus_apps(*, pg_apps: bool = True, broken: bool = False) -> set[str]:
    apps = {p.name for p in CORPUS.glob("djgc_*") if p.is_dir()}
    if django.VERSION < (5, 0):
        apps.discard("djgc_dbdefault")
    if not pg_apps:
        apps.discard("djgc_pgops")
    if not broken:
        apps.discard("djgc_broken")
    return apps


def _replaced(labels: dict[str, tuple[Path, set[str]]]) -> set[str]:
    """``app.name`` of every corpus migration a squash replaces."""
    replaced: set[str] = set()
    for path, _ in labels.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "replaces" for t in node.targets
            ):
                replaced.update(f"{app}.{name}" for app, name in ast.literal_eval(node.value))
    return replaced


def test_squashed_migrations_get_only_the_rules_that_apply_to_empty_databases() -> None:
    _, report = cli_json(
        ["--project", str(CORPUS), "migrations", "--all", "--backend", "postgresql"],
        env=corpus_env(),
    )
    found = codes_by_object(report["gates"][0])
    # The squash's type change and plain index (DJG208, DJG211 on a live table) are not
    # reported; its RunPython without a reverse is. The replaced migrations are not walked.
    assert found.get("djgc_squash.0002_squashed_0003") == {"DJG220"}
    assert "djgc_squash.0002_widen_total" not in found
    assert "djgc_squash.0003_index_code" not in found


def test_backend_auto_takes_postgresql_from_the_production_settings() -> None:
    args = ["--project", str(CORPUS), "migrations", "--all", "--backend", "auto"]
    env = corpus_env(pg_apps=False)
    _, plain = cli_json(args, env=env)
    assert "PostgreSQL-only rules skipped on sqlite" in plain["gates"][0]["summary"]
    _, auto = cli_json(args, env={**env, "DJANGO_GATES_DEPLOY_SETTINGS": "corpus_production"})
    summary = auto["gates"][0]["summary"]
    assert "rules for PostgreSQL 1" in summary
    assert (
        "(backend auto: production settings corpus_production use PostgreSQL "
        "(corpus_production.py:5))" in summary
    )
    assert "DJG208" in {f["code"] for f in auto["gates"][0]["findings"]}


def test_every_rule_is_labelled_unsafe_and_safe_in_the_corpus() -> None:
    labelled = corpus_migrations()
    flagged = set().union(*(codes for _, codes in labelled.values()))
    assert set(RULES) - ELSEWHERE <= flagged, "rules without an unsafe corpus migration"
    safe = [label for label, (_, codes) in labelled.items() if not codes]
    # every scenario app has migrations the gate must accept
    assert {label.split(".")[0] for label in safe} >= {p.name for p in CORPUS.glob("djgc_*")} - {
        "djgc_broken"
    }


def test_postgresql_rules_report_exactly_the_labels() -> None:
    code, report = cli_json(
        ["--project", str(CORPUS), "migrations", "--all", "--backend", "postgresql"],
        env=corpus_env(broken=True),
    )
    gate = report["gates"][0]
    assert gate["name"] == "migrations"
    assert code == 1
    assert gate["status"] == "failed"
    labels = corpus_migrations(apps=_corpus_apps(broken=True))
    found = codes_by_object(gate)
    assert set(found) <= set(labels), "findings about migrations outside the corpus"
    mismatches = {
        label: {"expected": sorted(expected), "reported": sorted(found.get(label, set()))}
        for label, (_, expected) in labels.items()
        if found.get(label, set()) != expected
    }
    assert mismatches == {}
    # A squash stands in for the migrations it replaces: those are not walked.
    walked = len(labels) - len(_replaced(labels))
    assert f"{walked} of {walked} migrations checked" in gate["summary"]
    assert "rules for PostgreSQL 1" in gate["summary"]


def test_declared_small_tables_make_size_dependent_findings_warnings() -> None:
    """djgc_small: ShippingMethod is declared small on its model class, Carrier in
    indexes.small_tables (corpus_env); Parcel is not. Index builds and SET NOT NULL on
    the small ones are warnings naming the declaration; a dropped column stays an error."""
    _, report = cli_json(
        ["--project", str(CORPUS), "migrations", "--all", "--backend", "postgresql"],
        env=corpus_env(),
    )
    found = sorted(
        (f["object"].split(".", 1)[1], f["code"], f["severity"], f["line"], f["message"])
        for f in report["gates"][0]["findings"]
        if f["object"].startswith("djgc_small.")
    )
    brief = [(name, code, severity) for name, code, severity, _, _ in found]
    assert brief == [
        ("0002_index_small_tables", "DJG211", "error"),
        ("0002_index_small_tables", "DJG211", "warning"),
        ("0002_index_small_tables", "DJG211", "warning"),
        ("0003_retype_small_table", "DJG210", "warning"),
        ("0004_drop_from_small_table", "DJG203", "error"),
        ("0004_drop_from_small_table", "DJG203", "error"),
    ]
    by_line = {(name, line): message for name, _, _, line, message in found}
    assert "djgc_small_parcel" in by_line[("0002_index_small_tables", 15)]
    assert (
        "(a warning: djgc_small.ShippingMethod is declared small (django_gates_small_table"
        in (by_line[("0002_index_small_tables", 13)])
    )
    assert (
        "(a warning: indexes.small_tables declares djgc_small.Carrier small;"
        in (by_line[("0002_index_small_tables", 14)])
    )
    assert "a warning" not in by_line[("0004_drop_from_small_table", 14)]
    assert "a warning" not in by_line[("0004_drop_from_small_table", 13)]


def test_a_backfill_of_the_locked_table_under_its_schema_lock_is_an_error() -> None:
    """DJG216 is an error when the data step writes the rows of the very table the
    schema change locked (update(), a save() per row, SQL UPDATE), a warning when it
    writes another table."""
    _, report = cli_json(
        ["--project", str(CORPUS), "migrations", "--all", "--backend", "postgresql"],
        env=corpus_env(),
    )
    severities = {
        f["object"]: f["severity"] for f in report["gates"][0]["findings"] if f["code"] == "DJG216"
    }
    assert severities == {
        "djgc_columns.0008_add_backfill_require_region": "error",
        "djgc_code.0007_schema_then_data": "error",
        "djgc_code.0013_queue_and_other_data": "warning",
        "djgc_code.0014_schema_then_sql_backfill": "error",
        "djgc_code.0015_schema_then_save_each_row": "error",
    }
    errors = [
        f
        for f in report["gates"][0]["findings"]
        if f["code"] == "DJG216" and f["severity"] == "error"
    ]
    assert all("atomic = False" in f["hint"] and "batches" in f["hint"] for f in errors)


def test_each_finding_points_at_its_operation_line() -> None:
    _, report = cli_json(
        ["--project", str(CORPUS), "migrations", "--all", "--backend", "postgresql"],
        env=corpus_env(broken=True),
    )
    for finding in report["gates"][0]["findings"]:
        path = CORPUS / finding["path"]
        assert path.is_file(), finding
        line = path.read_text(encoding="utf-8").splitlines()[finding["line"] - 1]
        if finding["code"] == "DJG290":
            assert "gates_ignore" in line, finding
        else:
            # the line of the operation: migrations.X(, AddIndexConcurrently(, IgnoreRule(...
            assert re.search(r"\b[A-Z][A-Za-z]+\(", line), (finding, line)


def test_on_sqlite_postgresql_rules_are_skipped_and_the_summary_says_so() -> None:
    code, report = cli_json(
        ["--project", str(CORPUS), "migrations", "--all"], env=corpus_env(broken=True)
    )
    gate = report["gates"][0]
    labels = corpus_migrations(apps=_corpus_apps(broken=True))
    found = codes_by_object(gate)
    for label, (_, expected) in labels.items():
        assert found.get(label, set()) == expected - POSTGRESQL_ONLY, label
    assert (
        "PostgreSQL-only rules skipped on sqlite (database 'default'): DJG202, DJG208-DJG212"
        in gate["summary"]
    )
    assert code == 1


def test_pg_version_changes_the_version_dependent_rules() -> None:
    _, report = cli_json(
        [
            "--project",
            str(CORPUS),
            "migrations",
            "--all",
            "--backend",
            "postgresql",
            "--pg-version",
            "10",
        ],
        env=corpus_env(),
    )
    found = codes_by_object(report["gates"][0])
    # before 11 any default rewrites the table (Django's transient default included)
    assert "DJG202" in found["djgc_columns.0002_add_status_not_null"]
    # before 12 a validated CHECK does not spare SET NOT NULL its scan
    assert "DJG210" in found["djgc_pgops.0008_email_required"]
    assert "rules for PostgreSQL 10" in report["gates"][0]["summary"]


def test_corpus_applies_on_sqlite_and_old_code_breaks_where_the_gate_says(tmp_path: Path) -> None:
    db = tmp_path / "corpus.sqlite3"
    steps = [
        # (app, target, old-code statement, breaks?)
        ("djgc_columns", "0001_initial", None, None),
        (
            "djgc_columns",
            "0002_add_status_not_null",
            "INSERT INTO djgc_columns_customer (name) VALUES ('old')",
            True,
        ),
        (
            "djgc_columns",
            "0003_add_nullable",
            "INSERT INTO djgc_columns_customer (name, status) VALUES ('old', 'x')",
            False,
        ),
        (
            "djgc_columns",
            "0004_remove_nickname",
            "SELECT id, name, status, nickname FROM djgc_columns_customer",
            True,
        ),
        (
            "djgc_columns",
            "0005_remove_legacy_from_state",
            "SELECT id, name, status, legacy FROM djgc_columns_customer",
            False,
        ),
        ("djgc_columns", "0006_rename_name", "SELECT name FROM djgc_columns_customer", True),
        (
            "djgc_columns",
            "0007_rename_keeping_column",
            "SELECT full_name, status FROM djgc_columns_customer",
            False,
        ),
        ("djgc_rawsql", "0001_initial", None, None),
        ("djgc_rawsql", "0002_forget_label_and_bin", None, None),
        (
            "djgc_rawsql",
            "0003_drop_what_the_state_forgot",
            "SELECT id, name FROM djgc_rawsql_shelf",
            False,
        ),
        ("djgc_rawsql", "0004_rename_name_in_sql", "SELECT id, name FROM djgc_rawsql_shelf", True),
        ("djgc_rawsql", "0005_drop_crate_in_sql", "SELECT code FROM djgc_rawsql_crate", True),
        ("djgc_rawsql", "0006_box_labels", None, None),
        (
            "djgc_rawsql",
            "0007_marks_to_stickers",
            "SELECT label_id FROM djgc_rawsql_box_marks",
            True,
        ),
        (
            "djgc_rawsql",
            "0008_shelf_labels",
            "SELECT shelf_id, label_id FROM djgc_rawsql_shelf_labels",
            False,
        ),
        (
            "djgc_rawsql",
            "0009_shelf_labels_through_model",
            "SELECT shelf_id, label_id FROM djgc_rawsql_shelf_labels",
            True,
        ),
        ("auth", None, None, None),  # 0010 reads auth's groups
        ("djgc_code", "0010_runpython_uses_library_helpers", None, None),
        (
            "djgc_code",
            "0011_runpython_changes_schema",
            "SELECT id, title, priority FROM djgc_code_ticket",
            True,
        ),
        (
            "djgc_code",
            "0012_runpython_data_through_editor",
            "SELECT id, title, status, score FROM djgc_code_ticket",
            False,
        ),
        ("djgc_tables", "0001_initial", None, None),
        ("djgc_tables", "0002_delete_draft", "SELECT title FROM djgc_tables_draft", True),
        ("djgc_tables", "0003_delete_legacy_from_state", "SELECT x FROM djgc_tables_legacy", False),
        ("djgc_tables", "0004_rename_note", "SELECT text FROM djgc_tables_note", True),
        (
            "djgc_tables",
            "0005_rename_archive_keeping_table",
            "SELECT label FROM djgc_archive_table",
            False,
        ),
        ("djgc_tables", "0006_alter_invoice_table", "SELECT number FROM djgc_tables_invoice", True),
        (
            "djgc_tables",
            "0007_alter_vault_table_unchanged",
            "SELECT label FROM djgc_archive_table",
            False,
        ),
        (
            "djgc_tables",
            "0008_tag_and_box",
            "SELECT box_id, tag_id FROM djgc_tables_box_tags",
            False,
        ),
        (
            "djgc_tables",
            "0009_rename_box_tags",
            "SELECT box_id, tag_id FROM djgc_tables_box_tags",
            True,
        ),
    ]
    with probe(corpus_env(sqlite=db, pg_apps=False)) as running:
        assert running.vendor == "sqlite"
        for app, target, statement, breaks in steps:
            must(running.migrate(app, target))
            if statement is None:
                continue
            with sqlite3.connect(db) as conn:
                try:
                    conn.execute(statement)
                    broke = False
                except sqlite3.DatabaseError:
                    broke = True
            assert broke is breaks, (target, statement)
        # and then every other corpus migration applies
        must(running.migrate(None))
    with sqlite3.connect(db) as conn:
        applied = {
            f"{app}.{name}" for app, name in conn.execute("SELECT app, name FROM django_migrations")
        }
    assert set(corpus_migrations(apps=_corpus_apps(pg_apps=False))) <= applied


@pytest.mark.postgres
def test_corpus_applies_on_postgresql(postgres_db: str) -> None:
    import psycopg

    with probe(corpus_env(postgres_db)) as running:
        assert running.vendor == "postgresql"
        must(running.migrate(None))
    with psycopg.connect(postgres_db) as conn:
        applied = {f"{a}.{n}" for a, n in conn.execute("SELECT app, name FROM django_migrations")}
    assert set(corpus_migrations(apps=_corpus_apps())) <= applied


@pytest.mark.postgres
def test_migrations_the_gate_says_cannot_run_do_not_run(postgres_db: str) -> None:
    with probe(corpus_env(postgres_db, broken=True)) as running:
        must(running.migrate("djgc_broken", "0001_initial"))
        answer = running.migrate("djgc_broken", "0002_concurrently_in_atomic")
        assert not answer["ok"]
        assert "cannot be executed inside a transaction" in answer["error"]
        must(running.migrate("djgc_broken", "0002_concurrently_in_atomic", fake=True))
        answer = running.migrate("djgc_broken", "0003_runsql_concurrently_in_atomic")
        assert not answer["ok"]
        assert "cannot run inside a transaction block" in answer["error"]
        # the safe variants (atomic = False) run
        must(running.migrate("djgc_pgops", "0002_index_concurrently"))
        must(running.migrate("djgc_pgops", "0013_runsql_concurrently"))
