"""Capturing every query, with where it came from and which relation caused it.

:func:`install` patches, once per process:

* ``CursorWrapper._execute_with_wrappers`` — every statement on every
  connection and thread (ORM, raw cursors, ``executemany``) passes here; all but
  transaction control (``SAVEPOINT``, ``RELEASE SAVEPOINT``, ``BEGIN``...: every
  reader of the events leaves those out, see :func:`budget.counted`) are recorded;
* ``SQLCompiler.execute_sql`` — to know which ORM ``Query`` is running;
* the relation descriptors and related-manager factories — to name the
  relation (``Book.author``, ``Author.books``, ``Book.tags``, a generic
  foreign key, a deferred field) that a lazy load came from;
* ``QuerySet._fetch_all`` / ``_iterator`` / ``get`` — to mark instances that
  came from a multi-row queryset (for the *latent* N+1 rule);
* ``prefetch_one_level`` — to name the ``prefetch_related`` lookup whose batched
  query is running (two lookups reaching one table are two statements);
* asgiref's ``SyncToAsync.__call__`` — so queries run in its thread pool are
  attributed to the awaiting user code, not to a pool thread.

The patches do nothing but a truthiness check while no :class:`Recorder` is
active. Recorders are process-global (not thread-local) so that queries from
``sync_to_async`` threads and ``AsyncClient`` requests are counted.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any

from pytest_django_gates.queries import items as loop_items
from pytest_django_gates.queries import sql as sql_text
from pytest_django_gates.queries.items import LoopItems
from pytest_django_gates.queries.stack import PATH_ID, Classifier, Site, async_origin

_lock = threading.Lock()
_installed = False
_recorders: list[Recorder] = []
_ignore_callers: tuple[str, ...] = ("factory", "model_bakery", "mixer")
_test_files: tuple[str, ...] = ("test_*.py", "*_test.py")
_root: Path | None = None
_classifier: Classifier | None = None  # built on install (it imports Django)


class _ThreadState(threading.local):
    """What the patches keep per thread. Class attributes are the defaults: reading one
    that a thread never set costs a plain attribute read, where ``getattr(local, name,
    default)`` raised and caught an AttributeError on the hot path of every query."""

    relations: list[Relation] | None = None  # lazy loads being run (_push_relation)
    prefetches: list[str] | None = None  # prefetch_related lookups being fetched
    query: Any = None  # the ORM Query being executed (SQLCompiler.execute_sql)
    fetching: list[Any] | None = None  # the Querys whose rows are being fetched
    in_get: int = 0  # QuerySet.get() calls running (their rows are not multi-row)
    # The call path of the first statement since the thread's latest queryset fetch
    # began (its SELECT): statements run while its rows are built (a JSON field's decoder
    # loading objects) or prefetched come after and do not move it. Reset by the fetch
    # wrappers, kept for the fetch around a nested one (see _fetch_all).
    fetch_site: Site | None = None


_tls = _ThreadState()
_request = 0  # id of the HTTP request being handled (0 = none)
_request_counter = 0
_keep_params = False  # see keep_params()

# On ``instance._state``: the id of the multi-row queryset evaluation the
# instance came from (see :class:`Source`); absent or 0: not from one.
MULTI_FLAG = loop_items.MULTI_FLAG
# On ``instance._state``: a number naming the instance (row) whose relation was loaded
# lazily, given the first time one is (see :attr:`Relation.row`).
ROW_FLAG = "_django_gates_row"
# On ``instance._state``: the multi-row evaluation whose row this instance was reached
# from, by loading a forward or one-to-one relation of the row lazily (see
# :func:`_mark_reached`); a record built per row may hold it (``items``).
REACHED_FLAG = loop_items.REACHED_FLAG
_sources: dict[int, Source] = {}
# The values ``values()`` / ``values_list()`` queries of multi-row querysets returned
# since the test started (up to MAX_FETCHED): a loop over them walks rows of a query
# (see :mod:`pytest_django_gates.queries.items`).
_fetched = loop_items.FetchedValues()
MAX_FETCHED = 100_000
# How many repetitions of each statement were seen in this recording (ROWS_FOUND once
# one was judged a loop of rows), by call path (:func:`_path_id`), SQL text and request:
# per statement, since one line can run several (``book.author.name + book.editor.name``
# reads two relations; transaction control is not recorded at all), and the one run
# first must not use up the other's; per request, as findings group the statements, so that each
# request's repetition is judged (a test's second POST, not only its first GET); by the
# call path as findings group it, not by the Site, whose spots differ when a library
# ran its first call in the process another way (it filled a cache): the Site variants
# a test meets depend on the tests that ran before it in the process.
#
# Judged: the first JUDGED_PER_STATEMENT repetitions, then the ones whose number is a
# power of two (the 4th, 8th, 16th...), until one finds a loop of rows: a loop walks rows
# if any item it walks is a row (``detect.input_loop``), and the first items of a loop
# can be input while later ones are rows (the records an import created, then the
# table's existing rows). The cost grows with the logarithm of the repetitions, and stops at
# the first loop of rows, after which no verdict can change the group's.
_judged: dict[tuple[int, str, int], int] = {}
# The count kept for a path, statement and request once a repetition found a loop of rows.
ROWS_FOUND = -1
# The call paths (:attr:`Site.key`, as findings group them) of the running recordings,
# each with its number: a query whose Site is new can still repeat a path seen before,
# when a frame on it stood at another instruction of the same line
# (``set(get_users_with_perms(...))`` runs its query inside the call or inside
# ``set()``, depending on what a library had cached from earlier tests).
# ``detect.find`` groups by the key, so the repetition is judged by it too, or the
# report would depend on the order the tests ran in.
_path_ids: dict[tuple[object, ...], int] = {}
# Which filling of _path_ids a number kept on a Site belongs to: a Site that outlives the
# recordings (held by some cache) must not bring its old number into new ones.
_path_generation = 0
JUDGED_PER_STATEMENT = 2
_source_counter = 0
_rows = itertools.count(1)


@dataclass(frozen=True)
class Source:
    """One evaluation of a multi-row queryset: where it ran, and how it was built."""

    model: str  # "Book" (the object name, for hints)
    only: tuple[str, ...] | None  # the field names of .only(...), if it was used
    site: Site | None  # where the rows were fetched
    request: int = 0  # the HTTP request they were fetched in (0: none)


@dataclass(frozen=True)
class Relation:
    """The relation (or deferred field) whose lazy load ran a query."""

    model: str  # "catalog.Book"
    name: str  # attribute / accessor: "author", "reviews", "tags"
    kind: str  # forward | reverse_one_to_one | reverse_many | many_to_many | generic | deferred
    prefetched: bool = False  # a prefetch cache existed and was bypassed (.filter() on it)
    # Django 6.1+: loaded under ``FETCH_PEERS``: one query for every peer of the
    # queryset, whatever the row count, so never a per-row N+1.
    batched: bool = False
    source: int = 0  # the queryset evaluation the instance came from (0: none known)
    # A related manager's query narrowed beyond the relation (filter, order, slice,
    # first/last/earliest): prefetching the whole relation would load too much.
    filtered: bool = False
    target: str = ""  # object name of the model the related manager returns
    # The instance (row) whose relation was loaded: one number per model instance, the
    # same for every load on it (0: unknown). Loads on distinct rows of a loop are one
    # per row even when they all read the same related object (and carry the same
    # parameters).
    row: int = 0

    @property
    def from_multi(self) -> bool:
        """The instance came from a multi-row queryset."""
        return bool(self.source)


@dataclass(frozen=True, slots=True)
class QueryEvent:
    """One statement a recorder saw.

    Kept small, since a test may run a million statements (a data backfill): slots, no
    stored fingerprint of text and parameters (:attr:`values` is computed), and the SQL
    text and :class:`Site` shared by every event equal to an earlier one of the same
    recording (see :func:`_shared` and :meth:`Classifier.walk`). About 0.2 KB an event,
    where a new site and text per event took 1.1 KB."""

    alias: str
    sql: str
    many: bool
    site: Site
    relation: Relation | None
    request: int
    args: int = 0  # a fingerprint of the parameters alone
    # ``len(connection.atomic_blocks)`` when it ran: compared with the depth at the start
    # of the test (its own transaction) to tell autocommit writes (see ``writes.py``).
    depth: int = 0
    # The statement's parameters, kept only while :func:`keep_params` is on (the
    # ``indexes`` gate explains one real example of each query shape).
    params: Any = None
    # The ``prefetch_related`` lookup (its path up to the level being fetched:
    # ``"book__author"``) whose batched query this is; "" outside a prefetch.
    prefetch: str = ""
    # What the loop that repeated this call path walks (rows of a query or items of the
    # input), judged on a few repetitions of each path; None: not judged, or unknown.
    items: LoopItems | None = None

    @property
    def values(self) -> int:
        """A fingerprint of the SQL text and its parameters."""
        return hash((self.sql, self.args))


def fetched_by_test(origin: Source | None) -> bool:
    """The rows were fetched by test code: the innermost user frame of the fetch is a
    test's (``row = Model.objects.last()`` written in the test)."""
    return origin is not None and origin.site is not None and origin.site.tests[:1] == (True,)


