"""Asking the database's planner how it reads each table of a statement, and what indexes exist.

* PostgreSQL: ``EXPLAIN (FORMAT JSON)`` with ``SET LOCAL enable_seqscan = off``
  inside a savepoint that is rolled back. Sequential scans are then priced out:
  a ``Seq Scan`` that survives means no index can serve the read at all, and an
  ``Index Scan`` without an ``Index Cond`` is a full walk of some index (it
  serves an order, not a filter). An index scan (plain, index-only, or the one
  ``Bitmap Index Scan`` under a ``Bitmap Heap Scan``) whose ``Index Cond`` leaves
  the index's leading column free (``number = ?`` on a unique constraint of
  ``(series, number)``) reads every leaf page of that index: not served either
  (:meth:`Plan.free_leading`).
* SQLite: ``EXPLAIN QUERY PLAN``: ``SEARCH t USING [COVERING] INDEX i (c=?)``
  or ``... PRIMARY KEY`` is served; ``SCAN t`` is a full scan, ``SCAN t USING
  INDEX i`` a full walk of an index; ``USING AUTOMATIC ... INDEX`` is an index
  SQLite builds for this one statement because none exists.

Both report ``sorted`` when the plan sorts rows (``Sort`` / ``USE TEMP B-TREE
FOR ORDER BY``). :func:`indexes_of` lists a table's indexes: their columns in
order (``None`` for an expression) and whether they are partial.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

SERVED = "served"  # an index narrows the rows read (Index Cond, SEARCH ... USING INDEX)
FULL = "full"  # every row is read: Seq Scan, SCAN t, an AUTOMATIC index
WALK = "walk"  # every row is read in the order of an index (no condition on it)


class ExplainError(Exception):
    """The database could not explain a statement."""


@dataclass
class Plan:
    access: dict[str, str] = field(default_factory=dict)  # alias -> SERVED | FULL | WALK
    sorted: bool = False
    index: dict[str, str] = field(default_factory=dict)  # alias -> the index it read
    cond: dict[str, str] = field(default_factory=dict)  # alias -> PostgreSQL's Index Cond

    def served(self, alias: str, indexes: list[Index]) -> bool:
        """The read of ``alias`` is narrowed by an index: a search on it, or the walk of a
        partial index (its condition did the filtering: PostgreSQL then shows no Index
        Cond). A PostgreSQL Index Cond that leaves the index's first column free walks the
        whole index (``city = ?`` on an index of (country, city)): not served."""
        access = self.access.get(alias)
        if access == WALK:
            used = self._used(alias, indexes)
            return used is not None and used.partial
        if access != SERVED:
            return False
        return self.free_leading(alias, indexes) is None

    def free_leading(self, alias: str, indexes: list[Index]) -> Index | None:
        """The index PostgreSQL searched for ``alias`` with an Index Cond that leaves its
        leading column free (``number = ?`` on an index of (series, number)), if so: a
        full index scan, every leaf page read to find the matching entries."""
        if self.access.get(alias) != SERVED:
            return None
        used = self._used(alias, indexes)
        cond = self.cond.get(alias)
        if used is None or cond is None or not used.columns or used.columns[0] is None:
            return None
        return None if _mentions(cond, used.columns[0]) else used

    def _used(self, alias: str, indexes: list[Index]) -> Index | None:
        return next((i for i in indexes if i.name == self.index.get(alias)), None)


def _mentions(cond: str, column: str) -> bool:
    """``column`` appears in the condition text as an identifier (bare or quoted)."""
    name = re.escape(column)
    return re.search(rf'(?<![\w$"])(?:{name}|"{name}")(?![\w$"])', cond) is not None


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str | None, ...]  # None: an expression
    partial: bool

    def leads_with(self, column: str) -> bool:
        return bool(self.columns) and self.columns[0] == column


def explain(connection: Any, sql: str, params: Any, tables: Mapping[str, str]) -> Plan:
    """The plan of ``sql`` with ``params`` on ``connection`` (a Django connection)."""
    vendor = connection.vendor
    try:
        if vendor == "postgresql":
            return _postgresql(connection, sql, params, tables)
        if vendor == "sqlite":
            return _sqlite(connection, sql, params, tables)
    except ExplainError:
        raise
    except Exception as exc:
        raise ExplainError(f"{type(exc).__name__}: {exc}".strip()) from exc
    raise ExplainError(f"the {vendor} backend is not supported (PostgreSQL and SQLite are)")


def _assign(
    plan: Plan,
    name: str,
    access: str,
    tables: Mapping[str, str],
    index: str | None = None,
    cond: str | None = None,
) -> None:
    """Record ``access`` for the alias ``name`` (or the single alias of table ``name``)."""
    alias = name
    if alias not in tables:
        aliases = [a for a, t in tables.items() if t == name]
        if len(aliases) != 1:
            return
        alias = aliases[0]
    # A table read twice in one plan: the worst reading counts.
    rank = {SERVED: 0, WALK: 1, FULL: 2}
    if rank[access] >= rank.get(plan.access.get(alias, SERVED), 0):
        plan.access[alias] = access
        plan.index.pop(alias, None)
        plan.cond.pop(alias, None)
        if index:
            plan.index[alias] = index
        if cond:
            plan.cond[alias] = cond


# ---------------------------------------------------------------------- PostgreSQL


def _postgresql(connection: Any, sql: str, params: Any, tables: Mapping[str, str]) -> Plan:
    from django.db import transaction

    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            row = cursor.fetchone()
        transaction.set_rollback(True, using=connection.alias)
    data = row[0]
    if isinstance(data, str):
        data = json.loads(data)
    return pg_plan(data, tables)


def pg_plan(data: Any, tables: Mapping[str, str]) -> Plan:
    """The :class:`Plan` of PostgreSQL's ``EXPLAIN (FORMAT JSON)`` output ``data``."""
    plan = Plan()
    for node in _pg_nodes(data[0]["Plan"]):
        kind = node.get("Node Type", "")
        if kind in ("Sort", "Incremental Sort"):
            plan.sorted = True
        relation = node.get("Relation Name")
        if relation is None:
            continue
        name = node.get("Alias") or relation
        if kind == "Seq Scan":
            _assign(plan, name, FULL, tables)
        elif kind in ("Index Scan", "Index Only Scan"):
            cond = node.get("Index Cond")
            access = SERVED if cond else WALK
            _assign(plan, name, access, tables, node.get("Index Name"), cond)
        elif kind == "Bitmap Heap Scan":
            # The index it searched, when one alone built the bitmap (no BitmapAnd /
            # BitmapOr): its Index Cond tells whether the leading column narrowed it.
            scans = [n for n in _pg_nodes(node) if n.get("Node Type") == "Bitmap Index Scan"]
            if len(scans) == 1:
                scan = scans[0]
                index, cond = scan.get("Index Name"), scan.get("Index Cond")
                _assign(plan, name, SERVED, tables, index, cond)
            else:
                _assign(plan, name, SERVED, tables)
        # other relation scans (Tid Scan, Sample Scan, ...) say nothing about indexes
    return plan


