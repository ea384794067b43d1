"""The lock tracer: apply the checked migrations to a scratch PostgreSQL database and
record what each operation really did.

``django-gates migrations --trace`` (``[tool.django-gates.migrations] trace =
true``). After the static analysis, on a scratch database (:mod:`.tracedb`):

1. every migration that is neither checked nor after a checked one is applied
   (the state before the checked migrations); with ``trace_rows = N`` each table
   of the project's apps then gets N rows (:mod:`.tracefill`);
2. the rest is applied with Django's own executor. Each operation of a checked
   migration runs under a wrapper (an instance attribute on the operation, removed
   afterwards: no Django internal is patched), and every DDL statement it runs
   (its deferred SQL too, attributed to the operation that queued it) is
   observed inside its transaction, from the migrating connection: the
   relation locks it holds (``pg_locks``), tables and indexes whose
   ``relfilenode`` changed (rewritten), indexes created, and the tables read in
   full (``pg_stat_xact_user_tables.seq_scan``); and from a second connection,
   on every table the statement locked, the lock a ``SELECT`` takes (ACCESS
   SHARE) and the lock an ``INSERT`` takes (ROW EXCLUSIVE), asked for with
   ``NOWAIT``: refused at once when a SELECT or an INSERT would wait, whether
   for the granted lock or behind a queued one (a ``lock_timeout`` would give
   the same answer, a few milliseconds later per probe);
3. a statement of a non-atomic migration is run inside a transaction of its
   own so it can be observed the same way (it commits as it would alone);
   statements that cannot run in a transaction (``CREATE INDEX
   CONCURRENTLY``...) are observed by sampling ``pg_locks`` from the second
   connection while they run (``sampled`` in the trace).

Only relations that existed before the first traced migration count as
"existing": what the deploy itself creates is empty and unused, as the static
rules assume. The trace is then compared with the static findings
(:func:`compare`): DJG240 when the trace saw an existing table rewritten,
scanned or indexed under a lock that blocks reads or writes and the rules
reported nothing for that operation; DJG241 when a rule reported a lock or a
rewrite and the trace saw no blocking lock at all. A static finding the trace
confirms gets the evidence appended to its message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_django_gates.interrupts import terminate_as_interrupt
from pytest_django_gates.migrations import sqltext
from pytest_django_gates.migrations.tracedb import (
    PROBE_ALIAS,
    Server,
    TraceError,
    scratch_database,
)
from pytest_django_gates.report import Finding

LOCK_ORDER = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
BLOCKS_WRITES = frozenset(LOCK_ORDER[4:])
BLOCKS_READS = frozenset({"AccessExclusiveLock"})
_DDL = frozenset({"ALTER", "CREATE", "DROP", "TRUNCATE", "LOCK", "REINDEX", "CLUSTER", "VACUUM"})
# Static codes about locks or rewrites taken by the operation itself.
LOCK_CODES = frozenset(
    {"DJG202", "DJG208", "DJG209", "DJG210", "DJG211", "DJG212", "DJG214", "DJG215", "DJG217"}
)
# ... and those whose (error) finding the trace may confirm or contradict.
NOTED_CODES = LOCK_CODES | {"DJG216", "DJG218"}


_NO_DEPLOY = object()  # before the first traced migration

# -- what is recorded ----------------------------------------------------------------


@dataclass
class OpTrace:
    index: int
    operation: str
    line: int | None = None
    time_ms: float = 0.0
    statements: int = 0
    locks: dict[str, str] = field(default_factory=dict)
    """Relation -> the strongest lock mode this operation took on it."""
    held: dict[str, str] = field(default_factory=dict)
    """Relation -> the strongest lock mode held while it ran (in an atomic migration,
    what earlier operations took is held until the commit)."""
    blocked: dict[str, list[str]] = field(default_factory=dict)
    """Table -> what the probe could not do (``read``, ``write``)."""
    rewritten: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)
    sampled: bool = False
    existing: list[str] = field(default_factory=list)
    """The relations above that existed before the trace (what production has)."""

    def take(self, relation: str, mode: str, *, new: bool = True) -> None:
        for store in (self.locks, self.held) if new else (self.held,):
            old = store.get(relation)
            if old is None or LOCK_ORDER.index(mode) > LOCK_ORDER.index(old):
                store[relation] = mode

    def blocking_on_existing(self) -> dict[str, str]:
        """Existing tables on which a lock that blocks reads or writes was held."""
        return {
            r: m
            for r, m in self.held.items()
            if r in self.existing and r not in self.indexes and m in BLOCKS_WRITES
        } | {t: "probe" for t in self.blocked if t in self.existing and t not in self.held}

    def work_on_existing(self) -> list[str]:
        """Existing tables rewritten, scanned or given an index (by name)."""
        tables = set(self.rewritten) | set(self.scanned) | set(self._built_on)
        return sorted(t for t in tables if t in self.existing)

    _built_on: list[str] = field(default_factory=list)
    indexes: set[str] = field(default_factory=set)

    def evidence(self) -> str:
        parts: list[str] = []
        for relation, mode in sorted(self.held.items()):
            if relation in self.existing and relation not in self.indexes:
                earlier = "" if relation in self.locks else " (taken earlier)"
                parts.append(f"{mode} on {relation}{earlier}")
        if self.rewritten:
            parts.append("rewrote " + _few(self.rewritten))
        if self.scanned:
            parts.append("scanned " + _few(self.scanned))
        if self.built:
            parts.append("built index " + _few(self.built))
        for table, what in sorted(self.blocked.items()):
            parts.append(f"{' and '.join(what)} of {table} blocked")
        if not parts:
            parts.append("no lock on an existing table")
        sampled = " (locks sampled)" if self.sampled else ""
        return f"{'; '.join(parts)}{sampled}; {self.time_ms:.0f} ms"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_built_on")
        data.pop("indexes")
        data["time_ms"] = round(self.time_ms, 2)
        return data


def _few(names: Sequence[str], shown: int = 4) -> str:
    """Names for a message, capped."""
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


@dataclass
class MigrationTrace:
    label: str
    path: str | None
    atomic: bool
    squashed: bool = False
    """Runs only on an empty database: not compared with the rules' lock verdicts."""
    time_ms: float = 0.0
    operations: list[OpTrace] = field(default_factory=list)