def source(relation: Relation | None) -> Source | None:
    """The queryset evaluation the instance of ``relation`` came from, if known."""
    if relation is None or not relation.source:
        return None
    return _sources.get(relation.source)


class Recorder:
    """Collects the queries run while it is active (``with recorder:``), transaction
    control statements left out (:func:`sql.transaction_control`)."""

    def __init__(self, aliases: frozenset[str] | None = None) -> None:
        self.aliases = aliases
        self.events: list[QueryEvent] = []

    def __enter__(self) -> Recorder:
        start(self)
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self)


def configure(
    ignore_callers: list[str],
    test_files: Sequence[str] = ("test_*.py", "*_test.py"),
    root: Path | None = None,
) -> None:
    """Set the modules whose queries are never N+1 candidates, and what test code is
    (pytest's ``python_files`` patterns, under the project ``root``)."""
    global _ignore_callers, _classifier, _test_files, _root
    _ignore_callers = tuple(ignore_callers)
    _test_files = tuple(test_files)
    _root = root
    _classifier = _new_classifier() if _installed else None


def _new_classifier() -> Classifier:
    return Classifier(_ignore_callers, _test_files, _root)


def keep_params(on: bool) -> None:
    """Keep each statement's parameters on its :class:`QueryEvent` (off by default)."""
    global _keep_params
    _keep_params = on


def start(recorder: Recorder) -> None:
    install()
    with _lock:
        _recorders.append(recorder)


def stop(recorder: Recorder) -> None:
    global _path_generation
    with _lock:
        if recorder in _recorders:
            _recorders.remove(recorder)
        if not _recorders:
            _shared_objects.clear()
            _judged.clear()
            _path_ids.clear()
            _path_generation += 1
            if _classifier is not None:
                _classifier.forget_calls()
                _classifier.forget_sites()


def forget_sources() -> None:
    """Drop the queryset evaluations remembered so far (after a test was judged)."""
    with _lock:
        if not _recorders:
            _sources.clear()
            _fetched.clear()


