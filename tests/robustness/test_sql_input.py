"""The SQL readers fed arbitrary text: the query gate's normaliser (shape, statement
kinds, pages), the indexes gate's statement reader and the migrations gate's SQL
splitter. They read SQL from any database driver and raw queries: they must never raise."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from pytest_django_gates.indexes import statement
from pytest_django_gates.migrations import sqltext
from pytest_django_gates.queries import sql
from tests.robustness.support import in_process

_FRAGMENTS = [
    "SELECT", "select", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "(", ")", ",", "=", "<",
    ">=", "%s", "%(name)s", "?", "$1", "$$", "$tag$", "'", "''", '"', '""', "--", "/*", "*/",
    "\n", " ", "\t", "LIMIT", "OFFSET", "ORDER BY", "JOIN", "INNER JOIN", "LEFT OUTER JOIN",
    "ON", "AS", "VALUES", "INSERT INTO", "UPDATE", "SET", "DELETE", "CREATE INDEX",
    "CONCURRENTLY", "ALTER TABLE", "ADD COLUMN", "DROP", "RENAME", ";", "1", "-2", "3.5",
    '"t"."c"', '"tab"', "\u00e9l\u00e8ve", '"\u6f22\u5b57"', "\u0660", "\x00", "\ud800",
    "BETWEEN", "IS NULL", "::", "||", "E'\\''", "WITH", "UNION", "RETURNING", "BEGIN",
    "SAVEPOINT", "\u2028", "\u00a0",
]  # fmt: skip

sql_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map(" ".join),
    st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join),
)


@in_process(25)
@given(text=sql_texts)
@example(text='SELECT $$ \' $$ FROM "t" WHERE "t"."c" = %s')
@example(text="/* unterminated")
@example(text="'")
@example(text='SELECT "" FROM "t"')
@example(text="\ud800")
def test_sql_readers_never_raise(text: str) -> None:
    assert isinstance(sql.shape(text), str)
    sql.is_select(text)
    if sql.transaction_control(text):  # the capture's quick test never says more
        assert sql.is_transaction_control(text)
    sql.page_kind(text)
    sql.short(text)
    statement.parse(text)
    for stmt in sqltext.split_sql(text):
        sqltext.create_index(stmt)
        sqltext.drop_index(stmt)
        sqltext.alter_table(stmt)
        sqltext.added_constraint(stmt)
        sqltext.sets_not_null(stmt)
        sqltext.validates_constraint(stmt)
        sqltext.writes_rows(stmt)
        sqltext.locked_table(stmt)
        sqltext.cannot_run_in_transaction(stmt, 16)
        sqltext.dropped_columns(stmt)
        sqltext.dropped_tables(stmt)
        sqltext.renamed_column(stmt)
        sqltext.renamed_table(stmt)
        sqltext.set_default_columns(stmt)


@in_process(5)
@given(text=sql_texts)
def test_shape_is_stable(text: str) -> None:
    """The shape of a shape is itself: the normaliser is idempotent on its own output
    (otherwise one query could count as two shapes)."""
    once = sql.shape(text)
    assert sql.shape(once) == once
