"""On a real PostgreSQL: what the gate calls blocking blocks, what it calls safe does not.

Two kinds of evidence, both from the database itself:

* **locks** — a second connection holds SHARE UPDATE EXCLUSIVE on the table
  (what autovacuum or a long maintenance command holds), the corpus migration
  is applied and waits for its own lock, and a third connection tries a read
  and a write with ``lock_timeout``: whatever conflicts with the lock the
  migration asked for queues behind it and times out ("blocked");
* **work under the lock** — PostgreSQL's DEBUG1 messages during the migration:
  ``rewriting table`` (a full rewrite), ``verifying table`` (a full scan),
  ``building index``, and the PostgreSQL >= 12 shortcut "existing constraints
  ... are sufficient to prove that it does not contain nulls".

Each test uses a fresh database (``postgres_db``) and one probe process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import django
import pytest

from tests.migrations.migrations_support import (
    Probe,
    attempt,
    built_index,
    connect,
    corpus_env,
    must,
    notices_of,
    probe,
    rewrote,
    verified,
    wait_until_waiting,
    while_migrating,
)

pytestmark = pytest.mark.postgres

EVENT_INSERT = (
    "INSERT INTO djgc_indexes_event (kind, at, name, code) "
    "VALUES ('k', clock_timestamp(), 'n', left(md5(random()::text), 10))"
)
EVENT_READ = "SELECT count(*) FROM djgc_indexes_event"
ORDER_INSERT = (
    "INSERT INTO djgc_pgops_order (ref, code, total, note, email, placed) "
    "VALUES ('r', 'c', 1, 'n', 'e@x', now())"
)
ORDER_READ = "SELECT count(*) FROM djgc_pgops_order"


EVENTS = {"read": EVENT_READ, "write": EVENT_INSERT}
ORDERS = {"read": ORDER_READ, "write": ORDER_INSERT}
AUTHORS = {
    "read": "SELECT count(*) FROM djgc_constraints_author",
    "write": "INSERT INTO djgc_constraints_author (name) VALUES ('new')",
}
BOOKS = {
    "read": "SELECT count(*) FROM djgc_constraints_book",
    "write": "INSERT INTO djgc_constraints_book (title, pages) VALUES ('x', 1)",
}
READS_ONLY = {"read": "ok", "write": "blocked"}
NOTHING = {"read": "ok", "write": "ok"}
EVERYTHING = {"read": "blocked", "write": "blocked"}


@dataclass(frozen=True)
class Step:
    """Apply ``app.target`` while ``hold`` is locked; which attempts were blocked."""

    why: str
    app: str
    target: str
    hold: str
    attempts: Mapping[str, str]
    expected: Mapping[str, str]
    before: str | None = None
    """A migration of ``app`` applied first, not observed."""
    scans: bool | None = None
    """Whether PostgreSQL reports "verifying table" for ``hold`` (None: not looked at)."""


def _observe(url: str, running: Probe, steps: list[Step]) -> None:
    for step in steps:
        if step.before is not None:
            must(running.migrate(step.app, step.before))
        seen, answer = while_migrating(
            url,
            running,
            step.app,
            step.target,
            hold=step.hold,
            attempts=step.attempts,
            notices=step.scans is not None,
        )
        assert seen == step.expected, step.why
        if step.scans is not None:
            assert verified(answer, step.hold) is step.scans, (step.why, notices_of(answer))


def _fill(url: str, sql: str, rows: int = 50) -> None:
    with connect(url, autocommit=True) as conn:
        for _ in range(rows):
            conn.execute(sql)


def test_index_creation_and_removal(postgres_db: str) -> None:
    url = postgres_db
    event, order = "djgc_indexes_event", "djgc_pgops_order"
    steps = [
        Step(
            "DJG211 AddIndex: CREATE INDEX takes SHARE: writes wait, reads go on",
            *("djgc_indexes", "0002_add_index", event, EVENTS, READS_ONLY),
        ),
        Step(
            "safe: AddIndexConcurrently (SHARE UPDATE EXCLUSIVE) blocks neither",
            *("djgc_pgops", "0002_index_concurrently", order, ORDERS, NOTHING),
        ),
        Step(
            "DJG211 UniqueConstraint: ALTER TABLE ... ADD CONSTRAINT UNIQUE blocks reads too",
            *("djgc_indexes", "0006_unique_constraint", event, EVENTS, EVERYTHING),
            before="0005_unique_together",
        ),
        Step(
            "DJG212 RemoveIndex: DROP INDEX takes ACCESS EXCLUSIVE",
            *("djgc_indexes", "0007_remove_index", event, EVENTS, EVERYTHING),
        ),
        Step(
            "safe: RemoveIndexConcurrently blocks neither",
            *("djgc_pgops", "0003_remove_index_concurrently", order, ORDERS, NOTHING),
        ),
    ]
    with probe(corpus_env(url)) as running:
        must(running.migrate("djgc_indexes", "0001_initial"))
        must(running.migrate("djgc_pgops", "0001_initial"))
        _fill(url, EVENT_INSERT)
        _fill(url, ORDER_INSERT)
        _observe(url, running, steps)


def test_constraint_validation(postgres_db: str) -> None:
    url = postgres_db
    order = "djgc_pgops_order"
    with probe(corpus_env(url)) as running:
        must(running.migrate("djgc_constraints", "0001_initial"))
        with connect(url, autocommit=True) as conn:
            for i in range(30):
                conn.execute("INSERT INTO djgc_constraints_author (name) VALUES (%s)", [f"a{i}"])
                conn.execute(
                    "INSERT INTO djgc_constraints_book (title, pages) VALUES (%s, %s)", [f"b{i}", i]
                )
        _observe(
            url,
            running,
            [
                Step(
                    "DJG214 AddField ForeignKey: SHARE ROW EXCLUSIVE on the referenced table: "
                    "writes to authors wait (reads go on) while the constraint is validated",
                    *("djgc_constraints", "0002_add_author_fk", "djgc_constraints_author"),
                    *(AUTHORS, READS_ONLY),
                ),
                Step(
                    "DJG215 AddConstraint(CheckConstraint): validated under ACCESS EXCLUSIVE",
                    *("djgc_constraints", "0004_pages_check", "djgc_constraints_book"),
                    *(BOOKS, EVERYTHING),
                    before="0003_add_editor_without_constraint",
                    scans=True,
                ),
            ],
        )

        # Safe: AddConstraintNotValid does not scan; ValidateConstraint scans without blocking.
        must(running.migrate("djgc_pgops", "0003_remove_index_concurrently"))
        _fill(url, ORDER_INSERT)
        answer = must(running.migrate("djgc_pgops", "0004_total_check_not_valid", notices=True))
        assert not verified(answer, order), notices_of(answer)
        write_buyer = "INSERT INTO djgc_pgops_buyer (name) VALUES ('b')"
        _observe(
            url,
            running,
            [
                Step(
                    "safe: ValidateConstraint scans under SHARE UPDATE EXCLUSIVE",
                    *("djgc_pgops", "0005_validate_total_check", order, ORDERS, NOTHING),
                    scans=True,
                ),
                Step(
                    "safe foreign key: NOT VALID, then VALIDATE: neither table's writes wait",
                    *("djgc_pgops", "0016_buyer_fk_validate", order),
                    {"write": ORDER_INSERT, "write referenced": write_buyer},
                    {"write": "ok", "write referenced": "ok"},
                    before="0015_buyer_fk_not_valid",
                ),
            ],
        )


def test_rewrites_and_scans(postgres_db: str) -> None:
    url = postgres_db
    with probe(corpus_env(url)) as running:
        must(running.migrate("djgc_types", "0001_initial"))
        with connect(url, autocommit=True) as conn:
            for i in range(50):
                conn.execute(
                    "INSERT INTO djgc_types_product "
                    "(code, title, price, qty, label, sku, ref, stock) "
                    "VALUES (%s, 't', 1.5, 1, 'label', 's', 'r', 1)",
                    [f"c{i}"],
                )
        table = "djgc_types_product"
        # Safe: binary-compatible type changes neither rewrite nor scan.
        for target in ("0002_widen_code", "0003_code_to_text", "0004_price_precision"):
            answer = must(running.migrate("djgc_types", target, notices=True))
            assert not rewrote(answer, table), (target, notices_of(answer))
            assert not verified(answer, table), (target, notices_of(answer))

        # DJG208: integer -> bigint rewrites the table, under ACCESS EXCLUSIVE.
        seen, answer = while_migrating(
            url,
            running,
            "djgc_types",
            "0005_qty_bigint",
            hold=table,
            attempts={"read": f"SELECT count(*) FROM {table}"},
            notices=True,
        )
        assert seen == {"read": "blocked"}
        assert rewrote(answer, table), notices_of(answer)
        answer = must(running.migrate("djgc_types", "0006_shrink_label", notices=True))
        assert rewrote(answer, table), notices_of(answer)

        # DJG210: SET NOT NULL scans the table.
        answer = must(running.migrate("djgc_types", "0007_sku_not_null", notices=True))
        assert verified(answer, table), notices_of(answer)

        # varchar -> text on an indexed column: Django >= 5.2 re-creates its _like index
        # (DJG211); older versions drop it without re-creating it (DJG212).
        answer = must(running.migrate("djgc_types", "0008_ref_to_text", notices=True))
        if django.VERSION >= (5, 2):
            assert any("_like" in n for n in built_index(answer)), notices_of(answer)
        else:
            with connect(url) as conn:
                indexes = [
                    r[0]
                    for r in conn.execute(
                        "SELECT indexname FROM pg_indexes WHERE tablename = %s", [table]
                    )
                ]
            assert not [i for i in indexes if i.endswith("_like") and "ref" in i], indexes

        # Safe SET NOT NULL (PostgreSQL >= 12): a validated CHECK spares the scan.
        must(running.migrate("djgc_pgops", "0007_validate_email_check"))
        _fill(url, ORDER_INSERT)
        answer = must(running.migrate("djgc_pgops", "0008_email_required", notices=True))
        notices = notices_of(answer)
        assert not verified(answer, "djgc_pgops_order"), notices
        assert any("sufficient to prove that it does not contain nulls" in n for n in notices), (
            notices
        )

        # DJG209: a collation change rebuilds the column's index (and only then).
        answer = must(running.migrate("djgc_pgops", "0009_note_collation", notices=True))
        assert built_index(answer) == [], notices_of(answer)
        answer = must(running.migrate("djgc_pgops", "0010_code_collation", notices=True))
        assert any("djgc_pgops_order_code" in n for n in built_index(answer)), notices_of(answer)

        # DJG210 again, without the CHECK: the scan is back.
        answer = must(running.migrate("djgc_pgops", "0012_placed_required", notices=True))
        assert verified(answer, "djgc_pgops_order"), notices_of(answer)


@pytest.mark.skipif(django.VERSION < (5, 0), reason="db_default and GeneratedField need Django 5.0")
def test_database_defaults(postgres_db: str) -> None:
    url = postgres_db
    table = "djgc_dbdefault_flag"
    with probe(corpus_env(url)) as running:
        must(running.migrate("djgc_dbdefault", "0001_initial"))
        _fill(url, f"INSERT INTO {table} (name) VALUES ('f')", rows=20)
        # Safe: a constant db_default: no rewrite, and old code's INSERT still works.
        answer = must(running.migrate("djgc_dbdefault", "0002_add_with_db_default", notices=True))
        assert not rewrote(answer, table), notices_of(answer)
        assert attempt(url, f"INSERT INTO {table} (name) VALUES ('old code')") == "ok"
        # DJG201: db_default=None is no default: the column cannot even be added to rows.
        answer = running.migrate("djgc_dbdefault", "0003_db_default_none")
        assert not answer["ok"]
        assert "null value" in answer["error"], answer
        must(running.migrate("djgc_dbdefault", "0003_db_default_none", fake=True))
        with connect(url, autocommit=True) as conn:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN level integer NULL")
        # DJG202: a volatile default rewrites, a stable one does not, a stored
        # generated column does.
        answer = must(running.migrate("djgc_dbdefault", "0004_volatile_default", notices=True))
        assert rewrote(answer, table), notices_of(answer)
        answer = must(running.migrate("djgc_dbdefault", "0005_stable_default", notices=True))
        assert not rewrote(answer, table), notices_of(answer)
        answer = must(running.migrate("djgc_dbdefault", "0006_generated_column", notices=True))
        assert rewrote(answer, table), notices_of(answer)


def test_data_migration_holds_the_schema_lock(postgres_db: str) -> None:
    """DJG216: a RunPython after AddField in one atomic migration keeps ACCESS EXCLUSIVE."""
    url = postgres_db
    key = 424242
    table = "djgc_code_ticket"
    attempts = {
        "read": f"SELECT count(*) FROM {table}",
        "write": f"INSERT INTO {table} (title, status) VALUES ('t', 'open')",
    }
    with probe(corpus_env(url, extra={"DJGC_BACKFILL_LOCK": str(key)})) as running:
        must(running.migrate("djgc_code", "0006_runsql_reversible"))
        _fill(url, f"INSERT INTO {table} (title, status) VALUES ('t', 'open')", rows=20)
        for target, expected in (
            ("0007_schema_then_data", {"read": "blocked", "write": "blocked"}),
            ("0008_data_alone", {"read": "ok", "write": "ok"}),
        ):
            holder = connect(url, autocommit=True)
            try:
                holder.execute("SELECT pg_advisory_lock(%s)", [key])
                running.send("djgc_code", target)
                wait_until_waiting(url, running.application_name)  # parked inside RunPython
                seen = {name: attempt(url, sql) for name, sql in attempts.items()}
            finally:
                holder.execute("SELECT pg_advisory_unlock(%s)", [key])
                holder.close()
            must(running.receive())
            assert seen == expected, target


def test_old_code_breaks_where_the_gate_says(postgres_db: str) -> None:
    """The compatibility rules (DJG201, DJG203-DJG207, and DJG217/DJG218 for the column
    they rename or drop) on PostgreSQL: the previous release's queries fail after the
    unsafe migration and work after the safe one."""
    import psycopg

    url = postgres_db
    steps = [
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
    steps += [
        (
            "djgc_rawsql",
            "0003_drop_what_the_state_forgot",
            "SELECT id, name FROM djgc_rawsql_shelf",
            False,
        ),
        ("djgc_rawsql", "0004_rename_name_in_sql", "SELECT id, name FROM djgc_rawsql_shelf", True),
        ("djgc_rawsql", "0005_drop_crate_in_sql", "SELECT code FROM djgc_rawsql_crate", True),
        ("djgc_rawsql", "0006_box_labels", "SELECT label_id FROM djgc_rawsql_box_marks", False),
        (
            "djgc_rawsql",
            "0007_marks_to_stickers",
            "SELECT label_id FROM djgc_rawsql_box_marks",
            True,
        ),
        (
            "djgc_code",
            "0010_runpython_uses_library_helpers",
            "SELECT priority FROM djgc_code_ticket",
            False,
        ),
        (
            "djgc_code",
            "0011_runpython_changes_schema",
            "SELECT priority FROM djgc_code_ticket",
            True,
        ),
    ]
    with probe(corpus_env(url)) as running:
        must(running.migrate("djgc_columns", "0001_initial"))
        must(running.migrate("djgc_tables", "0001_initial"))
        must(running.migrate("auth"))  # djgc_code 0010 reads auth's groups
        with connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO djgc_columns_customer (name) VALUES ('existing')")
        for app, target, statement, breaks in steps:
            must(running.migrate(app, target))
            with connect(url, autocommit=True) as conn:
                try:
                    conn.execute(statement)
                    broke = False
                except psycopg.Error:
                    broke = True
            assert broke is breaks, (target, statement)