def active() -> bool:
    return bool(_recorders)


# --------------------------------------------------------------------- recording


def _current_relation() -> Relation | None:
    stack: list[Relation] | None = _tls.relations
    if stack:
        return stack[-1]
    query = _tls.query
    if query is not None:
        tag = getattr(query, "_django_gates_rel", None)
        if isinstance(tag, _RelTag):
            return tag.resolve(query)
    return None


_WRITE_WORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@lru_cache(maxsize=8192)
def _is_write(text: str) -> bool:
    """An ``INSERT`` / ``UPDATE`` / ``DELETE`` (its site numbers the test's calls)."""
    return text.lstrip()[:7].upper().startswith(_WRITE_WORDS)


def _fingerprint(params: Any) -> int:
    """A fingerprint of the parameters (:attr:`QueryEvent.args`)."""
    try:
        if isinstance(params, list):
            params = tuple(params)
        elif isinstance(params, dict):
            params = tuple(sorted(params.items()))
        return hash(params)
    except TypeError:  # unhashable parameter values
        return hash(repr(params)[:2000])


# Equal SQL texts and loop judgements of the running recordings, one object each (see
# :func:`_shared`; the Classifier shares the sites); emptied when the last recorder stops.
_shared_objects: dict[object, Any] = {}


def _shared(value: Any) -> Any:
    """The object equal to ``value`` recorded first since recording started: a loop's
    statements then share one SQL text instead of a copy each."""
    return _shared_objects.setdefault(value, value)


def atomic_depth(connection: Any) -> int:
    """How many ``atomic()`` blocks are open on ``connection`` (savepoint or not)."""
    return len(getattr(connection, "atomic_blocks", ()) or ())


def open_atomic_blocks() -> dict[str, int]:
    """The open ``atomic()`` blocks of every connection made so far, by alias."""
    from django.db import connections

    return {conn.alias: atomic_depth(conn) for conn in connections.all(initialized_only=True)}


def _record(alias: str, sql: Any, params: Any, many: bool, depth: int = 0) -> None:
    text = sql if isinstance(sql, str) else str(sql)
    assert _classifier is not None
    write = _is_write(text)
    site, fresh = _classifier.walk(sys._getframe(1), calls=write)
    if _tls.fetch_site is None:
        _tls.fetch_site = site
    relation = _current_relation()
    judged: LoopItems | None = None
    seen = not fresh
    if not seen:  # a new Site, once per Site: its path may still be one seen before
        seen = _number_path(site)[1]
    # A call path seen before: a repetition, maybe by a loop. Which kind of loop (rows or
    # input) is judged from the running frames, a few times per path. A lazy load on a
    # row of a multi-row queryset is judged the first time its path is seen: the latent
    # rule asks whether the loop around it walks rows at all.
    if relation is not None and relation.source:
        # Its only reader is detect's "one row the test handed on": rows the test fetched.
        judge_now = not seen and fetched_by_test(_sources.get(relation.source))
    else:
        judge_now = seen
    if judge_now and not write and not site.ignored:
        budget = (_path_id(site), text, _request)
        count = _judged.get(budget, 0)
        if count >= 0:  # no loop of rows found yet on this path
            count += 1
            _judged[budget] = count
            if count <= JUDGED_PER_STATEMENT or not count & (count - 1):
                judged = loop_items.judge(sys._getframe(1), _classifier.kind, _fetched, _tls.query)
                if judged is not None and judged.rows:
                    _judged[budget] = ROWS_FOUND
    event = QueryEvent(
        alias=alias,
        sql=_shared(text),
        many=many,
        site=site,
        relation=relation,
        request=_request,
        args=_fingerprint(params),
        depth=depth,
        params=params if _keep_params else None,
        prefetch=_current_prefetch(),
        items=_shared(judged) if judged is not None else None,
    )
    for recorder in list(_recorders):
        if recorder.aliases is None or alias in recorder.aliases:
            recorder.events.append(event)


def _path_id(site: Site) -> int:
    """The number of ``site``'s call path (:attr:`Site.key`) in the running recordings,
    kept on the Site (:data:`stack.PATH_ID`) by :func:`_number_path`."""
    kept: tuple[int, int] | None = site.__dict__.get(PATH_ID)
    if kept is not None and kept[0] == _path_generation:
        return kept[1]
    return _number_path(site)[0]


def _number_path(site: Site) -> tuple[int, bool]:
    """Number ``site``'s call path (its key is built once per Site) and keep the number
    on the Site: (the number, whether the path had one before, from another Site)."""
    key = site.key
    with _lock:
        number = _path_ids.get(key)
        known = number is not None
        if number is None:
            number = _path_ids[key] = len(_path_ids) + 1
    object.__setattr__(site, PATH_ID, (_path_generation, number))
    return number, known


def _current_prefetch() -> str:
    stack: list[str] | None = _tls.prefetches
    return stack[-1] if stack else ""


class _push_relation:
    """Context manager: queries inside are attributed to ``relation``."""

    __slots__ = ("relation",)

    def __init__(self, relation: Relation) -> None:
        self.relation = relation

    def __enter__(self) -> None:
        stack = _tls.relations
        if stack is None:
            stack = _tls.relations = []
        stack.append(self.relation)

    def __exit__(self, *exc: object) -> None:
        stack = _tls.relations
        assert stack is not None  # pushed by __enter__
        stack.pop()


