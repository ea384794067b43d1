"""``@pytest.mark.query_scaling``: proof that a test's query count does not grow with the data.

::

    @pytest.mark.query_scaling(populate=BookFactory, scales=(2, 5))
    @pytest.mark.django_db
    def test_book_list(client):
        assert client.get("/books/").status_code == 200

Under ``--django-gates`` with the ``queries`` gate, the test body runs twice:
``populate(2)`` then the body, rolled back; ``populate(5)`` then the body, rolled
back. Every query shape (the normalized SQL, see :mod:`pytest_django_gates.queries.sql`,
per database alias) that ran more often in the second run is a ``DJG109`` error
naming the shape, how often it ran at each scale, the lines that ran it and the
fix; the test fails. The N+1 rules (``DJG101``) guess from one run; this marker
measures, so a finding is never a guess: the same body ran more queries with more
rows. Choices:

* **populate**: a callable taking the row count ``n`` (``lambda n:
  BookFactory.create_batch(n)``); a factory_boy factory (its ``create_batch(n)`` is
  called); or the *name* of a fixture that returns either, resolved from the
  test's own scope with ``request.getfixturevalue()`` when the scaled run starts
  (so it may depend on ``db``, ``django_user_model``...). Its queries are never
  counted: it runs while nothing records.
* **scales**: two row counts, the smaller first, both >= 1 (default ``(2, 5)``).
  Not 0: code that skips a query when a table is empty (``if qs.exists():``) would
  look like growth. The smaller scale runs first, so a cache warmed by the first run
  (``ContentType.objects.get_for_model``, a memoized setting) can only lower the
  second count: it can hide growth, never invent it.
* **Transactions**: each scale runs in its own savepoint (``transaction.atomic()``
  with a forced rollback) on every database the test's transaction covers
  (``django_db(databases=[...])``), inside pytest-django's per-test transaction, so
  neither scale's rows leak into the other or into the next test. The test must be
  ``@pytest.mark.django_db`` (or use ``db``) *without* ``transaction=True``: a
  transactional test (``transaction=True``, ``transactional_db``, ``live_server``)
  has no transaction to roll back to, and flushing between scales would also erase
  the rows of its fixtures; that is a usage error at collection. A test with no
  database transaction open when it runs fails with what to add.
* **Running the body twice**: the first run calls ``item.runtest()`` (the
  ``pytest_pyfunc_call`` hook, so async tests under pytest-asyncio and parametrized
  tests run as they would), the second is the normal call. Function-scoped
  fixtures are set up once and shared by both runs (the same ``client``, the same
  ``tmp_path``); rows they created exist at both scales. A failure in the first run
  fails the test, with a note naming the scale; a skip skips it. unittest-style tests
  are a usage error (their ``setUp`` would run once for two bodies).
* **What counts**: only the body's statements, never SAVEPOINT/RELEASE/ROLLBACK.
  The body should exercise the code once (one request, one call); a body that
  itself loops over the rows grows by design.
* **Interplay**: N+1 detection (``DJG101``, ``DJG107``, ``DJG108``),
  ``query_budget`` and the query baseline judge the *second* (larger) run only: the
  first run is recorded apart and only compared. ``DJG109`` is judged only when
  both runs passed, it is always an error (the marker is the test's own claim) and
  ``allow_n_plus_one`` / ``queries.allow`` do not silence it (remove the marker).
* **Without the gate** (no ``--django-gates``, ``queries`` not in ``gates``, or
  query capture unavailable) the marker does nothing: no populate, one plain run.
  Write the body so it passes on any data, e.g. compare with ``Book.objects.count()``.
* **xdist**: nothing is shared between tests; each worker judges its own tests.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates.markers import ScalingMark, query_marks
from pytest_django_gates.queries import budget, capture, detect, fetch_mode, sql
from pytest_django_gates.queries.capture import QueryEvent
from pytest_django_gates.queries.evaluate import Outcome

CODE = "DJG109"
_LOCATIONS = 3  # lines named per grown shape


@dataclass(frozen=True)
class Growth:
    """One query shape that ran more often at the larger scale."""

    alias: str
    shape: str
    scales: tuple[int, int]
    counts: tuple[int, int]
    events: tuple[QueryEvent, ...]  # the larger run's, in order

    def _as_n_plus_one(self, events: Sequence[QueryEvent]) -> detect.NPlusOne:
        relation = next((e.relation for e in events if e.relation is not None), None)
        return detect.NPlusOne(
            count=len(events),
            shape=self.shape,
            alias=self.alias,
            site=events[0].site,
            relation=relation,
            latent=False,
        )

    def _by_site(self) -> list[list[QueryEvent]]:
        """The larger run's events by call site, the most frequent first."""
        sites: dict[tuple[object, ...], list[QueryEvent]] = {}
        for event in self.events:
            sites.setdefault(event.site.key, []).append(event)
        return sorted(sites.values(), key=len, reverse=True)

    def location(self, root: Path) -> tuple[str | None, int | None]:
        return self._as_n_plus_one(self._by_site()[0]).location(root)

    def message(self, root: Path) -> str:
        (small, large), (ran_small, ran_large) = self.scales, self.counts
        wheres: list[str] = []
        for group in self._by_site():
            path, line = self._as_n_plus_one(group).location(root)
            where = f"{path}:{line}" if path else "an unknown location"
            if where not in wheres:
                wheres.append(where)
        shown = ", ".join(wheres[:_LOCATIONS])
        if len(wheres) > _LOCATIONS:
            shown += f" (+{len(wheres) - _LOCATIONS} more)"
        database = "" if self.alias == "default" else f" on database {self.alias!r}"
        return (
            f"query count grows with the data: {sql.short(self.shape)} ran "
            f"{_times(ran_small)} at populate({small}) and {_times(ran_large)} at "
            f"populate({large}) (+{ran_large - ran_small}){database} at {shown}"
        )

    def hint(self) -> str:
        return self._as_n_plus_one(self._by_site()[0]).hint()


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def growth(
    small: Sequence[QueryEvent], large: Sequence[QueryEvent], scales: tuple[int, int]
) -> list[Growth]:
    """The shapes (per alias) that ran more often in ``large`` than in ``small``."""
    before: dict[tuple[str, str], int] = {}
    for event in budget.counted(small):
        key = (event.alias, sql.shape(event.sql))
        before[key] = before.get(key, 0) + 1
    after: dict[tuple[str, str], list[QueryEvent]] = {}
    for event in budget.counted(large):
        after.setdefault((event.alias, sql.shape(event.sql)), []).append(event)
    return [
        Growth(
            alias=alias,
            shape=shape,
            scales=scales,
            counts=(before.get((alias, shape), 0), len(events)),
            events=tuple(events),
        )
        for (alias, shape), events in after.items()
        if len(events) > before.get((alias, shape), 0)
    ]