@dataclass
class Trace:
    server: str
    database: str = ""
    """The scratch database (dropped when the trace ends)."""
    server_version: str = ""
    rows: int = 0
    setup_ms: float = 0.0
    notes: list[str] = field(default_factory=list)
    migrations: list[MigrationTrace] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": 1,
            "server": self.server,
            "database": self.database,
            "server_version": self.server_version,
            "rows": self.rows,
            "setup_ms": round(self.setup_ms, 2),
            "notes": list(self.notes),
            "migrations": [
                {
                    "object": m.label,
                    "path": m.path,
                    "atomic": m.atomic,
                    "squashed": m.squashed,
                    "time_ms": round(m.time_ms, 2),
                    "operations": [op.to_dict() for op in m.operations],
                }
                for m in self.migrations
            ],
        }

    @property
    def operations(self) -> int:
        return sum(len(m.operations) for m in self.migrations)


# -- observing the migrating connection ------------------------------------------------

_RELATIONS = (
    "SELECT c.oid, c.oid::regclass::text, c.relkind, c.relfilenode, "
    "coalesce(i.indrelid::regclass::text, '') "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_index i ON i.indexrelid = c.oid "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%' "
    "AND c.relkind IN ('r', 'p', 'i', 'I', 'm')"
)
_SCANS = "SELECT relid, seq_scan FROM pg_stat_xact_user_tables"
_BACKEND_LOCKS = (  # granted or asked for, and whether the backend waits for a lock
    "SELECT l.relation, l.relation::regclass::text, l.mode, a.wait_event_type "
    "FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid "
    "AND l.locktype = 'relation' AND l.relation IS NOT NULL WHERE a.pid = %s"
)
_LOCKS = (
    "SELECT relation, mode FROM pg_locks WHERE pid = pg_backend_pid() "
    "AND locktype = 'relation' AND granted AND relation IS NOT NULL"
)


@dataclass(frozen=True)
class _Snapshot:
    relations: Mapping[int, tuple[str, str, int, str]]
    scans: Mapping[int, int]
    locks: frozenset[tuple[int, str]]