class _RelTag:
    """Stored on a related manager's ``Query``; resolved when the query runs."""

    __slots__ = ("cache_key", "instance", "kind", "model", "name", "target", "where")

    def __init__(
        self, instance: Any, name: str, kind: str, cache_key: str | None, query: Any, target: str
    ) -> None:
        self.instance = instance
        self.model = instance._meta.label
        self.name = name
        self.kind = kind
        self.cache_key = cache_key
        self.target = target
        self.where = _where_size(query)

    def resolve(self, query: Any) -> Relation:
        cache = self.instance.__dict__.get("_prefetched_objects_cache") or {}
        return Relation(
            model=self.model,
            name=self.name,
            kind=self.kind,
            prefetched=self.cache_key is not None and self.cache_key in cache,
            source=_source_id(self.instance),
            filtered=_narrowed(query, self.where),
            target=self.target,
            row=_row_id(self.instance),
        )


def _where_size(query: Any) -> int:
    where = getattr(query, "where", None)
    return len(getattr(where, "children", ()) or ())


def _narrowed(query: Any, where: int) -> bool:
    """The related manager's query was narrowed beyond the relation itself."""
    return bool(
        _where_size(query) > where
        or getattr(query, "low_mark", 0)
        or getattr(query, "high_mark", None) is not None
        or getattr(query, "order_by", ())
    )


def _source_id(instance: Any) -> int:
    state = getattr(instance, "_state", None)
    return int(getattr(state, MULTI_FLAG, 0) or 0)


def _row_id(instance: Any) -> int:
    """The number of ``instance`` (see :attr:`Relation.row`), given on first use."""
    state = getattr(instance, "_state", None)
    if state is None:
        return 0
    row = getattr(state, ROW_FLAG, 0)
    if not row:
        row = next(_rows)
        setattr(state, ROW_FLAG, row)
    return int(row)


def _lazy_load(instance: Any, name: str, kind: str, *, batched: bool = False) -> Relation:
    """The relation (or deferred field) ``name`` of ``instance`` being loaded lazily."""
    return Relation(
        model=instance._meta.label,
        name=name,
        kind=kind,
        batched=batched,
        source=_source_id(instance),
        row=_row_id(instance),
    )


def _mark_selected(instances: Any, source_id: int, depth: int = 0) -> None:
    """Mark the objects ``select_related`` built with each row of a multi-row queryset
    as reached from it (:func:`_mark_reached`), down to three relations deep."""
    for obj in instances:
        state = getattr(obj, "_state", None)
        cache = getattr(state, "fields_cache", None)
        if not cache:
            continue
        related = [v for v in cache.values() if getattr(v, "_state", None) is not None]
        for value in related:
            setattr(value._state, REACHED_FLAG, source_id)
        if related and depth < 2:
            _mark_selected(related, source_id, depth + 1)


def _mark_reached(related: Any, relation: Relation) -> Any:
    """Mark ``related``, loaded lazily through ``relation``, as reached from a row of a
    multi-row queryset (when the relation's instance is one); returns ``related``."""
    if relation.source:
        state = getattr(related, "_state", None)
        if state is not None:
            setattr(state, REACHED_FLAG, relation.source)
    return related


def _new_source(queryset: Any) -> int:
    """Remember one evaluation of a multi-row queryset; its id for the instances."""
    global _source_counter
    query = queryset.query
    names, defer = getattr(query, "deferred_loading", ((), True))
    only = tuple(sorted(names)) if names and not defer else None
    with _lock:
        _source_counter += 1
        _sources[_source_counter] = Source(
            model=queryset.model._meta.object_name,
            only=only,
            site=_tls.fetch_site,
            request=_request,
        )
        return _source_counter


def _mark_multi(instances: Any, source_id: int) -> None:
    for obj in instances:
        state = getattr(obj, "_state", None)
        if state is not None:
            setattr(state, MULTI_FLAG, source_id)


def _remember_values(rows: Any, flat: bool) -> None:
    """Keep the values a ``values()`` / ``values_list()`` query returned (see
    :data:`_fetched`); unhashable ones are skipped."""
    for row in rows[: MAX_FETCHED - len(_fetched)]:
        if isinstance(row, dict):
            values: Any = row.values()
        elif isinstance(row, (tuple, list)) and not flat:
            values = row
        else:
            values = (row,)
        for value in values:
            if isinstance(value, (str, bytes, int, float)) and not isinstance(value, bool):
                _fetched.add(value)


def _rel_cache_name(rel: Any) -> str | None:
    try:
        return str(rel.cache_name)  # Django 5.1+
    except AttributeError:  # Django 4.2 / 5.0
        return str(rel.get_cache_name())


