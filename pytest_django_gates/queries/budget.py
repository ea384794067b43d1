"""Query budgets: the ``query_budget`` marker and the ``query_budget`` fixture."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from pytest_django_gates.markers import check_limit, normalize_using
from pytest_django_gates.queries import sql
from pytest_django_gates.queries.capture import QueryEvent, Recorder, start, stop
from pytest_django_gates.queries.stack import relative

CODE = "DJG102"
_LISTED = 20


class QueryBudgetExceeded(AssertionError):
    """More queries ran than the budget allows."""


def counted(events: Sequence[QueryEvent], using: frozenset[str] | None = None) -> list[QueryEvent]:
    """Events that count against a budget: no transaction control, only ``using`` aliases."""
    return [
        e
        for e in events
        if not sql.is_transaction_control(e.sql) and (using is None or e.alias in using)
    ]


def describe_aliases(using: frozenset[str] | None) -> str:
    if using is None:
        return "all databases"
    return ", ".join(sorted(using))


def exceeded_message(
    limit: int, events: Sequence[QueryEvent], using: frozenset[str] | None, root: Path, what: str
) -> str:
    ran = len(events)
    lines = [
        f"query budget exceeded {what}: expected at most {limit} "
        f"quer{'y' if limit == 1 else 'ies'} on {describe_aliases(using)}, ran {ran} "
        f"(+{ran - limit})"
    ]
    for i, event in enumerate(events[:_LISTED], 1):
        frame = event.site.innermost
        where = f"{relative(frame[0], root)}:{frame[1]}" if frame else "?"
        alias = "" if event.alias == "default" else f"[{event.alias}] "
        lines.append(f"  {i:>2}. {alias}{sql.short(event.sql, 200)}  ({where})")
    if ran > _LISTED:
        lines.append(f"  ... and {ran - _LISTED} more")
    lines.append(
        "next step: remove the extra queries (select_related / prefetch_related / bulk "
        "operations), or raise the budget if the new queries are intended"
    )
    return "\n".join(lines)


class BudgetBlock:
    """``with query_budget(3):`` — at most 3 queries may run inside the block.

    The block object exposes what ran: ``.queries`` (SQL strings) and
    ``.count``. On exit without an exception it raises
    :class:`QueryBudgetExceeded` when the budget is exceeded.
    """

    def __init__(self, limit: int, using: frozenset[str] | None, root: Path) -> None:
        self.limit = limit
        self.using = using
        self._root = root
        self._recorder = Recorder(using)

    @property
    def events(self) -> list[QueryEvent]:
        return counted(self._recorder.events, self.using)

    @property
    def queries(self) -> list[str]:
        return [e.sql for e in self.events]

    @property
    def count(self) -> int:
        return len(self.events)

    def __enter__(self) -> BudgetBlock:
        start(self._recorder)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        __tracebackhide__ = True
        stop(self._recorder)
        if exc_type is None and self.count > self.limit:
            raise QueryBudgetExceeded(
                exceeded_message(self.limit, self.events, self.using, self._root, "in block")
            )


class QueryBudget:
    """The ``query_budget`` fixture: call it to get a budgeted block."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def __call__(self, n: int, *, using: str | Sequence[str] | None = None) -> BudgetBlock:
        limit = check_limit(n, "query_budget()")
        return BudgetBlock(limit, normalize_using(using, "query_budget()"), self._root)
