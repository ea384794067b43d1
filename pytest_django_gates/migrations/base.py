"""The types every rule works with: :class:`Rule`, :class:`Hit` and the contexts.

A rule is a small module under :mod:`pytest_django_gates.migrations.rules`
exposing ``RULE = Rule(...)``: a stable code, the one-line explanation of what
breaks, the safe alternative in Django terms, and one check function:

* ``check_operation(ctx: OpContext)`` for the operation classes named in
  ``operations`` (matched against the operation's class and its bases, so
  subclasses are covered);
* ``check_migration(ctx: MigrationContext)`` once per migration;
* ``check_project(ctx: ProjectContext)`` once per run (missing migrations,
  conflicting leaves).

Checks return :class:`Hit` objects; the engine turns them into report findings
with the migration file and the operation's line. Nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pytest_django_gates.report import Finding, Severity

if TYPE_CHECKING:
    from pytest_django_gates.migrations.facts import ModelSnap
    from pytest_django_gates.migrations.sqltext import Statement

ModelKey = tuple[str, str]
Level = Literal["operation", "migration", "project", "report"]
POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class Hit:
    """One problem a rule found. ``index`` (migration-level rules only) points at an operation."""

    message: str
    severity: Severity | None = None
    hint: str | None = None
    index: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    title: str
    """What breaks, in one line."""
    hint: str
    """The safe alternative, in Django terms."""
    postgresql_only: bool = False
    versions: str = ""
    """How the rule depends on the PostgreSQL version (documentation)."""
    size_dependent: bool = False
    """Whether the harm grows with the table's rows (a rewrite, a scan or an index build
    under a lock, a validation). On a table the project declares small
    (``django_gates_small_table = True`` on the model, or ``indexes.small_tables``) such
    a finding is a warning that names the declaration. Rules whose harm is breaking the
    released code (drops, renames, NOT NULL without a default) never are."""
    on_squashed: bool = False
    """Whether the rule also judges squashed migrations (``replaces = [...]``). A squash
    runs only on a database that never applied what it replaces, that is an empty one:
    lock, rewrite and old-code rules do not apply there; rules about a migration that
    cannot run, or about its code, do."""
    operations: frozenset[str] = frozenset()
    check_operation: Callable[[OpContext], Iterable[Hit]] | None = None
    check_migration: Callable[[MigrationContext], Iterable[Hit]] | None = None
    check_project: Callable[[ProjectContext], Iterable[Finding]] | None = None

    @property
    def level(self) -> Level:
        if self.check_project is not None:
            return "project"
        if self.check_migration is not None:
            return "migration"
        if self.check_operation is not None:
            return "operation"
        return "report"

    def applies_to(self, vendor: str) -> bool:
        return not self.postgresql_only or vendor == POSTGRESQL


@dataclass(eq=False)
class Env:
    """What the rules know about the target database."""

    vendor: str
    """Vendor the rules are evaluated for (``postgresql``, ``sqlite``, ...)."""
    alias: str
    pg_version: int
    connection: Any
    """A ``DatabaseWrapper`` of ``vendor``; only its type mappings are used, never a query."""
    django_version: tuple[int, ...]
    models_modules: frozenset[str]
    """Dotted names of every installed app's models module (for RunPython checks)."""
    small_tables: frozenset[str] = frozenset()
    """``app_label.model`` (lower case) of the tables ``indexes.small_tables`` declares
    small (see :attr:`Rule.size_dependent`)."""

    @property
    def postgresql(self) -> bool:
        return self.vendor == POSTGRESQL


@dataclass(eq=False)
class MigrationRef:
    app_label: str
    name: str
    migration: Any
    atomic: bool
    locate: Callable[[Any], Path | None]

    @cached_property
    def file(self) -> Path | None:
        """The migration file (found only when a finding or an ignore needs it)."""
        return self.locate(self.migration)

    @property
    def key(self) -> ModelKey:
        return (self.app_label, self.name)

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}"

    @property
    def squashed(self) -> bool:
        """A squashed migration (it ``replaces`` others): it runs on empty databases only."""
        return bool(getattr(self.migration, "replaces", None))


T = TypeVar("T")


