"""From a statement, its plan and the table's indexes to the missing index, if one is missing.

Three codes, each about one table of a project app (never Django's or a
third-party app's, never a small table: :data:`SMALL_TABLE_ATTR` or
``indexes.small_tables``):

* ``DJG120``: a WHERE predicate on the table's own columns that no index
  serves: the planner reads every row (``Seq Scan`` with sequential scans
  priced out, ``SCAN t``) to filter them, or every entry of an index whose
  leading column the predicates leave free (PostgreSQL's ``Index Cond:
  (number = ...)`` on a unique constraint of ``(series, number)``: a full index
  scan; the message says so, with PostgreSQL 18's skip scan, cheap only for a
  leading column of few distinct values);
* ``DJG121``: a join into the table on a column with no index, in a statement
  that filters another table: each joined row is found by scanning the table;
* ``DJG122``: ``ORDER BY`` columns with ``LIMIT`` and no filter: the whole table
  is read and sorted to return the first rows (an index in that order reads
  only them).

Before a finding is made, the table's own index list is read: when an index
(not partial) already starts with the column, there is no finding whatever
the plan said. Primary keys, unique constraints and foreign keys (which Django
indexes) are indexes there; a partial index counts only where the planner used
it.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pytest_django_gates.indexes.plan import FULL, SERVED, WALK, Index, Plan
from pytest_django_gates.indexes.statement import Predicate, Statement

FILTER_CODE = "DJG120"
JOIN_CODE = "DJG121"
ORDER_CODE = "DJG122"

# ``django_gates_small_table = True`` on a model class: a deliberately small table
# (a lookup list, configuration rows) that is read whole; no finding for it.
SMALL_TABLE_ATTR = "django_gates_small_table"


@dataclass(frozen=True)
class Missing:
    """One missing index: on ``model``'s ``fields`` (in index order)."""

    code: str
    table: str
    model: Any  # the model class
    columns: tuple[str, ...]
    fields: tuple[str, ...]  # field names, "-name" for descending order
    why: str  # what the statement does with them
    note: str = ""  # what the plan did instead, when that needs saying (a full index scan)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.code, self.table, tuple(f.lstrip("-") for f in self.fields))


class Models:
    """The project's models by table, and the columns of their concrete fields."""

    def __init__(self, labels: frozenset[str], small: Sequence[str]) -> None:
        from django.apps import apps

        self.by_table: dict[str, Any] = {}
        self.small: set[str] = set()
        wanted = {s.lower() for s in small}
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if meta.app_label not in labels or not meta.managed or meta.proxy:
                continue
            self.by_table[meta.db_table] = model
            if getattr(model, SMALL_TABLE_ATTR, False) or meta.label_lower in wanted:
                self.small.add(meta.db_table)

    def model(self, table: str) -> Any | None:
        if table in self.small:
            return None
        return self.by_table.get(table)


def field_of(model: Any, column: str) -> Any | None:
    for f in model._meta.concrete_fields:
        if f.column == column:
            return f
    return None


def _indexed(indexes: Sequence[Index], column: str) -> bool:
    return any(i.leads_with(column) and not i.partial for i in indexes)


def _is_boolean(field: Any) -> bool:
    return field.get_internal_type() in ("BooleanField", "NullBooleanField")


def judge(
    statement: Statement,
    plan: Plan,
    models: Models,
    indexes: Any,  # callable: table -> list[Index]
) -> list[Missing]:
    found: list[Missing] = []
    filtered = {p.column.alias for p in statement.predicates}
    for alias, table in statement.tables.items():
        model = models.model(table)
        access = plan.access.get(alias)
        if model is None or access is None or plan.served(alias, indexes(table)):
            continue
        preds = _judged_predicates(model, statement.predicates_of(alias))
        if preds:
            cols = _index_columns(preds)
            if not any(_indexed(indexes(table), c) for c in cols):
                ops = ", ".join(f"{p.column.column} {p.op}" for p in preds)
                m = _missing(FILTER_CODE, table, model, cols, f"filters on {ops}")
                walked = plan.free_leading(alias, indexes(table))
                if walked is not None:
                    m = replace(m, note=skip_scan_note(walked))
                found.append(m)
            continue
        if access != FULL or not (filtered - {alias}):
            continue
        join_cols = [c for c in statement.join_columns_of(alias) if field_of(model, c)]
        if join_cols and not any(_indexed(indexes(table), c) for c in join_cols):
            found.append(
                _missing(JOIN_CODE, table, model, (join_cols[0],), f"joins on {join_cols[0]}")
            )
    order = statement.order
    if (
        order
        and statement.limit
        and plan.sorted
        and not statement.predicates
        and len({o.column.alias for o in order}) == 1
    ):
        alias = order[0].column.alias
        table = statement.tables[alias]
        model = models.model(table)
        first_alias = next(iter(statement.tables))
        if (
            model is not None
            and alias == first_alias
            and plan.access.get(alias) in (FULL, WALK)
            and all(field_of(model, o.column.column) for o in order)
            and not _indexed(indexes(table), order[0].column.column)
        ):
            cols = tuple(o.column.column for o in order)
            m = _missing(ORDER_CODE, table, model, cols, "orders by it with LIMIT")
            names = tuple(
                ("-" if o.descending else "") + name
                for o, name in zip(order, m.fields, strict=True)
            )
            found.append(Missing(m.code, m.table, m.model, m.columns, names, m.why))
    return found