class _Observer:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.busy = False
        self.overhead = 0.0

    @contextmanager
    def quiet(self) -> Iterator[Any]:
        self.busy = True
        started = time.perf_counter()
        try:
            with self.connection.cursor() as cursor:
                yield cursor
        finally:
            self.busy = False
            self.overhead += time.perf_counter() - started

    def snapshot(self) -> _Snapshot:
        with self.quiet() as cursor:
            cursor.execute(_RELATIONS)
            relations = {row[0]: (row[1], row[2], row[3], row[4]) for row in cursor.fetchall()}
            cursor.execute(_SCANS)
            scans = {row[0]: row[1] for row in cursor.fetchall()}
            cursor.execute(_LOCKS)
            locks = frozenset((row[0], row[1]) for row in cursor.fetchall())
        return _Snapshot(relations, scans, locks)

    def record(self, op: OpTrace, before: _Snapshot, after: _Snapshot, existing: set[int]) -> None:
        fresh = after.locks - before.locks
        for oid, mode in after.locks:
            rel = after.relations.get(oid) or before.relations.get(oid)
            if rel is not None:
                op.take(rel[0], mode, new=(oid, mode) in fresh)
                if rel[1] in ("i", "I"):
                    op.indexes.add(rel[0])
                if oid in existing and rel[0] not in op.existing:
                    op.existing.append(rel[0])
        # ALTER TYPE on an indexed column re-creates its indexes under new oids; when
        # the type is binary compatible PostgreSQL keeps their storage (same relfilenode):
        # nothing was built.
        dropped = {rel[2] for oid, rel in before.relations.items() if oid not in after.relations}
        for oid, (name, kind, filenode, table) in after.relations.items():
            old = before.relations.get(oid)
            if old is None:
                built = kind in ("i", "I") and table and filenode not in dropped
                if built and name not in op.built:
                    op.built.append(name)
                    op._built_on.append(table)
            elif old[2] != filenode and oid in existing and name not in op.rewritten:
                op.rewritten.append(name)
        for oid, count in after.scans.items():
            if count > before.scans.get(oid, 0) and oid in existing:
                name = after.relations.get(oid, (str(oid),))[0]
                if name not in op.scanned:
                    op.scanned.append(name)
        for oid in existing:
            rel = before.relations.get(oid)
            if rel and rel[0] in op.held and rel[0] not in op.existing:
                op.existing.append(rel[0])
        tables = {
            after.relations[oid][0]
            for oid, _ in after.locks - before.locks
            if oid in after.relations and after.relations[oid][1] in ("r", "p")
        }
        self.probe(op, sorted(tables))

    def probe(self, op: OpTrace, tables: Sequence[str]) -> None:
        if not tables:
            return
        from django.db import DatabaseError, connections, transaction

        started = time.perf_counter()
        probe = connections[PROBE_ALIAS]
        try:
            for table in tables:
                seen: list[str] = []
                for what, mode in (("read", "ACCESS SHARE"), ("write", "ROW EXCLUSIVE")):
                    try:
                        with transaction.atomic(using=PROBE_ALIAS), probe.cursor() as cursor:
                            cursor.execute(f"LOCK TABLE {table} IN {mode} MODE NOWAIT")
                            transaction.set_rollback(True, using=PROBE_ALIAS)
                    except DatabaseError:
                        seen.append(what)
                if seen:
                    merged = op.blocked.setdefault(table, [])
                    merged.extend(w for w in seen if w not in merged)
        finally:
            self.overhead += time.perf_counter() - started


