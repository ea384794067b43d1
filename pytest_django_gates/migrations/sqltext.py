"""Reading the SQL of ``RunSQL`` operations: statements, and what each one does.

``RunSQL`` is the one operation whose database effect is only available as
text, so its statements are tokenized here (comments, string literals,
quoted identifiers and dollar-quoted bodies are understood) and classified by
their leading keywords. This never parses ``sqlmigrate`` output: every other
operation is inspected as an object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
LITERAL = "'"
"""The token that stands for any string literal."""


@dataclass(frozen=True)
class Statement:
    text: str
    """The statement with comments removed and whitespace collapsed."""
    tokens: tuple[str, ...]
    """Unquoted words upper-cased; quoted identifiers as ``"name``; literals as ``'``."""

    def starts(self, *words: str) -> bool:
        return self.tokens[: len(words)] == words

    def has(self, *words: str) -> bool:
        """Whether ``words`` occur consecutively anywhere in the statement."""
        n = len(words)
        return any(self.tokens[i : i + n] == words for i in range(len(self.tokens) - n + 1))

    def after(self, *words: str) -> int | None:
        """Index of the token following the first occurrence of ``words``."""
        n = len(words)
        for i in range(len(self.tokens) - n + 1):
            if self.tokens[i : i + n] == words:
                return i + n
        return None


def split_operation_sql(sql: Any) -> list[Statement]:
    """Statements of ``RunSQL.sql``: a string, or a list of strings / ``(sql, params)``."""
    if sql is None:
        return []
    if isinstance(sql, str):
        return split_sql(sql)
    statements: list[Statement] = []
    if isinstance(sql, (list, tuple)):
        for item in sql:
            if isinstance(item, (list, tuple)) and item:
                statements.extend(split_sql(str(item[0])))
            elif isinstance(item, str):
                statements.extend(split_sql(item))
    return statements


def split_sql(sql: str) -> list[Statement]:
    statements: list[Statement] = []
    tokens: list[str] = []
    text: list[str] = []
    i, n = 0, len(sql)

    def flush() -> None:
        if tokens:
            statements.append(Statement(" ".join("".join(text).split()), tuple(tokens)))
        tokens.clear()
        text.clear()

    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end + 1
            text.append(" ")
            continue
        if ch == "/" and sql.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            i = j
            text.append(" ")
            continue
        if ch == ";":
            flush()
            i += 1
            continue
        if ch.isspace():
            text.append(" ")
            i += 1
            continue
        if ch == "'":
            escapes = bool(tokens) and tokens[-1] in {"E"} and text and text[-1] in "eE"
            j = i + 1
            while j < n:
                if escapes and sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == "'":
                    if sql.startswith("''", j):
                        j += 2
                        continue
                    break
                j += 1
            if escapes:
                tokens.pop()
            tokens.append(LITERAL)
            text.append(sql[i : j + 1])
            i = j + 1
            continue
        if ch == '"':
            j = i + 1
            while j < n:
                if sql[j] == '"':
                    if sql.startswith('""', j):
                        j += 2
                        continue
                    break
                j += 1
            tokens.append('"' + sql[i + 1 : j].replace('""', '"'))
            text.append(sql[i : j + 1])
            i = j + 1
            continue
        if ch == "$":
            end_tag = sql.find("$", i + 1)
            tag = sql[i : end_tag + 1] if end_tag != -1 else ""
            if tag and all(c in _WORD_CHARS for c in tag[1:-1]) and not tag[1:2].isdigit():
                close = sql.find(tag, end_tag + 1)
                j = n if close == -1 else close + len(tag)
                tokens.append(LITERAL)
                text.append(sql[i:j])
                i = j
                continue
        if ch in _WORD_CHARS:
            j = i
            while j < n and sql[j] in _WORD_CHARS:
                j += 1
            word = sql[i:j]
            tokens.append(word.upper())
            text.append(word)
            i = j
            continue
        tokens.append(ch)
        text.append(ch)
        i += 1
    flush()
    return statements


def identifier(token: str) -> str:
    """A token as PostgreSQL sees the name: quoted kept, unquoted folded to lower case."""
    return token[1:] if token.startswith('"') else token.lower()


def _is_name(token: str) -> bool:
    return token.startswith('"') or (token[:1] in _WORD_CHARS and token != LITERAL)


def _qualified_name(tokens: Sequence[str], start: int) -> tuple[str | None, int]:
    """``schema.table`` (or ``table``) starting at ``start``: the table part and the next index."""
    i = start
    if i >= len(tokens) or not _is_name(tokens[i]):
        return None, i
    name = identifier(tokens[i])
    i += 1
    while i + 1 < len(tokens) and tokens[i] == "." and _is_name(tokens[i + 1]):
        name = identifier(tokens[i + 1])
        i += 2
    return name, i


def _skip(tokens: Sequence[str], i: int, *optional: tuple[str, ...]) -> int:
    changed = True
    while changed:
        changed = False
        for words in optional:
            if tuple(tokens[i : i + len(words)]) == words:
                i += len(words)
                changed = True
    return i