# ----------------------------------------------------------------------- patches
#
# Every Django internal this module patches, and the versions each covers
# (checked against 4.2, 5.2, 6.0 and 6.1; asgiref 3.6+):
#
# ====================================================  ============  ==================
# patch point                                           Django        purpose
# ====================================================  ============  ==================
# backends.utils.CursorWrapper._execute_with_wrappers   4.2 - 6.1     every statement
# models.sql.compiler.SQLCompiler.execute_sql           4.2 - 6.1     the running Query
# ForwardManyToOneDescriptor.get_object                 4.2 - 6.0     forward FK / O2O
# ReverseOneToOneDescriptor.__get__                     4.2 - 6.0     reverse O2O
# Model.refresh_from_db (called by DeferredAttribute)   4.2 - 6.0     deferred field
# contenttypes GenericForeignKey.__get__                4.2 - 6.0     generic FK
# <fetcher>.fetch_one / fetch_many of                   6.1           the four above,
#   ForwardManyToOneDescriptor, ReverseOneToOneDescr.,                through fetch modes
#   DeferredAttribute, GenericForeignKeyDescriptor
# related_descriptors.create_reverse_many_to_one_manager 4.2 - 6.1    reverse FK manager
# related_descriptors.create_forward_many_to_many_manager 4.2 - 6.1   M2M manager
# QuerySet._fetch_all / _iterator / get                 4.2 - 6.1     multi-row marking
# models.query.prefetch_one_level (optional)            4.2 - 6.1     prefetch lookups,
#                                                                     pinned keys
# asgiref.sync.SyncToAsync.__call__                     (asgiref)     async call sites
# core.signals.request_started / request_finished       public API    request ids
# ====================================================  ============  ==================
#
# Django 6.1 routes every lazy single-object load through the instance's fetch
# mode (``instance._state.fetch_mode.fetch(descriptor, instance)``), which calls
# the descriptor's ``fetch_one`` or, under ``FETCH_PEERS``, ``fetch_many`` for
# all peers at once. The fetcher protocol is detected by feature (a
# ``fetch_one`` on ``DeferredAttribute``), not by version number.
#
# :func:`install` is all-or-nothing: every replacement is built first (reading
# each original, which is where a changed Django fails), then all are set; if
# anything fails, every attribute already set is put back and the failure is
# remembered, so it is neither half-installed nor retried on every test.


class CaptureUnavailable(RuntimeError):
    """Query capture could not be installed on this Django; nothing was patched."""


_install_error: CaptureUnavailable | None = None