class _Sampler(threading.Thread):
    """Reads the migrating backend's locks from the probe alias while a statement that
    cannot run in a transaction runs, and probes the tables it holds locked.

    Polling alone would see the locks only if a poll fell inside the statement: a
    fast ``CREATE INDEX CONCURRENTLY`` on a small table finishes between two polls,
    and the trace would then depend on timing. So before the statement starts, a
    third connection (the *gate*) opens a ``REPEATABLE READ`` transaction that holds
    a snapshot and ``ACCESS SHARE`` on every existing table. The concurrent
    statements wait for such a transaction while they hold their locks:
    ``CREATE INDEX CONCURRENTLY`` and ``REINDEX CONCURRENTLY`` for older snapshots,
    ``DROP INDEX CONCURRENTLY`` for every lock holder of the table, and any statement
    that asks for a lock conflicting with ``ACCESS SHARE`` queues behind the gate.
    Once the backend is seen waiting, its locks (granted, or asked for) are read and
    the tables probed, deterministically; then the gate is released and polling goes
    on until the statement ends, recording any stronger lock. A statement that never
    waits (``VACUUM``) is only polled."""

    def __init__(
        self,
        pid: int,
        op: OpTrace,
        observer: _Observer,
        existing: set[int],
        tables: set[int],
        gated: Sequence[str],
    ) -> None:
        super().__init__(daemon=True)
        self.pid, self.op, self.observer, self.existing = pid, op, observer, existing
        self.tables = tables
        self.gated = list(gated)
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.seen: dict[str, str] = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        from django.db import connections

        probe = connections[PROBE_ALIAS]
        gate: Any = None
        try:
            gate = self._open_gate(connections.create_connection(PROBE_ALIAS))
            while not self.stop.is_set():
                with probe.cursor() as cursor:
                    cursor.execute(_BACKEND_LOCKS, [self.pid])
                    rows = cursor.fetchall()
                waiting = any(row[3] == "Lock" for row in rows)
                locked = [row[:3] for row in rows if row[0] is not None]
                self._note(locked, probing=gate is not None and waiting)
                if gate is not None and waiting:
                    gate.rollback()
                    gate.close()
                    gate = None
                self.ready.set()  # connected and polling: the statement may start
        except BaseException as exc:  # re-raised by the migrating thread
            self.error = exc
        finally:
            self.ready.set()
            if gate is not None:
                gate.close()
            probe.close()

    def _open_gate(self, gate: Any) -> Any:
        gate.ensure_connection()
        gate.set_autocommit(False)
        with gate.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            if self.gated:
                cursor.execute(f"LOCK TABLE {', '.join(self.gated)} IN ACCESS SHARE MODE")
            cursor.execute("SELECT 1")  # takes the transaction's snapshot
        return gate

    def _note(self, locked: Sequence[tuple[int, str, str]], *, probing: bool) -> None:
        for oid, name, mode in locked:
            if oid not in self.existing:
                continue
            old = self.seen.get(name)
            if old is None or LOCK_ORDER.index(mode) > LOCK_ORDER.index(old):
                self.seen[name] = mode
        if probing:  # the statement waits on the gate holding (or asking for) these
            names = {name for oid, name, _ in locked if oid in self.existing and oid in self.tables}
            self.observer.probe(self.op, sorted(names))


# -- running the migrations ------------------------------------------------------------


@dataclass
class _Current:
    migration: MigrationTrace
    op: OpTrace | None = None
    failed: OpTrace | None = None
    deferred: dict[str, OpTrace] = field(default_factory=dict)