@dataclass(frozen=True)
class IndexStatement:
    concurrently: bool
    table: str | None
    unique: bool


def create_index(stmt: Statement) -> IndexStatement | None:
    """``CREATE [UNIQUE] INDEX [CONCURRENTLY] [[IF NOT EXISTS] name] ON [ONLY] table``."""
    tokens = stmt.tokens
    if not tokens or tokens[0] != "CREATE":
        return None
    i = 1
    unique = tokens[i : i + 1] == ("UNIQUE",)
    if unique:
        i += 1
    if tokens[i : i + 1] != ("INDEX",):
        return None
    i += 1
    concurrently = tokens[i : i + 1] == ("CONCURRENTLY",)
    on = stmt.after("ON")
    table = None
    if on is not None:
        table, _ = _qualified_name(tokens, _skip(tokens, on, ("ONLY",)))
    return IndexStatement(concurrently=concurrently, table=table, unique=unique)


def drop_index(stmt: Statement) -> bool | None:
    """``DROP INDEX``: whether it is ``CONCURRENTLY`` (``None``: not a DROP INDEX)."""
    if not stmt.starts("DROP", "INDEX"):
        return None
    return stmt.tokens[2:3] == ("CONCURRENTLY",)


def alter_table(stmt: Statement) -> str | None:
    """The table of an ``ALTER TABLE`` statement."""
    if not stmt.starts("ALTER", "TABLE"):
        return None
    i = _skip(stmt.tokens, 2, ("IF", "EXISTS"), ("ONLY",))
    table, _ = _qualified_name(stmt.tokens, i)
    return table


def added_constraint(stmt: Statement) -> str | None:
    """``"foreign key"`` / ``"check"`` for an ``ALTER TABLE ... ADD`` that validates
    a constraint (no ``NOT VALID``), else ``None``."""
    if alter_table(stmt) is None or stmt.has("NOT", "VALID"):
        return None
    if not stmt.has("ADD"):
        return None
    if stmt.has("FOREIGN", "KEY") or stmt.has("REFERENCES"):
        return "foreign key"
    if stmt.has("CHECK"):
        return "check"
    return None


def sets_not_null(stmt: Statement) -> bool:
    return alter_table(stmt) is not None and stmt.has("SET", "NOT", "NULL")


def validates_constraint(stmt: Statement) -> bool:
    return alter_table(stmt) is not None and stmt.has("VALIDATE", "CONSTRAINT")


def writes_rows(stmt: Statement) -> bool:
    """DML that changes rows (a data migration written in SQL)."""
    if not stmt.tokens:
        return False
    first = stmt.tokens[0]
    if first in {"UPDATE", "DELETE", "INSERT", "MERGE"}:
        return True
    if first == "COPY":
        return stmt.has("FROM")
    if first == "WITH":
        return any(t in {"UPDATE", "DELETE", "INSERT", "MERGE"} for t in stmt.tokens)
    return False


def updated_table(stmt: Statement) -> str | None:
    """The table an ``UPDATE t ...`` or ``DELETE FROM t ...`` writes rows of."""
    if stmt.starts("UPDATE"):
        start = 1
    elif stmt.starts("DELETE", "FROM"):
        start = 2
    else:
        return None
    table, _ = _qualified_name(stmt.tokens, _skip(stmt.tokens, start, ("ONLY",)))
    return table


def locked_table(stmt: Statement) -> str | None:
    """The table a DDL statement locks until the end of its transaction, if known."""
    table = alter_table(stmt)
    if table is not None:
        return table
    index = create_index(stmt)
    if index is not None and not index.concurrently:
        return index.table
    if stmt.starts("LOCK", "TABLE") or stmt.starts("LOCK"):
        i = _skip(stmt.tokens, 1, ("TABLE",), ("ONLY",))
        name, _ = _qualified_name(stmt.tokens, i)
        return name
    return None


def cannot_run_in_transaction(stmt: Statement, pg_version: int) -> str | None:
    """Why the statement fails inside a transaction block, or ``None``."""
    t = stmt.tokens
    index = create_index(stmt)
    if index is not None and index.concurrently:
        return "CREATE INDEX CONCURRENTLY"
    if stmt.starts("DROP", "INDEX", "CONCURRENTLY"):
        return "DROP INDEX CONCURRENTLY"
    if t[:1] == ("REINDEX",) and "CONCURRENTLY" in t:
        return "REINDEX CONCURRENTLY"
    if alter_table(stmt) is not None and stmt.has("DETACH", "PARTITION") and "CONCURRENTLY" in t:
        return "DETACH PARTITION CONCURRENTLY"
    if t[:1] == ("VACUUM",):
        return "VACUUM"
    for words in (
        ("CREATE", "DATABASE"),
        ("DROP", "DATABASE"),
        ("CREATE", "TABLESPACE"),
        ("DROP", "TABLESPACE"),
        ("ALTER", "SYSTEM"),
        ("CREATE", "SUBSCRIPTION"),
    ):
        if stmt.starts(*words):
            return " ".join(words)
    if t[:1] == ("CLUSTER",) and all(w in {"CLUSTER", "VERBOSE"} for w in t):
        return "CLUSTER without a table"
    if pg_version < 12 and stmt.starts("ALTER", "TYPE") and stmt.has("ADD", "VALUE"):
        return "ALTER TYPE ... ADD VALUE (before PostgreSQL 12)"
    return None


