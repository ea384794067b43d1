"""Marker signatures and their validation.

Markers are registered (with these signatures) whether or not
``--django-gates`` is given, and validated at collection, so a wrong argument
is a usage error naming the test, the marker and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

MARKERS = (
    "query_budget(n, *, using=None): the test body may run at most n database queries "
    "(using: an alias or a list of aliases; default every database). "
    "Enforced under --django-gates.",
    "allow_n_plus_one(*, reason): this test's N+1 queries are accepted; the reason is "
    "required and shown in the report.",
)


def normalize_using(using: object, where: str) -> frozenset[str] | None:
    """``using`` of a budget: None (all aliases), an alias, or a list of aliases."""
    if using is None:
        return None
    if isinstance(using, str) and using:
        return frozenset({using})
    if (
        isinstance(using, (list, tuple, set, frozenset))
        and using
        and all(isinstance(a, str) and a for a in using)
    ):
        return frozenset(using)
    raise ValueError(
        f"{where}: using={using!r} is not allowed; give a database alias, "
        "a list of aliases, or leave it out to count every database"
    )


def check_limit(n: object, where: str) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"{where}: the budget must be a whole number >= 0, got {n!r}")
    return n


@dataclass(frozen=True)
class QueryMarks:
    budget: int | None
    using: frozenset[str] | None
    allow_reason: str | None


QUERY_MARKS = pytest.StashKey[QueryMarks]()


def query_marks(item: pytest.Item) -> QueryMarks:
    """The validated query markers of ``item``, read once and kept in its stash.

    Raises :class:`pytest.UsageError` on a wrong argument.
    """
    cached = item.stash.get(QUERY_MARKS, None)
    if cached is not None:
        return cached
    marks = _read_query_marks(item)
    item.stash[QUERY_MARKS] = marks
    return marks


def _check_aliases(using: frozenset[str] | None, where: str) -> None:
    """``using`` names databases of ``settings.DATABASES`` (checked once Django is set up)."""
    if not using:
        return
    from django.conf import settings

    if not settings.configured:
        return
    known = list(getattr(settings, "DATABASES", {}) or {})
    unknown = sorted(using - set(known))
    if unknown:
        raise pytest.UsageError(
            f"{where}: using={', '.join(repr(u) for u in unknown)}: no such database alias; "
            f"allowed: {', '.join(repr(k) for k in known)}"
        )


def _read_query_marks(item: pytest.Item) -> QueryMarks:
    budget: int | None = None
    using: frozenset[str] | None = None
    allow_reason: str | None = None
    mark = item.get_closest_marker("query_budget")
    if mark is not None:
        where = f"{item.nodeid}: @pytest.mark.query_budget"
        unknown = set(mark.kwargs) - {"n", "using"}
        if unknown:
            raise pytest.UsageError(
                f"{where}: unknown argument(s) {', '.join(sorted(unknown))}; "
                "the signature is query_budget(n, *, using=None)"
            )
        args = list(mark.args)
        if "n" in mark.kwargs:
            args.insert(0, mark.kwargs["n"])
        if len(args) != 1:
            raise pytest.UsageError(
                f"{where}: expected exactly one budget, e.g. query_budget(3), got {len(args)}"
            )
        try:
            budget = check_limit(args[0], where)
            using = normalize_using(mark.kwargs.get("using"), where)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        _check_aliases(using, where)
    mark = item.get_closest_marker("allow_n_plus_one")
    if mark is not None:
        where = f"{item.nodeid}: @pytest.mark.allow_n_plus_one"
        reason = mark.kwargs.get("reason", mark.args[0] if len(mark.args) == 1 else None)
        unknown = set(mark.kwargs) - {"reason"}
        if unknown or len(mark.args) > 1 or not isinstance(reason, str) or not reason.strip():
            raise pytest.UsageError(
                f"{where}: give a non-empty reason, e.g. "
                "allow_n_plus_one(reason='admin export, bounded to 10 rows')"
            )
        allow_reason = reason.strip()
    return QueryMarks(budget=budget, using=using, allow_reason=allow_reason)