class Tracer:
    def __init__(
        self,
        connection: Any,
        traced: set[tuple[str, str]],
        lines: Callable[[Any], tuple[str | None, list[int | None]]],
        trace: Trace,
        *,
        keep_new: bool = True,
        deploy_of: Callable[[Any], object] | None = None,
    ) -> None:
        self.connection = connection
        self.traced = traced
        self.keep_new = keep_new
        self.deploy_of = deploy_of
        self.deploy: object = _NO_DEPLOY
        self.known: set[int] = set()  # relations seen so far
        self.created_in: dict[int, object] = {}  # relation -> the deploy that created it
        self.filled: set[str] = set()
        self.lines = lines
        self.trace = trace
        self.observer = _Observer(connection)
        self.existing: set[int] = set()
        self.current: _Current | None = None
        self.started = 0.0
        self.pid = 0

    # progress_callback of MigrationExecutor
    def progress(self, action: str, migration: Any = None, fake: bool | None = None, /) -> None:
        if migration is None or (migration.app_label, migration.name) not in self.traced:
            return
        if action == "apply_start":
            path, lines = self.lines(migration)
            record = MigrationTrace(
                f"{migration.app_label}.{migration.name}",
                path,
                bool(migration.atomic),
                squashed=bool(getattr(migration, "replaces", None)),
            )
            for i, op in enumerate(migration.operations):
                record.operations.append(OpTrace(i, _describe(op), lines[i]))
            self.trace.migrations.append(record)
            if not self.keep_new and self.deploy_of is None:
                # --all: as the rules do, every table an earlier migration made counts
                # as production's (and gets its rows).
                self.fill()
                self.existing = set(self.observer.snapshot().relations)
            elif not self.keep_new and self.deploy_of is not None:
                self._enter_deploy(self.deploy_of(migration))
            self.current = _Current(record)
            self.started = time.perf_counter()
            self.observer.overhead = 0.0
        elif action == "apply_success" and self.current is not None:
            elapsed = time.perf_counter() - self.started - self.observer.overhead
            self.current.migration.time_ms = elapsed * 1000
            self.current = None

    def _enter_deploy(self, deploy: object) -> None:
        """--all with release tags: what the migration's own release created is new (as
        for the rules); every other relation is production's. Relations the previous
        migration created are credited to its release."""
        relations = set(self.observer.snapshot().relations)
        for oid in relations - self.known:
            self.created_in[oid] = self.deploy
        self.known = relations
        if deploy != self.deploy:
            self.fill()
        self.deploy = deploy
        self.existing = {oid for oid in relations if self.created_in.get(oid, _NO_DEPLOY) != deploy}

    def fill(self) -> None:
        """Give ``trace.rows`` rows to every table not filled yet."""
        if not self.trace.rows:
            return
        from pytest_django_gates.migrations.tracefill import fill_tables

        tables = [
            name
            for name, kind, _, _ in self.observer.snapshot().relations.values()
            if kind in ("r", "p") and name not in self.filled and name != "django_migrations"
        ]
        self.filled.update(tables)
        if tables:
            self.trace.notes.extend(fill_tables(self.connection, tables, self.trace.rows))

    @contextmanager
    def operation_wrappers(self, migrations: Sequence[Any]) -> Iterator[None]:
        wrapped: list[Any] = []
        try:
            for migration in migrations:
                for i, op in enumerate(migration.operations):
                    op.database_forwards = self._wrap_forwards(op, i)
                    wrapped.append(op)
            yield
        finally:
            for op in wrapped:
                op.__dict__.pop("database_forwards", None)

    def _wrap_forwards(self, op: Any, index: int) -> Callable[..., Any]:
        original = type(op).database_forwards.__get__(op)

        def database_forwards(
            app_label: str, schema_editor: Any, from_state: Any, to_state: Any
        ) -> Any:
            current = self.current
            if current is None:
                return original(app_label, schema_editor, from_state, to_state)
            record = current.migration.operations[index]
            current.op = record
            queued = len(schema_editor.deferred_sql)
            overhead = self.observer.overhead
            started = time.perf_counter()
            try:
                if self.connection.in_atomic_block:
                    with self._observed(record):
                        return original(app_label, schema_editor, from_state, to_state)
                return original(app_label, schema_editor, from_state, to_state)
            except BaseException:
                current.failed = record
                raise
            finally:
                spent = time.perf_counter() - started - (self.observer.overhead - overhead)
                record.time_ms += spent * 1000
                for sql in schema_editor.deferred_sql[queued:]:
                    current.deferred[str(sql)] = record
                current.op = None

        return database_forwards

    @contextmanager
    def _observed(self, record: OpTrace) -> Iterator[None]:
        """Locks taken by an operation's non-DDL statements (a data migration's)."""
        before = self.observer.snapshot()
        yield  # on an exception nothing is observed: the transaction is aborted
        if self.connection.in_atomic_block:
            after = self.observer.snapshot()
            self.observer.record(record, before, after, self.existing)

    def execute_wrapper(
        self, execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any
    ) -> Any:
        current = self.current
        if self.observer.busy or current is None or not isinstance(sql, str):
            return execute(sql, params, many, context)
        statements = sqltext.split_sql(sql)
        first = statements[0] if statements else None
        op = current.op or current.deferred.get(sql)
        if op is None and current.migration.operations:
            op = current.migration.operations[-1]  # deferred SQL not recognised
        if op is None or first is None or first.tokens[:1] == () or first.tokens[0] not in _DDL:
            return execute(sql, params, many, context)
        op.statements += 1
        timed = current.op is None  # deferred: its time is the operation's too
        started = time.perf_counter()
        overhead = self.observer.overhead
        try:
            if sqltext.cannot_run_in_transaction(first, 99) is not None:
                return self._sampled(op, execute, sql, params, many, context)
            from django.db import transaction

            if self.connection.in_atomic_block:
                return self._statement(op, execute, sql, params, many, context)
            with transaction.atomic(using=self.connection.alias):
                return self._statement(op, execute, sql, params, many, context)
        finally:
            if timed:
                spent = time.perf_counter() - started - (self.observer.overhead - overhead)
                op.time_ms += spent * 1000

    def _statement(self, op: OpTrace, execute: Callable[..., Any], *args: Any) -> Any:
        before = self.observer.snapshot()
        result = execute(*args)
        after = self.observer.snapshot()
        self.observer.record(op, before, after, self.existing)
        return result

    def _sampled(self, op: OpTrace, execute: Callable[..., Any], *args: Any) -> Any:
        before = self.observer.snapshot()
        tables = {oid for oid, rel in before.relations.items() if rel[1] in ("r", "p")}
        gated = sorted(before.relations[oid][0] for oid in tables & self.existing)
        sampler = _Sampler(self.pid, op, self.observer, self.existing, tables, gated)
        sampler.start()
        sampler.ready.wait(10)
        try:
            result = execute(*args)
        finally:
            sampler.stop.set()
            sampler.join()
        if sampler.error is not None:
            raise TraceError(
                f"could not watch the locks of {op.operation!r}: {sampler.error}"
            ) from sampler.error
        op.sampled = True
        after = self.observer.snapshot()
        # statistics of other transactions are not this one's: no scans from a sample
        self.observer.record(op, before, replace(after, scans=before.scans), self.existing)
        for name, mode in sampler.seen.items():
            op.take(name, mode)
            if name not in op.existing:
                op.existing.append(name)
        return result


