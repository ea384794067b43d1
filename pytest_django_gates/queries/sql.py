"""SQL text helpers: the shape (fingerprint) of a query, and statement kinds."""

from __future__ import annotations

import re
from functools import lru_cache

_TX_CONTROL = re.compile(
    r"^\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|BEGIN|COMMIT|ROLLBACK|"
    r"START\s+TRANSACTION|END\b|SET\s+(LOCAL\s+|SESSION\s+)?(TRANSACTION|CONSTRAINTS))",
    re.IGNORECASE,
)
_SELECT = re.compile(r"^\s*(\(\s*)*(SELECT|WITH)\b", re.IGNORECASE)

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w\"$.])-?\d+(?:\.\d+)?(?![\w\"])")
_PLACEHOLDER = re.compile(r"%s|%\(\w+\)s|\?|\$\d+")
_IN_LIST = re.compile(r"\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.IGNORECASE)
_VALUES_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)(?:\s*,\s*\(\s*\?(?:\s*,\s*\?)*\s*\))+")
_SPACE = re.compile(r"\s+")
_LIMIT = re.compile(r"\bLIMIT\s+\?", re.IGNORECASE)


@lru_cache(maxsize=8192)
def is_transaction_control(sql: str) -> bool:
    """SAVEPOINT / RELEASE / BEGIN / COMMIT / ROLLBACK and friends: never counted."""
    return bool(_TX_CONTROL.match(sql))


# The first three letters of the statements ``_TX_CONTROL`` matches, as Django writes
# them (not "SEL": a SELECT is not looked at further).
_TX_FIRST = frozenset({"SAV", "REL", "ROL", "BEG", "COM", "STA", "END", "SET"})


def transaction_control(sql: object) -> bool:
    """:func:`is_transaction_control` for a statement about to run, not cached: each
    savepoint has a name of its own (``SAVEPOINT "s1407_x12"``), which would fill a
    cache. A statement that does not start with one of Django's upper-case words (raw
    SQL written ``  savepoint x``) answers False here and True there; the caller only
    skips work that every reader of the statement would skip anyway."""
    return type(sql) is str and sql[:3] in _TX_FIRST and _TX_CONTROL.match(sql) is not None


@lru_cache(maxsize=8192)
def is_select(sql: str) -> bool:
    return bool(_SELECT.match(sql))


@lru_cache(maxsize=8192)
def shape(sql: str) -> str:
    """The query with every literal and parameter replaced by ``?``.

    Two executions of the same ORM query with different values have the same
    shape; ``IN (%s, %s)`` lists of any length collapse to ``IN (...)``.
    LIMIT values are kept apart from other numbers (``LIMIT 21`` from ``.get()``
    and ``LIMIT 1`` from ``.first()`` are different shapes).
    """
    text = _SPACE.sub(" ", sql).strip()
    text = _STRING.sub("?", text)
    text = _PLACEHOLDER.sub("?", text)
    limit_values = re.findall(r"\bLIMIT\s+(\d+)", text, flags=re.IGNORECASE)
    text = _NUMBER.sub("?", text)
    for value in limit_values:
        text = _LIMIT.sub(f"LIMIT {value}", text, count=1)
    text = _IN_LIST.sub("IN (...)", text)
    return _VALUES_LIST.sub("(...), ...", text)


def short(sql: str, limit: int = 160) -> str:
    """A one-line, bounded rendering of a query shape for messages."""
    text = _SPACE.sub(" ", sql).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


_COLUMN = r'(?:"?\w+"?\.)?"?(\w+)"?'
# WHERE <col> > ? ORDER BY <col> LIMIT n: the next page of a keyset-paginated walk.
_KEYSET = re.compile(
    rf"\bWHERE\s+\(?\s*{_COLUMN}\s*[<>]=?\s*(?:%s|\?|\$\d+)\s*\)?\s+ORDER\s+BY\s+{_COLUMN}"
    r"(?:\s+(?:ASC|DESC))?\s+LIMIT\s+\d+\s*$",
    re.IGNORECASE,
)
_OFFSET = re.compile(r"\bLIMIT\s+\d+\s+OFFSET\s+\d+\s*$", re.IGNORECASE)


@lru_cache(maxsize=8192)
def page_kind(sql: str) -> str:
    """``keyset`` / ``offset`` when the statement reads one page of a batched walk
    (``filter(pk__gt=last).order_by("pk")[:n]``, ``qs[i:i + n]``), else ``""``."""
    keyset = _KEYSET.search(sql)
    if keyset and keyset.group(1) == keyset.group(2):
        return "keyset"
    if _OFFSET.search(sql):
        return "offset"
    return ""