_NOT_A_COLUMN = frozenset({"CONSTRAINT", "DEFAULT", "NOT", "EXPRESSION", "IDENTITY"})


def dropped_columns(stmt: Statement) -> list[str]:
    """Columns an ``ALTER TABLE ... DROP [COLUMN] [IF EXISTS] name[, DROP ...]`` drops."""
    if alter_table(stmt) is None:
        return []
    tokens = stmt.tokens
    columns: list[str] = []
    for i, token in enumerate(tokens):
        if token != "DROP" or i + 1 >= len(tokens) or tokens[i + 1] in _NOT_A_COLUMN:
            continue
        j = _skip(tokens, i + 1, ("COLUMN",), ("IF", "EXISTS"))
        if j < len(tokens) and _is_name(tokens[j]):
            columns.append(identifier(tokens[j]))
    return columns


def dropped_tables(stmt: Statement) -> list[str]:
    """Tables a ``DROP TABLE [IF EXISTS] a[, b ...]`` drops."""
    if not stmt.starts("DROP", "TABLE"):
        return []
    tokens = stmt.tokens
    i = _skip(tokens, 2, ("IF", "EXISTS"))
    tables: list[str] = []
    while i < len(tokens):
        name, i = _qualified_name(tokens, i)
        if name is None:
            break
        tables.append(name)
        if tokens[i : i + 1] != (",",):
            break
        i += 1
    return tables


def renamed_column(stmt: Statement) -> tuple[str, str] | None:
    """(old, new) of ``ALTER TABLE t RENAME [COLUMN] old TO new``."""
    if alter_table(stmt) is None:
        return None
    at = stmt.after("RENAME")
    if at is None:
        return None
    tokens = stmt.tokens
    i = _skip(tokens, at, ("COLUMN",))
    if tokens[i : i + 1] in (("TO",), ("CONSTRAINT",)) or i + 2 >= len(tokens):
        return None
    if _is_name(tokens[i]) and tokens[i + 1] == "TO" and _is_name(tokens[i + 2]):
        return identifier(tokens[i]), identifier(tokens[i + 2])
    return None


def renamed_table(stmt: Statement) -> tuple[str, str] | None:
    """(old, new) of ``ALTER TABLE old RENAME TO new``."""
    table = alter_table(stmt)
    at = stmt.after("RENAME", "TO")
    if table is None or at is None:
        return None
    new, _ = _qualified_name(stmt.tokens, at)
    return (table, new) if new else None


_TYPE_ENDS = frozenset({"USING", "COLLATE", ";"})


def retyped_columns(stmt: Statement) -> list[tuple[str, str]]:
    """(column, new type) of each ``ALTER [COLUMN] c [SET DATA] TYPE t`` of an
    ``ALTER TABLE``; the type in lower case as PostgreSQL spells it in a column
    definition (``varchar(200)``, ``numeric(10,2)``, ``bigint``)."""
    if alter_table(stmt) is None:
        return []
    tokens = stmt.tokens
    found: list[tuple[str, str]] = []
    for i, token in enumerate(tokens):
        if token != "ALTER" or i == 0:
            continue
        j = _skip(tokens, i + 1, ("COLUMN",))
        if j >= len(tokens) or not _is_name(tokens[j]):
            continue
        k = _skip(tokens, j + 1, ("SET", "DATA"))
        if tokens[k : k + 1] != ("TYPE",):
            continue
        text = ""
        depth = 0
        for part in tokens[k + 1 :]:
            if depth == 0 and (part in _TYPE_ENDS or part == ","):
                break
            depth += (part == "(") - (part == ")")
            # A space between two words only ("double precision"), none around "(", ","
            # and ")" ("numeric(10,2)").
            word = _is_name(part) and text[-1:] not in ("", "(", ",")
            text += (" " if word else "") + (identifier(part).lower() if _is_name(part) else part)
        if text:
            found.append((identifier(tokens[j]), text))
    return found


def set_default_columns(stmt: Statement) -> list[str]:
    """Columns an ``ALTER TABLE t ALTER [COLUMN] c SET DEFAULT ...`` gives a default."""
    if alter_table(stmt) is None:
        return []
    tokens = stmt.tokens
    columns: list[str] = []
    for i, token in enumerate(tokens):
        if token != "ALTER" or i == 0:
            continue
        j = _skip(tokens, i + 1, ("COLUMN",))
        if (
            j + 2 < len(tokens)
            and _is_name(tokens[j])
            and tokens[j + 1 : j + 3]
            == (
                "SET",
                "DEFAULT",
            )
        ):
            columns.append(identifier(tokens[j]))
    return columns