@contextmanager
def _rolled_back(aliases: Sequence[str]) -> Iterator[None]:
    """A savepoint on each alias, rolled back on the way out (whatever happened)."""
    from django.db import transaction

    with ExitStack() as stack:
        for alias in aliases:
            stack.enter_context(transaction.atomic(using=alias))
        try:
            yield
        finally:
            for alias in aliases:
                transaction.set_rollback(True, using=alias)


class ScaledRun:
    """The two runs of one ``query_scaling`` test.

    :meth:`start` runs the body at the smaller scale (recorded apart) and rolls it
    back, then opens the larger scale's savepoints and builds its data; the caller
    runs the body once more (recording it as usual), calls :meth:`close` to roll the
    larger scale back, and :meth:`judge` to add the ``DJG109`` findings.
    """

    def __init__(self, item: pytest.Item, mark: ScalingMark) -> None:
        self.item = item
        self.mark = mark
        self.where = f"{item.nodeid}: @pytest.mark.query_scaling"
        self.small_events: list[QueryEvent] = []
        self._large: ExitStack | None = None

    @classmethod
    def of(cls, item: pytest.Item) -> ScaledRun | None:
        mark = query_marks(item).scaling
        return None if mark is None else cls(item, mark)

    def start(self, *, fetch_raise: bool = False) -> None:
        populate = self._populate()
        aliases = self._aliases()
        small, large = self.mark.scales
        recorder = capture.Recorder()
        with _rolled_back(aliases):
            self._build(populate, small)
            undo_fetch_mode = fetch_mode.set_raise() if fetch_raise else None
            capture.start(recorder)
            try:
                self.item.runtest()
            except BaseException as exc:
                add_note = getattr(exc, "add_note", None)  # Python 3.11+
                if add_note is not None and not isinstance(exc, pytest.skip.Exception):
                    add_note(f"(query_scaling: this failure is from the run at populate({small}))")
                raise
            finally:
                capture.stop(recorder)
                if undo_fetch_mode is not None:
                    undo_fetch_mode()
        self.small_events = recorder.events
        stack = ExitStack()
        stack.enter_context(_rolled_back(aliases))
        self._large = stack
        try:
            self._build(populate, large)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Roll the larger scale back (after its body ran)."""
        stack, self._large = self._large, None
        if stack is not None:
            stack.close()

    def judge(self, outcome: Outcome, large: Sequence[QueryEvent], root: Path) -> None:
        """Add a ``DJG109`` error for each shape that grew, and fail the test."""
        for grown in growth(self.small_events, large, self.mark.scales):
            path, line = grown.location(root)
            outcome.fail(CODE, grown.message(root), grown.hint(), path=path, line=line)

    def _populate(self) -> Callable[[int], object]:
        populate: Any = self.mark.populate
        if isinstance(populate, str):
            name = populate
            request = getattr(self.item, "_request", None)
            if not isinstance(request, pytest.FixtureRequest):
                pytest.fail(f"{self.where}: populate={name!r} needs a test function", pytrace=False)
            try:
                populate = request.getfixturevalue(name)
            except pytest.FixtureLookupError:
                pytest.fail(
                    f"{self.where}: populate={name!r}: no fixture of that name is visible "
                    "from this test; give a fixture name or a callable taking the row count n",
                    pytrace=False,
                )
            if not callable(populate):
                pytest.fail(
                    f"{self.where}: the fixture {name!r} returned {type(populate).__name__}, "
                    "not a callable taking the row count n (or a factory_boy factory)",
                    pytrace=False,
                )
        create_batch: Callable[[int], object] | None = getattr(populate, "create_batch", None)
        if callable(create_batch):
            return create_batch  # a factory_boy factory
        built: Callable[[int], object] = populate
        return built

    def _build(self, populate: Callable[[int], object], n: int) -> None:
        result = populate(n)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            pytest.fail(
                f"{self.where}: populate({n}) returned an awaitable; populate must build "
                "the rows synchronously (wrap async code with async_to_sync)",
                pytrace=False,
            )

    def _aliases(self) -> list[str]:
        """The databases whose test transaction is open: each scale gets a savepoint."""
        from django.db import connections

        aliases = [c.alias for c in connections.all(initialized_only=True) if c.in_atomic_block]
        if not aliases:
            pytest.fail(
                f"{self.where}: no database transaction is open when the test runs; mark it "
                "@pytest.mark.django_db (without transaction=True) or request the db fixture, "
                "so that each scale can be rolled back",
                pytrace=False,
            )
        return aliases