def _describe(op: Any) -> str:
    try:
        text = str(op.describe())
    except Exception:
        text = type(op).__name__
    return f"{type(op).__name__}: {text}" if not text.startswith(type(op).__name__) else text


# -- the whole trace -------------------------------------------------------------------


def run_trace(
    server: Server,
    alias: str,
    selected: set[tuple[str, str]],
    rows: int,
    lines: Callable[[Any], tuple[str | None, list[int | None]]],
    *,
    keep_new: bool,
    deploy_of: Callable[[Any], object] | None = None,
) -> Trace:
    """Trace ``selected`` on a scratch database of ``server``; raises :class:`TraceError`.

    ``keep_new`` (``--since``, ``--unapplied``, named migrations): what an earlier traced
    migration created is new, as for the rules; otherwise (``--all``) each migration is
    judged against everything before it, or, with ``deploy_of`` (release tags), against
    everything its own release did not create."""
    trace = Trace(server=server.display, rows=rows)
    created: list[str] = []
    try:
        _trace(trace, server, alias, selected, lines, keep_new, created, deploy_of)
    except TraceError as exc:
        if created:
            raise TraceError(f"{exc} (scratch database {created[0]} dropped)") from exc
        raise
    return trace


def _trace(
    trace: Trace,
    server: Server,
    alias: str,
    selected: set[tuple[str, str]],
    lines: Callable[[Any], tuple[str | None, list[int | None]]],
    keep_new: bool,
    created: list[str],
    deploy_of: Callable[[Any], object] | None = None,
) -> None:
    from django.db.migrations.executor import MigrationExecutor

    started = time.perf_counter()
    with terminate_as_interrupt(), scratch_database(server, alias, created) as connection:
        trace.database = created[0]
        tracer = Tracer(connection, set(), lines, trace, keep_new=keep_new, deploy_of=deploy_of)
        try:
            connection.ensure_connection()
        except Exception as exc:
            raise TraceError(f"cannot connect to the scratch database: {exc}") from exc
        trace.server_version = _server_version(connection)
        executor = MigrationExecutor(connection, progress_callback=tracer.progress)
        graph = executor.loader.graph
        traced = {key for key in selected if key in graph.nodes}
        after: set[tuple[str, str]] = set()
        for key in traced:
            after |= {key, *graph.backwards_plan(key)}  # the key and what depends on it
        plan = [
            (m.app_label, m.name)
            for m, _ in executor.migration_plan(graph.leaf_nodes(), clean_start=True)
        ]
        before = [key for key in plan if key not in after]
        before_set = set(before)
        targets = [
            key
            for key in before
            if not any(child.key in before_set for child in graph.node_map[key].children)
        ]
        try:
            if targets:
                executor.migrate(targets)
        except Exception as exc:
            raise TraceError(
                "the migrations before the traced ones failed to apply on the scratch "
                f"database: {type(exc).__name__}: {exc}"
            ) from exc
        executor.loader.build_graph()
        tracer.fill()
        tracer.existing = set(tracer.observer.snapshot().relations)
        tracer.known = set(tracer.existing)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            tracer.pid = int(cursor.fetchone()[0])
        trace.setup_ms = (time.perf_counter() - started) * 1000
        tracer.traced = traced
        nodes = executor.loader.graph.nodes
        migrations = [nodes[key] for key in plan if key in traced and key in nodes]
        with (
            tracer.operation_wrappers(migrations),
            connection.execute_wrapper(tracer.execute_wrapper),
        ):
            try:
                executor.migrate(executor.loader.graph.leaf_nodes())
            except Exception as exc:
                failing = tracer.current.migration.label if tracer.current else "a migration"
                op = tracer.current.failed if tracer.current else None
                where = f" (operation {op.index + 1}: {op.operation})" if op else ""
                raise TraceError(
                    f"{failing}{where} failed to apply on the scratch database: "
                    f"{type(exc).__name__}: {' '.join(str(exc).split())}"
                ) from exc