def skip_scan_note(index: Index) -> str:
    """What a full scan of ``index`` (no condition on its leading column) costs, and the
    PostgreSQL 18 caveat (a skip scan: cheap only for a leading column of few values)."""
    columns = ", ".join(c or "<expression>" for c in index.columns)
    lead = index.columns[0] or "<expression>"
    return (
        f"PostgreSQL scans the whole index {index.name} ({columns}): the query has no "
        f"condition on its leading column {lead}, so every leaf page is read; PostgreSQL "
        f"18+ may skip-scan it instead, which is cheap only when {lead} has few distinct "
        "values"
    )


def values_matter(statement: Statement, models: Models, indexes: Any) -> bool:
    """A partial index starts with a filtered column: whether it serves depends on the
    values (``status = 'draft'``), so each parameter set kept is explained."""
    for alias, table in statement.tables.items():
        if models.model(table) is None:
            continue
        columns = {p.column.column for p in statement.predicates_of(alias)}
        if any(i.partial and i.columns and i.columns[0] in columns for i in indexes(table)):
            return True
    return False


def _judged_predicates(model: Any, preds: Sequence[Predicate]) -> list[Predicate]:
    """Predicates on real, non-boolean columns of ``model`` (a boolean splits rows in two:
    an index on it alone is no fix; a partial index may be, and is for a person to judge)."""
    kept = []
    for p in preds:
        f = field_of(model, p.column.column)
        if f is not None and not _is_boolean(f) and p not in kept:
            kept.append(p)
    return kept


def _index_columns(preds: Sequence[Predicate]) -> tuple[str, ...]:
    """The index for the predicates: equality columns first, then one range column."""
    equal = [p.column.column for p in preds if p.equality]
    ranged = [p.column.column for p in preds if not p.equality]
    cols = list(dict.fromkeys(equal))
    if ranged and ranged[0] not in cols:
        cols.append(ranged[0])
    return tuple(cols)


def _missing(code: str, table: str, model: Any, cols: Sequence[str], why: str) -> Missing:
    names = tuple(_field_name(model, c) for c in cols)
    return Missing(code, table, model, tuple(cols), names, why)


def _field_name(model: Any, column: str) -> str:
    found = field_of(model, column)
    return str(found.name) if found is not None else column


def fix(missing: Missing, vendor: str, root: Path) -> str:
    """How to add the index, for the finding's hint."""
    model = missing.model
    name = model._meta.object_name
    where = _model_location(model, root)
    if len(missing.fields) == 1:
        field = missing.fields[0].lstrip("-")  # a B-tree index serves both directions
        how = f"add db_index=True to {name}.{field}{where}"
    else:
        listed = ", ".join(repr(f) for f in missing.fields)
        how = f"add models.Index(fields=[{listed}], name=...) to {name}.Meta.indexes{where}"
    how += ", then makemigrations"
    if vendor == "postgresql":
        how += (
            "; on a populated table build it without blocking writes: AddIndexConcurrently "
            "(django.contrib.postgres.operations) in a migration with atomic = False"
        )
    return how


def _model_location(model: Any, root: Path) -> str:
    try:
        filename = inspect.getsourcefile(model)
        _, line = inspect.getsourcelines(model)
    except (OSError, TypeError):
        return ""
    if not filename:
        return ""
    from pytest_django_gates.queries.stack import relative

    return f" ({relative(filename, root)}:{line})"


__all__ = ["FILTER_CODE", "FULL", "JOIN_CODE", "ORDER_CODE", "SERVED", "WALK", "judge"]