def _pg_nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans", ()) or ():
        yield from _pg_nodes(child)


# -------------------------------------------------------------------------- SQLite

_SQLITE_ROW = re.compile(
    r"^(?P<op>SCAN|SEARCH)\s+(?:TABLE\s+)?(?P<name>\S+)(?:\s+AS\s+(?P<alias>\S+))?"
    r"(?:\s+USING\s+(?P<using>.*))?$"
)
_SQLITE_INDEX = re.compile(r"\bINDEX\s+(\S+)")


def _sqlite(connection: Any, sql: str, params: Any, tables: Mapping[str, str]) -> Plan:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        rows = cursor.fetchall()
    plan = Plan()
    for row in rows:
        detail = str(row[-1]).strip()
        if detail.startswith("USE TEMP B-TREE FOR") and "ORDER BY" in detail:
            plan.sorted = True
            continue
        match = _SQLITE_ROW.match(detail)
        if match is None:
            continue
        name = match.group("alias") or match.group("name")
        using = (match.group("using") or "").upper()
        if "AUTOMATIC" in using or not using:
            access = FULL
        elif match.group("op") == "SEARCH":
            access = SERVED
        else:
            access = WALK  # SCAN t USING [COVERING] INDEX i: the whole index, in order
        index = _SQLITE_INDEX.search(match.group("using") or "")
        _assign(plan, name, access, tables, index.group(1) if index else None)
    return plan


# ------------------------------------------------------------------------- indexes


def indexes_of(connection: Any, table: str) -> list[Index]:
    """Every index of ``table`` (primary key and unique constraints included)."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(
                """
                SELECT c.relname, i.indpred IS NOT NULL,
                       ARRAY(SELECT a.attname
                             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                             LEFT JOIN pg_attribute a
                               ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                             ORDER BY k.ord)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = to_regclass(%s)
                """,
                [connection.ops.quote_name(table)],
            )
            return [
                Index(name, tuple(col for col in columns), bool(partial))
                for name, partial, columns in cursor.fetchall()
            ]
        if vendor == "sqlite":
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"PRAGMA index_list({quoted})")
            found = []
            for row in cursor.fetchall():
                name, partial = row[1], bool(row[4]) if len(row) > 4 else False
                cursor.execute(f"PRAGMA index_info({connection.ops.quote_name(name)})")
                columns = tuple(r[2] for r in sorted(cursor.fetchall()))
                found.append(Index(name, columns, partial))
            cursor.execute(f"PRAGMA table_info({quoted})")
            for row in cursor.fetchall():
                if row[5] == 1 and str(row[2]).upper() == "INTEGER":  # the rowid alias
                    found.append(Index("<rowid>", (row[1],), False))
            return found
    raise ExplainError(f"the {vendor} backend is not supported (PostgreSQL and SQLite are)")