def _server_version(connection: Any) -> str:
    number = int(connection.pg_version)
    return f"{number // 10000}.{number % 10000}" if number >= 100000 else str(number)


# -- trace versus rules ------------------------------------------------------------------


def compare(
    trace: Trace, findings: list[Finding], operation_of: Callable[[Finding], int | None]
) -> tuple[list[Finding], list[Finding]]:
    """(static findings with the trace's evidence appended, DJG240/DJG241 findings).

    ``operation_of`` gives the index of the top-level operation a static finding is
    about (``None`` for a migration- or project-level finding). Every finding about a
    traced operation gets the evidence; DJG240 needs an operation no rule reported at
    all (the rules "said safe"); DJG241 needs a lock or rewrite error."""
    from pytest_django_gates.migrations.registry import RULES

    ops: dict[tuple[str, int], OpTrace] = {
        (migration.label, op.index): op
        for migration in trace.migrations
        for op in migration.operations
    }
    annotated: list[Finding] = []
    flagged: dict[int, list[Finding]] = {}
    for finding in findings:
        index = operation_of(finding)
        op = ops.get((finding.object, index)) if index is not None else None
        if op is not None:
            flagged.setdefault(id(op), []).append(finding)
            finding = replace(finding, message=f"{finding.message} [trace: {op.evidence()}]")
        annotated.append(finding)

    extra: list[Finding] = []

    def disagreement(code: str, migration: MigrationTrace, op: OpTrace, message: str) -> None:
        rule = RULES[code]
        extra.append(
            Finding(
                code=rule.code,
                severity=rule.severity,
                message=f"operation {op.index + 1} ({op.operation}): {message}",
                object=migration.label,
                path=migration.path,
                line=op.line,
                hint=rule.hint,
            )
        )

    for migration in trace.migrations:
        if migration.squashed:
            continue
        for op in migration.operations:
            static = flagged.get(id(op), [])
            blocking = op.blocking_on_existing()
            work = [t for t in op.work_on_existing() if t in blocking]
            if work and not static:
                disagreement(
                    "DJG240",
                    migration,
                    op,
                    f"the trace saw {', '.join(work)} rewritten, scanned or indexed under a "
                    f"blocking lock ({op.evidence()}), and no rule reported the operation",
                )
            errors = [f for f in static if f.code in LOCK_CODES and f.severity == "error"]
            if errors and not blocking:
                codes = ", ".join(sorted({f.code for f in errors}))
                disagreement(
                    "DJG241",
                    migration,
                    op,
                    f"{codes} said it blocks, and the trace saw no lock that blocks reads or "
                    f"writes on an existing table ({op.evidence()})",
                )
    return annotated, extra


def write_trace(trace: Trace, path: Path) -> None:
    import json

    from pytest_django_gates.report import atomic_write_text

    atomic_write_text(path, json.dumps(trace.to_dict(), indent=2) + "\n")


def summary(trace: Trace) -> str:
    blocking = sum(1 for m in trace.migrations for op in m.operations if op.blocking_on_existing())
    per = (
        sum(m.time_ms for m in trace.migrations) / len(trace.migrations)
        if trace.migrations
        else 0.0
    )
    rows = f", {trace.rows} rows per table" if trace.rows else ""
    notes = f"; {len(trace.notes)} fill notes" if trace.notes else ""
    return (
        f"traced {trace.operations} operations of {len(trace.migrations)} migrations on "
        f"PostgreSQL {trace.server_version} ({trace.server}{rows}): {blocking} took a lock "
        f"that blocks reads or writes; {per:.0f} ms per migration{notes}"
    )
