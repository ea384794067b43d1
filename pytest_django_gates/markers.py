"""Marker signatures and their validation.

Markers are registered (with these signatures) whether or not
``--django-gates`` is given, and validated at collection, so a wrong argument
is a usage error naming the test, the marker and what is allowed.
"""

from __future__ import annotations

import inspect
import unittest
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pytest

MARKERS = (
    "query_budget(n, *, using=None): the test body may run at most n database queries "
    "(using: an alias or a list of aliases; default every database). "
    "Enforced under --django-gates.",
    "allow_n_plus_one(*, reason): this test's N+1 queries are accepted; the reason is "
    "required and shown in the report.",
    "query_scaling(populate, *, scales=(2, 5)): run the test body after populate(2) and again "
    "after populate(5), each in its own rolled-back savepoint, and fail when a query shape runs "
    "more often with more data (populate: a callable taking the row count, a factory_boy "
    "factory, or the name of a fixture returning one; needs @pytest.mark.django_db without "
    "transaction=True). Enforced under --django-gates with the queries gate; else one plain run.",
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
class ScalingMark:
    """``query_scaling``: what builds the data, and the two sizes (smaller first)."""

    populate: str | Callable[..., object]  # a fixture name, or a callable / factory
    scales: tuple[int, int]


DEFAULT_SCALES = (2, 5)
SCALING_SIGNATURE = "query_scaling(populate, *, scales=(2, 5))"


@dataclass(frozen=True)
class QueryMarks:
    budget: int | None
    using: frozenset[str] | None
    allow_reason: str | None
    scaling: ScalingMark | None = None


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
        _reject_unknown(mark.kwargs, ("n", "using"), where, "query_budget(n, *, using=None)")
        args = _first_argument(mark, "n")
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
        _reject_unknown(mark.kwargs, ("reason",), where, "allow_n_plus_one(*, reason)")
        reason = mark.kwargs.get("reason", mark.args[0] if len(mark.args) == 1 else None)
        unknown = set(mark.kwargs) - {"reason"}
        if unknown or len(mark.args) > 1 or not isinstance(reason, str) or not reason.strip():
            raise pytest.UsageError(
                f"{where}: give a non-empty reason, e.g. "
                "allow_n_plus_one(reason='admin export, bounded to 10 rows')"
            )
        allow_reason = reason.strip()
    mark = item.get_closest_marker("query_scaling")
    scaling = None if mark is None else _read_scaling(item, mark)
    return QueryMarks(budget=budget, using=using, allow_reason=allow_reason, scaling=scaling)


def _reject_unknown(
    kwargs: Iterable[str], allowed: tuple[str, ...], where: str, signature: str
) -> None:
    unknown = set(kwargs) - set(allowed)
    if unknown:
        raise pytest.UsageError(
            f"{where}: unknown argument(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(allowed)} (the signature is {signature})"
        )


def _first_argument(mark: pytest.Mark, name: str) -> list[object]:
    """The positional arguments, with the first one given by keyword (``name=``) put first."""
    args = list(mark.args)
    if name in mark.kwargs:
        args.insert(0, mark.kwargs[name])
    return args


def _read_scaling(item: pytest.Item, mark: pytest.Mark) -> ScalingMark:
    """``query_scaling``'s arguments, and a test it can run twice and roll back twice."""
    where = f"{item.nodeid}: @pytest.mark.query_scaling"
    _reject_unknown(mark.kwargs, ("populate", "scales"), where, SCALING_SIGNATURE)
    args = _first_argument(mark, "populate")
    if len(args) != 1:
        raise pytest.UsageError(
            f"{where}: expected exactly one populate argument, got {len(args)}; "
            f"the signature is {SCALING_SIGNATURE}"
        )
    populate = args[0]
    if not callable(populate) and not (isinstance(populate, str) and populate.isidentifier()):
        raise pytest.UsageError(
            f"{where}: populate={populate!r} is not allowed; give a callable taking the row "
            "count n, a factory_boy factory, or the name of a fixture that returns one"
        )
    scales = mark.kwargs.get("scales", DEFAULT_SCALES)
    if not (
        isinstance(scales, (tuple, list))
        and len(scales) == 2
        and all(isinstance(s, int) and not isinstance(s, bool) for s in scales)
        and 1 <= scales[0] < scales[1]
    ):
        raise pytest.UsageError(
            f"{where}: scales={scales!r} is not allowed; give two row counts >= 1, "
            "the smaller first, e.g. scales=(2, 5)"
        )
    problem = _unscalable(item)
    if problem:
        raise pytest.UsageError(f"{where}: {problem}")
    return ScalingMark(populate=populate, scales=(scales[0], scales[1]))


def _unscalable(item: pytest.Item) -> str | None:
    """Why the test body cannot be run twice in rolled-back savepoints, or None."""
    if not isinstance(item, pytest.Function):
        return "only test functions can be run at two scales"
    if inspect.iscoroutinefunction(item.obj) or inspect.isasyncgenfunction(item.obj):
        return (
            "async tests are not supported: their queries run on another thread's connection, "
            "outside the savepoint of each scale; write a sync test and call the async code "
            "with asgiref's async_to_sync (AsyncClient too)"
        )
    if isinstance(item.cls, type) and issubclass(item.cls, unittest.TestCase):
        return (
            "unittest-style tests are not supported (their setUp/tearDown run once); "
            "write a pytest function with @pytest.mark.django_db"
        )
    db = item.get_closest_marker("django_db")
    transactional = db is not None and bool(
        db.kwargs.get("transaction", db.args[0] if db.args else False)
    )
    fixtures = {"transactional_db", "live_server", "django_db_reset_sequences"}
    used = sorted(fixtures & set(item.fixturenames))
    if transactional or used:
        what = ", ".join(used) if used else "django_db(transaction=True)"
        return (
            f"needs @pytest.mark.django_db without transaction=True, got {what}: each scale "
            "runs in a savepoint that is rolled back, and a transactional test has no "
            "transaction to roll back to"
        )
    return None