class DeploySet(Generic[T]):
    """A set whose members count only in the deploy that added them: what a migration
    of the current deploy created is new (empty, unused by released code); what an
    earlier deploy created is production's. The set-like face (``add``, ``discard``,
    ``in``, iteration) is the current deploy's."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._items: dict[T, object] = {}

    def add(self, item: T) -> None:
        self._items[item] = self._tracker.deploy

    def discard(self, item: T) -> None:
        self._items.pop(item, None)

    def clear(self) -> None:
        self._items.clear()

    def __contains__(self, item: object) -> bool:
        return item in self._items and self._items[item] == self._tracker.deploy

    def __iter__(self) -> Iterator[T]:
        deploy = self._tracker.deploy
        return iter([item for item, where in self._items.items() if where == deploy])


@dataclass(eq=False)
class Tracker:
    """Facts that outlive one operation: tables and columns not in production yet,
    check constraints added ``NOT VALID`` and not validated since."""

    keep_new: bool
    """Keep "new" tables/columns across migrations (``--since`` / ``--unapplied``):
    what an earlier migration of the same deploy created is empty and unused."""
    deploy: object = None
    """The deploy of the migration being walked (with release tags, the tag that first
    shipped it: see :mod:`pytest_django_gates.migrations.releases`)."""
    new_models: DeploySet[ModelKey] = field(init=False)
    new_fields: DeploySet[tuple[ModelKey, str]] = field(init=False)
    not_valid: set[tuple[ModelKey, str]] = field(default_factory=set)
    not_valid_here: set[tuple[ModelKey, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.new_models = DeploySet(self)
        self.new_fields = DeploySet(self)

    def start_migration(self, deploy: object = None) -> None:
        """A new migration: of ``deploy`` when releases are known (what earlier
        migrations of the same deploy created stays new), else its own deploy
        (``--all``) or the range's (``keep_new``)."""
        if deploy is not None:
            self.deploy = deploy
        elif not self.keep_new:
            self.new_models.clear()
            self.new_fields.clear()
        self.not_valid_here.clear()

    def rename_model(self, old: ModelKey, new: ModelKey) -> None:
        if old in self.new_models:
            self.new_models.discard(old)
            self.new_models.add(new)
        for key, name in list(self.new_fields):
            if key == old:
                self.new_fields.discard((key, name))
                self.new_fields.add((new, name))
        for store in (self.not_valid, self.not_valid_here):
            for key, name in list(store):
                if key == old:
                    store.discard((key, name))
                    store.add((new, name))

    def rename_field(self, model: ModelKey, old: str, new: str) -> None:
        if (model, old) in self.new_fields:
            self.new_fields.discard((model, old))
            self.new_fields.add((model, new))


@dataclass(eq=False)
class OpContext:
    """One database operation, with the model state before and after it."""

    env: Env
    migration: MigrationRef
    operation: Any
    index: tuple[int, ...]
    kinds: frozenset[str]
    app_label: str
    model_key: ModelKey | None
    before: ModelSnap | None
    after: ModelSnap | None
    lookup_before: Callable[[ModelKey], ModelSnap | None]
    lookup_after: Callable[[ModelKey], ModelSnap | None]
    tracker: Tracker
    new_tables: frozenset[str]
    """Database tables created in this migration (or earlier in the same deploy)."""
    live_tables: Mapping[str, ModelSnap] = field(default_factory=dict)
    """For ``RunSQL``: the table of every model in the state that production already
    has (not created in this deploy), to judge what the SQL drops or renames."""
    memo: dict[str, Any] = field(default_factory=dict)
    """Facts computed once per operation and shared by rules."""

    def is_(self, *names: str) -> bool:
        return any(name in self.kinds for name in names)

    @property
    def table_is_new(self) -> bool:
        return self.model_key is not None and self.model_key in self.tracker.new_models

    def field_is_new_on(self, snap: ModelSnap, name: str) -> bool:
        return (snap.key, name) in self.tracker.new_fields

    def field_is_new(self, name: str) -> bool:
        return self.model_key is not None and (self.model_key, name) in self.tracker.new_fields

    @cached_property
    def statements(self) -> list[Statement]:
        """The statements of a ``RunSQL`` (empty for other operations)."""
        from pytest_django_gates.migrations.sqltext import split_operation_sql

        if not self.is_("RunSQL"):
            return []
        return split_operation_sql(getattr(self.operation, "sql", ""))


@dataclass(eq=False)
class OpRecord:
    """What a migration-level rule sees of each database operation."""

    index: tuple[int, ...]
    operation: Any
    kinds: frozenset[str]
    table: str | None
    """The existing table this operation locks for its whole transaction, if any."""
    data: bool
    """A data migration: ``RunPython``, or ``RunSQL`` that writes rows."""
    updates: frozenset[str] = frozenset()
    """The existing tables whose rows the data migration writes in bulk (``UPDATE`` /
    ``DELETE`` in SQL; ``update()``, ``delete()``, ``bulk_update()`` or a ``save()``
    per row in a RunPython, read from its source)."""


@dataclass(eq=False)
class MigrationContext:
    env: Env
    migration: MigrationRef
    ops: list[OpRecord]
    tracker: Tracker

    def __iter__(self) -> Iterator[OpRecord]:
        return iter(self.ops)


@dataclass(eq=False)
class ProjectContext:
    env: Env
    loader: Any
    state: Any
    """The project state at the end of the full plan."""
    app_labels: frozenset[str]
    """Apps in scope (local apps, plus third-party ones when configured)."""
    relpath: Callable[[Path | str | None], str | None]
    migration_file: Callable[[ModelKey], Path | None]
    edited_files: frozenset[Path] = frozenset()
    """With a git base: migration files that existed there and whose operations changed."""