class Patches:
    """A set of attribute replacements applied together, or not at all."""

    def __init__(self) -> None:
        self._planned: list[tuple[Any, str, Any]] = []
        self._applied: list[tuple[Any, str, Any, bool]] = []
        self._undo: list[Callable[[], object]] = []

    def add(self, owner: Any, attr: str, replacement: Any) -> None:
        self._planned.append((owner, attr, replacement))

    def on_undo(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` if the patches are undone (after a failed apply)."""
        self._undo.append(callback)

    def apply(self, then: Callable[[], object] = lambda: None) -> None:
        """Set every planned attribute, then run ``then``; on any failure undo all."""
        try:
            for owner, attr, replacement in self._planned:
                had = attr in vars(owner)
                original = vars(owner).get(attr)
                setattr(owner, attr, replacement)
                self._applied.append((owner, attr, original, had))
            then()
        except BaseException:
            self.undo()
            raise

    def undo(self) -> None:
        for owner, attr, original, had in reversed(self._applied):
            if had:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)
        self._applied.clear()
        for callback in reversed(self._undo):
            callback()
        self._undo.clear()


def install() -> None:
    """Patch Django once per process, all or nothing. Safe to call many times.

    Raises :class:`CaptureUnavailable` (every time, without retrying) when the
    running Django does not have what a patch needs; Django is then unpatched.
    """
    global _installed, _classifier, _install_error
    with _lock:
        if _installed:
            return
        if _install_error is not None:
            raise _install_error
        patches = Patches()
        try:
            _classifier = _new_classifier()
            for plan in _PLANS:
                plan(patches)
            patches.apply(then=_reset_manager_classes)
        except Exception as exc:
            patches.undo()
            _classifier = None
            _install_error = _unavailable(exc)
            raise _install_error from exc
        _installed = True


def _unavailable(exc: BaseException) -> CaptureUnavailable:
    try:
        import django
        from django.conf import settings

        version = django.get_version()
        configured = settings.configured
    except Exception:  # pragma: no cover - Django is a dependency
        version, configured = "?", True
    if not configured:
        return CaptureUnavailable(
            "Django settings are not configured in the test process (no "
            "DJANGO_SETTINGS_MODULE, no settings.configure()), so no query can be recorded: "
            "set DJANGO_SETTINGS_MODULE (pytest-django: [tool.pytest.ini_options] "
            "DJANGO_SETTINGS_MODULE), or leave 'queries' out of [tool.django-gates] gates"
        )
    return CaptureUnavailable(
        f"query capture could not be installed on Django {version}: "
        f"{type(exc).__name__}: {exc} (nothing was patched)"
    )


def _plan_cursor(patches: Patches) -> None:
    from django.db.backends.utils import CursorWrapper

    original = vars(CursorWrapper)["_execute_with_wrappers"]

    @wraps(original)
    def _execute_with_wrappers(
        self: Any, sql: Any, params: Any, many: bool, executor: Callable[..., Any]
    ) -> Any:
        if _recorders and not sql_text.transaction_control(sql):
            _record(self.db.alias, sql, params, many, atomic_depth(self.db))
        return original(self, sql, params, many, executor)

    patches.add(CursorWrapper, "_execute_with_wrappers", _execute_with_wrappers)


def _plan_compiler(patches: Patches) -> None:
    from django.db.models.sql.compiler import SQLCompiler

    original = vars(SQLCompiler)["execute_sql"]

    @wraps(original)
    def execute_sql(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _recorders:
            return original(self, *args, **kwargs)
        previous = _tls.query
        _tls.query = self.query
        try:
            return original(self, *args, **kwargs)
        finally:
            _tls.query = previous

    patches.add(SQLCompiler, "execute_sql", execute_sql)


def has_fetch_modes() -> bool:
    """True on Django 6.1+, where lazy loads go through ``QuerySet.fetch_mode()``."""
    from django.db.models.query_utils import DeferredAttribute

    return hasattr(DeferredAttribute, "fetch_one")


def _contenttypes_installed() -> bool:
    """Generic foreign keys exist only with ``django.contrib.contenttypes`` installed."""
    from django.apps import apps

    return apps.is_installed("django.contrib.contenttypes")


def _is_batched(instance: Any) -> bool:
    """The instance's fetch mode batches lazy loads for all its peers (``FETCH_PEERS``)."""
    mode = getattr(getattr(instance, "_state", None), "fetch_mode", None)
    return bool(getattr(mode, "track_peers", False))


def _plan_descriptors(patches: Patches) -> None:
    if has_fetch_modes():
        _plan_fetchers(patches)
    else:
        _plan_descriptors_before_fetch_modes(patches)


def _plan_fetchers(patches: Patches) -> None:
    """Django 6.1+: wrap each fetcher's ``fetch_one`` and ``fetch_many``."""
    from django.db.models.fields import related_descriptors as rd
    from django.db.models.query_utils import DeferredAttribute

    fetchers: list[tuple[Any, str, Callable[[Any], str]]] = [
        (rd.ForwardManyToOneDescriptor, "forward", lambda d: str(d.field.name)),
        (
            rd.ReverseOneToOneDescriptor,
            "reverse_one_to_one",
            lambda d: str(d.related.get_accessor_name()),
        ),
        (DeferredAttribute, "deferred", lambda d: str(d.field.attname)),
    ]
    if _contenttypes_installed():
        from django.contrib.contenttypes.fields import GenericForeignKeyDescriptor

        fetchers.append((GenericForeignKeyDescriptor, "generic", lambda d: str(d.field.name)))
    for owner, kind, name_of in fetchers:
        _plan_fetcher(patches, owner, kind, name_of)


# Django 6.1's fetchers keep what they load in a cache: the kinds whose related object
# is marked as reached from a row (:func:`_mark_reached`), and the descriptor attribute
# whose cache holds it.
_REACHED_CACHE = {"forward": "field", "reverse_one_to_one": "related"}


def _plan_fetcher(patches: Patches, owner: Any, kind: str, name_of: Callable[[Any], str]) -> None:
    fetch_one = vars(owner)["fetch_one"]
    fetch_many = vars(owner)["fetch_many"]

    @wraps(fetch_one)
    def one(self: Any, instance: Any) -> Any:
        if not _recorders:
            return fetch_one(self, instance)
        relation = _lazy_load(instance, name_of(self), kind, batched=_is_batched(instance))
        with _push_relation(relation):
            result = fetch_one(self, instance)
        if relation.source and kind in _REACHED_CACHE:
            _mark_reached(
                getattr(self, _REACHED_CACHE[kind]).get_cached_value(instance, None), relation
            )
        return result

    @wraps(fetch_many)
    def many(self: Any, instances: Any) -> Any:
        if not _recorders or not instances:
            return fetch_many(self, instances)
        relation = _lazy_load(instances[0], name_of(self), kind, batched=True)
        with _push_relation(relation):
            return fetch_many(self, instances)

    patches.add(owner, "fetch_one", one)
    patches.add(owner, "fetch_many", many)


def _plan_descriptors_before_fetch_modes(patches: Patches) -> None:
    """Django 4.2 - 6.0: the descriptors load lazily themselves."""
    from django.db.models import Model
    from django.db.models.fields import related_descriptors as rd
    from django.db.models.query_utils import DeferredAttribute

    forward_get_object = vars(rd.ForwardManyToOneDescriptor)["get_object"]

    @wraps(forward_get_object)
    def get_object(self: Any, instance: Any) -> Any:
        if not _recorders:
            return forward_get_object(self, instance)
        relation = _lazy_load(instance, self.field.name, "forward")
        with _push_relation(relation):
            return _mark_reached(forward_get_object(self, instance), relation)

    patches.add(rd.ForwardManyToOneDescriptor, "get_object", get_object)

    reverse_one_get = vars(rd.ReverseOneToOneDescriptor)["__get__"]

    @wraps(reverse_one_get)
    def reverse_one_to_one_get(self: Any, instance: Any, cls: Any = None) -> Any:
        if instance is None or not _recorders:
            return reverse_one_get(self, instance, cls)
        name = self.related.get_accessor_name()
        relation = _lazy_load(instance, name, "reverse_one_to_one")
        with _push_relation(relation):
            return _mark_reached(reverse_one_get(self, instance, cls), relation)

    patches.add(rd.ReverseOneToOneDescriptor, "__get__", reverse_one_to_one_get)

    deferred_get = vars(DeferredAttribute)["__get__"]
    refresh_from_db = vars(Model)["refresh_from_db"]

    @wraps(refresh_from_db)
    def refresh(self: Any, using: Any = None, fields: Any = None, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_code
        if _recorders and fields and caller is deferred_get.__code__:
            with _push_relation(_lazy_load(self, str(next(iter(fields))), "deferred")):
                return refresh_from_db(self, using, fields, *args, **kwargs)
        return refresh_from_db(self, using, fields, *args, **kwargs)

    patches.add(Model, "refresh_from_db", refresh)

    if not _contenttypes_installed():
        return
    from django.contrib.contenttypes.fields import GenericForeignKey

    gfk_get = vars(GenericForeignKey)["__get__"]

    @wraps(gfk_get)
    def generic_get(self: Any, instance: Any, cls: Any = None) -> Any:
        if instance is None or not _recorders:
            return gfk_get(self, instance, cls)
        with _push_relation(_lazy_load(instance, self.name, "generic")):
            return gfk_get(self, instance, cls)

    patches.add(GenericForeignKey, "__get__", generic_get)


def _plan_related_managers(patches: Patches) -> None:
    from django.db.models.fields import related_descriptors as rd

    def tag_manager_factory(
        factory: Callable[..., Any], kind_of: Callable[[Any], tuple[str, str, str | None]]
    ) -> Callable[..., Any]:
        @wraps(factory)
        def create(*args: Any, **kwargs: Any) -> Any:
            cls = factory(*args, **kwargs)
            original = cls._apply_rel_filters
            if getattr(original, "_django_gates", False):
                return cls

            def _apply_rel_filters(self: Any, queryset: Any) -> Any:
                result = original(self, queryset)
                name, kind, cache_key = kind_of(self)
                result.query._django_gates_rel = _RelTag(
                    self.instance, name, kind, cache_key, result.query, self.model._meta.object_name
                )
                return result

            _apply_rel_filters._django_gates = True  # type: ignore[attr-defined]
            cls._apply_rel_filters = _apply_rel_filters
            return cls

        return create

    def reverse_many_kind(manager: Any) -> tuple[str, str, str | None]:
        rel = manager.field.remote_field
        return rel.get_accessor_name(), "reverse_many", _rel_cache_name(rel)

    def many_to_many_kind(manager: Any) -> tuple[str, str, str | None]:
        name = manager.prefetch_cache_name
        return name, "many_to_many", name

    for factory_name, kind_of in (
        ("create_reverse_many_to_one_manager", reverse_many_kind),
        ("create_forward_many_to_many_manager", many_to_many_kind),
    ):
        factory = vars(rd)[factory_name]
        patches.add(rd, factory_name, tag_manager_factory(factory, kind_of))


def _reset_manager_classes() -> None:
    """Forget related-manager classes built before the factories were patched."""
    from django.apps import apps
    from django.db.models.fields import related_descriptors as rd

    if not apps.ready:  # pragma: no cover - capture starts inside tests
        return
    for model in apps.get_models(include_auto_created=True):
        for klass in model.__mro__:
            for value in vars(klass).values():
                if isinstance(value, (rd.ReverseManyToOneDescriptor, rd.ManyToManyDescriptor)):
                    value.__dict__.pop("related_manager_cls", None)


def _plan_querysets(patches: Patches) -> None:
    from django.db.models.query import (
        FlatValuesListIterable,
        ModelIterable,
        QuerySet,
    )

    fetch_all = vars(QuerySet)["_fetch_all"]

    @wraps(fetch_all)
    def _fetch_all(self: Any) -> None:
        loading = self._result_cache is None  # (a name: mypy would keep it None below)
        if not (loading and _recorders):
            fetch_all(self)
            return
        # A fetch nested in another's row building (a decoder's get()) has its own
        # SELECT; the outer one's is put back when it is done.
        outer = _tls.fetch_site
        _tls.fetch_site = None
        try:
            if self._prefetch_related_lookups:
                # Its prefetches run inside fetch_all: prefetch_one_level reads the query
                # whose rows it prefetches for (see _key_pinned).
                fetching = _tls.fetching
                if fetching is None:
                    fetching = _tls.fetching = []
                fetching.append(self.query)
                try:
                    fetch_all(self)
                finally:
                    fetching.pop()
            else:
                fetch_all(self)
            if not self._result_cache or not _recorders:  # a recorder may stop meanwhile
                return
            query = self.query
            multi = query.high_mark is None or query.high_mark - query.low_mark > 1
            if self._iterable_class is ModelIterable:
                if multi and not _tls.in_get:
                    source_id = _new_source(self)
                    _mark_multi(self._result_cache, source_id)
                    if query.select_related:
                        _mark_selected(self._result_cache, source_id)
            elif multi and len(_fetched) < MAX_FETCHED:
                _remember_values(self._result_cache, self._iterable_class is FlatValuesListIterable)
        finally:
            _tls.fetch_site = outer

    patches.add(QuerySet, "_fetch_all", _fetch_all)

    iterator = vars(QuerySet)["_iterator"]

    @wraps(iterator)
    def _iterator(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        mark = self._iterable_class is ModelIterable
        source_id = 0
        # As in _fetch_all: the rows' site is their SELECT's, the first statement from
        # here; the site of a fetch this one runs inside is put back after the first row.
        outer = _tls.fetch_site
        if mark and _recorders:
            _tls.fetch_site = None
        for obj in iterator(self, *args, **kwargs):
            if mark and _recorders:
                if not source_id:
                    source_id = _new_source(self)
                    _tls.fetch_site = outer
                _mark_multi((obj,), source_id)
                if self.query.select_related:
                    _mark_selected((obj,), source_id)
            yield obj
        if not source_id:
            _tls.fetch_site = outer

    patches.add(QuerySet, "_iterator", _iterator)

    get = vars(QuerySet)["get"]

    @wraps(get)
    def _get(self: Any, *args: Any, **kwargs: Any) -> Any:
        _tls.in_get = _tls.in_get + 1
        try:
            return get(self, *args, **kwargs)
        finally:
            _tls.in_get -= 1

    patches.add(QuerySet, "get", _get)


def _plan_prefetches(patches: Patches) -> None:
    """Name the ``prefetch_related`` lookup each batched prefetch query runs for.

    Optional: without ``prefetch_one_level`` (a future Django) queries are captured
    as before, with no lookup named."""
    from django.db.models import query as query_module

    original = vars(query_module).get("prefetch_one_level")
    if original is None:  # pragma: no cover - present in Django 4.2 - 6.1
        return

    @wraps(original)
    def prefetch_one_level(*args: Any, **kwargs: Any) -> Any:
        if not _recorders:
            return original(*args, **kwargs)
        path = _prefetch_path(*args, **kwargs)
        stack = _tls.prefetches
        if stack is None:
            stack = _tls.prefetches = []
        stack.append(path)
        try:
            result = original(*args, **kwargs)
        finally:
            stack.pop()
        if _key_pinned(*args, **kwargs):
            # At most one related row, whatever the data: not rows of a loop.
            _mark_multi(result[0], 0)
        return result

    patches.add(query_module, "prefetch_one_level", prefetch_one_level)


def _key_pinned(
    instances: Any = None, prefetcher: Any = None, lookup: Any = None, level: Any = 0, **_: Any
) -> bool:
    """The prefetch follows a relation whose key the outer query fixes to one value.

    ``Log.objects.filter(content_type=ct, object_id=pk).prefetch_related("target")``
    (a history of one object) or ``Book.objects.filter(author_id=5)
    .prefetch_related("author")``: every outer row holds the same key, so the
    prefetch returns one row however many there are, in the test and in production.
    A lazy load on that row runs once: it is not the latent N+1 of "rows of a
    queryset, one in the test". Forward relations only (a generic or ordinary foreign
    key, a one-to-one): a reverse or many-to-many prefetch of pinned rows still
    returns many. The outer query is the one whose ``_fetch_all`` is running (a
    ``prefetch_related_objects()`` call on a list has none: not pinned); only its
    top-level equalities on its own table with a plain value count.
    """
    fetching: list[Any] | None = _tls.fetching
    if level != 0 or not fetching:
        return False
    columns = _forward_key_columns(prefetcher)
    if not columns:
        return False
    try:
        return columns <= _pinned_columns(fetching[-1])
    except Exception:  # pragma: no cover - an unusual WHERE: not pinned
        return False


def _forward_key_columns(prefetcher: Any) -> frozenset[str]:
    """The outer table's columns a forward relation joins on (empty: not forward)."""
    from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor

    # Django 4.2 - 6.0: the GenericForeignKey is its own descriptor; 6.1: a
    # GenericForeignKeyDescriptor whose ``field`` it is. Told by its two key names, not
    # by importing django.contrib.contenttypes (a project without that app cannot).
    gfk: Any = prefetcher if _is_generic_fk(prefetcher) else None
    if gfk is None and _is_generic_fk(getattr(prefetcher, "field", None)):
        gfk = prefetcher.field
    if gfk is not None:
        opts = gfk.model._meta
        return frozenset(opts.get_field(name).column for name in (gfk.ct_field, gfk.fk_field))
    if isinstance(prefetcher, ForwardManyToOneDescriptor):  # also forward one-to-one
        return frozenset(f.column for f in prefetcher.field.local_related_fields)
    return frozenset()


def _is_generic_fk(value: Any) -> bool:
    kind = type(value)
    return (
        kind.__name__ == "GenericForeignKey"
        and kind.__module__ == "django.contrib.contenttypes.fields"
    )


def _pinned_columns(query: Any) -> set[str]:
    """Columns of ``query``'s own table that its WHERE fixes with ``col = value``."""
    from django.db.models.sql.where import AND

    base = query.base_table
    pinned: set[str] = set()
    nodes = [query.where]
    while nodes:
        node = nodes.pop()
        if node.connector != AND or node.negated:
            continue
        for child in node.children:
            if hasattr(child, "children"):
                nodes.append(child)
                continue
            lhs: Any = getattr(child, "lhs", None)
            target = getattr(lhs, "target", None)
            if (
                getattr(child, "lookup_name", None) == "exact"
                and getattr(lhs, "alias", None) == base
                and target is not None
                and not hasattr(child.rhs, "resolve_expression")
                and child.rhs is not None
            ):
                pinned.add(str(target.column))
    return pinned


def _prefetch_path(
    instances: Any = None, prefetcher: Any = None, lookup: Any = None, level: Any = 0, **_: Any
) -> str:
    """The lookup's path up to ``level`` (``to_attr`` included): ``"book__author"``."""
    try:
        return str(lookup.get_current_prefetch_to(level))
    except Exception:
        return str(getattr(lookup, "prefetch_to", "") or "?")


def _plan_asgiref(patches: Patches) -> None:
    from asgiref.sync import SyncToAsync

    call: Callable[..., Any] = vars(SyncToAsync)["__call__"]

    @wraps(call)
    async def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _recorders:
            return await call(self, *args, **kwargs)
        assert _classifier is not None
        site = _classifier.site(sys._getframe(1))
        token = async_origin.set(site if site.frames else async_origin.get())
        try:
            return await call(self, *args, **kwargs)
        finally:
            async_origin.reset(token)

    patches.add(SyncToAsync, "__call__", __call__)


def _plan_signals(patches: Patches) -> None:
    from django.core.signals import request_finished, request_started

    def started(**kwargs: Any) -> None:
        global _request, _request_counter
        _request_counter += 1
        _request = _request_counter

    def finished(**kwargs: Any) -> None:
        global _request
        _request = 0

    started_uid = "django_gates_request_started"
    finished_uid = "django_gates_request_finished"
    request_started.connect(started, weak=False, dispatch_uid=started_uid)
    patches.on_undo(lambda: request_started.disconnect(dispatch_uid=started_uid))
    request_finished.connect(finished, weak=False, dispatch_uid=finished_uid)
    patches.on_undo(lambda: request_finished.disconnect(dispatch_uid=finished_uid))


# In this order; a plan only reads originals and registers replacements (the
# signals are connected at once, and disconnected if the install is undone).
_PLANS: tuple[Callable[[Patches], None], ...] = (
    _plan_cursor,
    _plan_compiler,
    _plan_descriptors,
    _plan_related_managers,
    _plan_querysets,
    _plan_prefetches,
    _plan_asgiref,
    _plan_signals,
)
