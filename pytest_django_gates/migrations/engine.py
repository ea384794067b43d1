"""One walk of the migration graph: states built incrementally, rules run per operation.

The loader is built once. The full plan (every leaf, in Django's order) is
walked with one ``ProjectState`` that each operation mutates in place with its
own ``state_forwards`` (what ``Migration.mutate_state(preserve=False)`` does),
so no state is ever rebuilt or rendered. Before an operation of a selected
migration runs, the model it touches is snapshotted (shallow copies: the state
replaces fields and option lists rather than mutating them); rules then see
the model before and after. Migrations outside the selection only move the
state forward.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_django_gates.migrations import facts, sqltext
from pytest_django_gates.migrations.base import (
    Env,
    MigrationContext,
    MigrationRef,
    ModelKey,
    OpContext,
    OpRecord,
    Rule,
    Tracker,
)
from pytest_django_gates.migrations.facts import ModelSnap
from pytest_django_gates.migrations.runpython import schema_calls
from pytest_django_gates.report import Severity

if TYPE_CHECKING:
    from django.db.migrations.graph import MigrationGraph
    from django.db.migrations.state import ProjectState


class AnalysisError(Exception):
    """The migrations cannot be analysed (import failure, cycle, broken state):
    the gate reports ``error``, never a pass."""


@dataclass(frozen=True)
class RawFinding:
    code: str
    severity: Severity
    message: str
    hint: str
    migration: MigrationRef
    index: tuple[int, ...] | None


@dataclass(eq=False)
class WalkResult:
    plan: list[ModelKey]
    analysed: list[MigrationRef]
    findings: list[RawFinding]
    state: Any
    """The project state at the end of the plan (== ``loader.project_state()``)."""


_SCHEMA_OPS = frozenset(
    {
        "AddField",
        "RemoveField",
        "AlterField",
        "RenameField",
        "RenameModel",
        "DeleteModel",
        "AlterModelTable",
        "AddIndex",
        "RemoveIndex",
        "RenameIndex",
        "AddConstraint",
        "RemoveConstraint",
        "AlterUniqueTogether",
        "AlterIndexTogether",
        "AlterOrderWithRespectTo",
    }
)
_NOT_LOCKING = frozenset({"AddIndexConcurrently", "RemoveIndexConcurrently"})


def _reads_tables(op: Any, kinds: frozenset[str]) -> bool:
    """Whether the rules judge what ``op`` does to tables by name (RunSQL, and a
    RunPython whose source changes the schema)."""
    if "RunSQL" in kinds:
        return True
    return "RunPython" in kinds and bool(schema_calls(getattr(op, "code", None)))


def full_plan(graph: MigrationGraph) -> list[ModelKey]:
    """Every node, dependencies first, in the order ``MigrationGraph.make_state`` uses."""
    plan: list[ModelKey] = []
    seen: set[ModelKey] = set()
    for leaf in graph.leaf_nodes():
        for key in graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append(key)
    return plan


def migration_file(migration: Any) -> Path | None:
    """The migration's source file (absolute; symlinks resolved), ``None`` without one."""
    module = sys.modules.get(type(migration).__module__)
    filename = getattr(module, "__file__", None)
    return _real(filename) if filename else None


@functools.lru_cache(maxsize=8192)
def _real(filename: str) -> Path:
    return Path(os.path.realpath(filename))


def migration_ref(migration: Any, env: Env) -> MigrationRef:
    atomic = bool(getattr(migration, "atomic", True)) and bool(
        getattr(env.connection.features, "can_rollback_ddl", True)
    )
    return MigrationRef(
        app_label=migration.app_label,
        name=migration.name,
        migration=migration,
        atomic=atomic,
        locate=migration_file,
    )


def op_model_names(op: Any, kinds: frozenset[str]) -> tuple[str | None, str | None]:
    """Model name the operation acts on, before and after it."""
    if "RenameModel" in kinds:
        return op.old_name, op.new_name
    name = getattr(op, "model_name", None)
    if isinstance(name, str):
        return name, name
    if "ModelOperation" in kinds:
        return op.name, op.name
    return None, None


@functools.lru_cache(maxsize=1)
def walk_state_class() -> type[ProjectState]:
    """``ProjectState`` for a walk that never renders models.

    Django's ``ProjectState.alter_field`` scans every field of every model to
    decide how to reload *rendered* models; nothing is rendered here, so that
    quadratic scan is skipped (the state change itself is the same).
    """
    from django.db.migrations.state import ProjectState
    from django.db.models import NOT_PROVIDED

    class WalkState(ProjectState):
        def alter_field(
            self, app_label: str, model_name: str, name: str, field: Any, preserve_default: bool
        ) -> None:
            if "apps" in self.__dict__ or getattr(self, "_relations", None) is not None:
                super().alter_field(app_label, model_name, name, field, preserve_default)
                return
            if not preserve_default:
                field = field.clone()
                field.default = NOT_PROVIDED
            self.models[app_label, model_name].fields[name] = field

    return WalkState


class Walker:
    def __init__(
        self,
        graph: MigrationGraph,
        env: Env,
        rules: Iterable[Rule],
        *,
        keep_new: bool,
        real_apps: set[str],
        deploy_of: Callable[[MigrationRef], object] | None = None,
    ) -> None:
        """``deploy_of``: the deploy (release) of each analysed migration, when the
        project's release tags say (``migrations.releases = "tags"``)."""
        self.graph = graph
        self.deploy_of = deploy_of
        self.env = env
        self.state: ProjectState = walk_state_class()(real_apps=set(real_apps))
        self.tracker = Tracker(keep_new=keep_new)
        self.op_rules: dict[str, list[Rule]] = {}
        self.migration_rules: list[Rule] = []
        for rule in rules:
            if not rule.applies_to(env.vendor):
                continue
            if rule.check_operation is not None:
                for kind in rule.operations:
                    self.op_rules.setdefault(kind, []).append(rule)
            elif rule.check_migration is not None:
                self.migration_rules.append(rule)
        self.findings: list[RawFinding] = []
        self._router_checked = self._routers_configured()

    @staticmethod
    def _routers_configured() -> bool:
        from django.conf import settings

        return bool(getattr(settings, "DATABASE_ROUTERS", None))

    def walk(self, selected: set[ModelKey]) -> WalkResult:
        plan = full_plan(self.graph)
        analysed: list[MigrationRef] = []
        for key in plan:
            migration = self.graph.nodes[key]
            if key in selected:
                ref = migration_ref(migration, self.env)
                analysed.append(ref)
                self._analyse(ref)
            else:
                self._forward(migration)
        return WalkResult(plan=plan, analysed=analysed, findings=self.findings, state=self.state)

    # -- migrations outside the selection: state only ------------------------------

    def _forward(self, migration: Any) -> None:
        app_label = migration.app_label
        for i, op in enumerate(migration.operations):
            kinds = facts.kinds(op)
            self._track_constraints(op, kinds, app_label, here=False)
            try:
                op.state_forwards(app_label, self.state)
            except Exception as exc:
                raise self._state_error(migration, (i,), op, exc) from exc

    # -- selected migrations -------------------------------------------------------

    def _analyse(self, ref: MigrationRef) -> None:
        self.tracker.start_migration(self.deploy_of(ref) if self.deploy_of else None)
        records: list[OpRecord] = []
        for i, op in enumerate(ref.migration.operations):
            self._operation(ref, op, (i,), self.state, records, database=True)
        context = MigrationContext(env=self.env, migration=ref, ops=records, tracker=self.tracker)
        for rule in self.migration_rules:
            assert rule.check_migration is not None
            if ref.squashed and not rule.on_squashed:
                continue
            for hit in rule.check_migration(context):
                small = self._small_record(records, hit.index) if rule.size_dependent else None
                self._add(rule, ref, hit.index, hit.message, hit.severity, hit.hint, small)

    def _operation(
        self,
        ref: MigrationRef,
        op: Any,
        index: tuple[int, ...],
        state: ProjectState,
        records: list[OpRecord],
        *,
        database: bool,
    ) -> None:
        kinds = facts.kinds(op)
        app_label = ref.app_label
        if "SeparateDatabaseAndState" in kinds:
            # Database operations run against their own copy of the state; the real
            # state follows state_operations only.
            if database and op.database_operations:
                db_state = state.clone()
                for j, sub in enumerate(op.database_operations):
                    self._operation(ref, sub, (*index, j), db_state, records, database=True)
            self._state_forwards(ref, index, op, state)
            return
        before_name, after_name = op_model_names(op, kinds)
        before_key = (app_label, before_name.lower()) if before_name else None
        after_key = (app_label, after_name.lower()) if after_name else None
        before_state = state.models.get(before_key) if before_key else None
        before = ModelSnap.of(before_state, copy=True) if before_state is not None else None
        self._state_forwards(ref, index, op, state)
        after_state = state.models.get(after_key) if after_key else None
        after = ModelSnap.of(after_state, copy=False) if after_state is not None else None

        def lookup_after(key: ModelKey) -> ModelSnap | None:
            found = state.models.get(key)
            return None if found is None else ModelSnap.of(found, copy=False)

        def lookup_before(key: ModelKey) -> ModelSnap | None:
            if key == before_key:
                return before
            return lookup_after(key)

        ctx = OpContext(
            env=self.env,
            migration=ref,
            operation=op,
            index=index,
            kinds=kinds,
            app_label=app_label,
            model_key=before_key,
            before=before,
            after=after,
            lookup_before=lookup_before,
            lookup_after=lookup_after,
            tracker=self.tracker,
            new_tables=self._new_tables(state) if "RunSQL" in kinds else frozenset(),
            live_tables=self._live_tables(state) if _reads_tables(op, kinds) else {},
        )
        if database and self._allowed(ctx, before_name):
            for kind in kinds & self.op_rules.keys():
                for rule in self.op_rules[kind]:
                    assert rule.check_operation is not None
                    if ref.squashed and not rule.on_squashed:
                        continue
                    for hit in rule.check_operation(ctx):
                        small = self._small(ctx, state) if rule.size_dependent else None
                        self._add(rule, ref, index, hit.message, hit.severity, hit.hint, small)
            records.append(
                OpRecord(
                    index=index,
                    operation=op,
                    kinds=kinds,
                    table=self._locked_table(ctx),
                    data="RunPython" in kinds
                    or ("RunSQL" in kinds and any(sqltext.writes_rows(s) for s in ctx.statements)),
                    updates=self._updated_tables(ctx, state),
                )
            )
        self._track(ctx, after_key)

    def _state_forwards(
        self, ref: MigrationRef, index: tuple[int, ...], op: Any, state: ProjectState
    ) -> None:
        try:
            op.state_forwards(ref.app_label, state)
        except Exception as exc:
            raise self._state_error(ref.migration, index, op, exc) from exc

    def _allowed(self, ctx: OpContext, model_name: str | None) -> bool:
        """Whether Django would run the operation on the analysed database (routers)."""
        if not self._router_checked:
            return True
        from django.db import router

        hints = dict(getattr(ctx.operation, "hints", None) or {})
        try:
            if model_name:
                return bool(
                    router.allow_migrate(
                        self.env.alias, ctx.app_label, model_name=model_name.lower(), **hints
                    )
                )
            return bool(router.allow_migrate(self.env.alias, ctx.app_label, **hints))
        except Exception:  # a router that needs the model class: assume it runs
            return True

    def _live_tables(self, state: ProjectState) -> dict[str, ModelSnap]:
        """The tables production has and the running code reads, by name: the models'
        tables, and the join tables Django creates for their many-to-many fields with
        no ``through`` model (named ``<Model>_<field>``, as Django names its auto-created
        through model; not in the migration state, so read off the fields)."""
        tables: dict[str, ModelSnap] = {}
        for key, model in state.models.items():
            if key in self.tracker.new_models:
                continue
            snap = ModelSnap.of(model, copy=False)
            if not facts.db_backed(snap):
                continue
            name = facts.table_name(snap, self.env)
            tables[name] = snap
            for field_name, field in snap.fields.items():
                if (key, field_name) in self.tracker.new_fields or not facts.is_m2m(field):
                    continue
                if getattr(field.remote_field, "through", None):
                    continue
                join = getattr(field, "db_table", None) or self._join_table(name, field_name)
                tables.setdefault(
                    join,
                    ModelSnap(snap.app_label, f"{snap.name}_{field_name}", {}, {"db_table": join}),
                )
        return tables

    def _updated_tables(self, ctx: OpContext, state: ProjectState) -> frozenset[str]:
        """The existing tables a data operation writes rows of in bulk (OpRecord.updates)."""
        from pytest_django_gates.migrations.runpython import updated_models

        tables: set[str] = set()
        if "RunSQL" in ctx.kinds:
            tables.update(t for s in ctx.statements if (t := sqltext.updated_table(s)))
        elif "RunPython" in ctx.kinds:
            for app_label, name in updated_models(getattr(ctx.operation, "code", None)):
                key = (app_label, name.lower())
                model = state.models.get(key)
                if model is not None and key not in self.tracker.new_models:
                    tables.add(facts.table_name(ModelSnap.of(model, copy=False), self.env))
        return frozenset(tables - self._new_tables(state)) if tables else frozenset()

    def _join_table(self, table: str, field_name: str) -> str:
        from django.db.backends.utils import truncate_name

        max_length = self.env.connection.ops.max_name_length()
        return str(truncate_name(f"{table}_{field_name}", max_length))

    def _new_tables(self, state: ProjectState) -> frozenset[str]:
        tables = set()
        for key in self.tracker.new_models:
            model = state.models.get(key)
            if model is not None:
                tables.add(facts.table_name(ModelSnap.of(model, copy=False), self.env))
        return frozenset(tables)

    def _locked_table(self, ctx: OpContext) -> str | None:
        """The existing table this operation keeps locked until its transaction ends."""
        if ctx.is_("RunSQL"):
            for stmt in ctx.statements:
                table = sqltext.locked_table(stmt)
                if table and table not in ctx.new_tables:
                    return table
            return None
        if not (ctx.kinds & _SCHEMA_OPS) or ctx.kinds & _NOT_LOCKING:
            return None
        snap = ctx.before
        if snap is None or ctx.table_is_new or not facts.db_backed(snap):
            return None
        if ctx.is_("AlterField"):
            from pytest_django_gates.migrations.rules._helpers import alter_facts

            alter = alter_facts(ctx)
            if alter is None or not alter.changed:
                return None
        if ctx.is_("AddField") and facts.is_m2m(ctx.operation.field):
            return None
        if (
            ctx.is_("RenameModel", "AlterModelTable")
            and ctx.after is not None
            and facts.table_name(snap, self.env) == facts.table_name(ctx.after, self.env)
        ):
            return None
        return facts.table_name(snap, self.env)

    def _track(self, ctx: OpContext, after_key: ModelKey | None) -> None:
        tracker = self.tracker
        op = ctx.operation
        if ctx.is_("CreateModel") and after_key:
            tracker.new_models.add(after_key)
        elif ctx.is_("DeleteModel") and ctx.model_key:
            tracker.new_models.discard(ctx.model_key)
        elif ctx.is_("RenameModel") and ctx.model_key and after_key:
            tracker.rename_model(ctx.model_key, after_key)
        elif ctx.is_("AddField") and ctx.model_key:
            tracker.new_fields.add((ctx.model_key, op.name))
        elif ctx.is_("RenameField") and ctx.model_key:
            tracker.rename_field(ctx.model_key, op.old_name, op.new_name)
        self._track_constraints(op, ctx.kinds, ctx.app_label, here=True)

    def _track_constraints(
        self, op: Any, kinds: frozenset[str], app_label: str, *, here: bool
    ) -> None:
        tracker = self.tracker
        name = getattr(op, "model_name", None)
        if not isinstance(name, str):
            return
        key = (app_label, name.lower())
        if "AddConstraintNotValid" in kinds:
            tracker.not_valid.add((key, op.constraint.name))
            if here:
                tracker.not_valid_here.add((key, op.constraint.name))
        elif "ValidateConstraint" in kinds or "RemoveConstraint" in kinds:
            tracker.not_valid.discard((key, op.name))
            tracker.not_valid_here.discard((key, op.name))

    def _small(self, ctx: OpContext, state: ProjectState) -> str | None:
        """How the table the operation works on is declared small (see
        :attr:`Rule.size_dependent`), or None. A RunSQL's table is found by its name
        among the models of the state."""
        if "small" in ctx.memo:
            found: str | None = ctx.memo["small"]
            return found
        snaps: list[ModelSnap] = []
        if ctx.before is not None:
            snaps.append(ctx.before)
        elif ctx.is_("RunSQL"):
            live = self._live_tables(state)
            for stmt in ctx.statements:
                index = sqltext.create_index(stmt)
                name = index.table if index is not None else sqltext.alter_table(stmt)
                if name and name in live:
                    snaps.append(live[name])
        declared = [small_declaration(snap.label, self.env) for snap in snaps]
        found = declared[0] if declared and all(declared) else None
        ctx.memo["small"] = found
        return found

    def _small_record(self, records: list[OpRecord], index: tuple[int, ...] | None) -> str | None:
        """How the table a migration-level finding's lock is on is declared small (the
        first operation of the migration that locks one), or None."""
        locked = next((r.table for r in records if r.table), None)
        if locked is None or index is None:
            return None
        snap = self._live_tables(self.state).get(locked)
        return small_declaration(snap.label, self.env) if snap is not None else None

    def _add(
        self,
        rule: Rule,
        ref: MigrationRef,
        index: tuple[int, ...] | None,
        message: str,
        severity: Severity | None,
        hint: str | None,
        small: str | None = None,
    ) -> None:
        severity = severity or rule.severity
        if small is not None and severity == "error":
            severity = "warning"
            message = (
                f"{message} (a warning: {small}; its rows cannot grow, so the lock is held briefly)"
            )
        self.findings.append(
            RawFinding(
                code=rule.code,
                severity=severity,
                message=message,
                hint=hint or rule.hint,
                migration=ref,
                index=index,
            )
        )

    @staticmethod
    def _state_error(
        migration: Any, index: tuple[int, ...], op: Any, exc: Exception
    ) -> AnalysisError:
        where = migration_file(migration)
        try:
            described = op.describe()
        except Exception:
            described = type(op).__name__
        position = ".".join(str(i) for i in index)
        return AnalysisError(
            f"{where or migration.app_label + '.' + migration.name}: operation {position} "
            f"({described}) cannot be applied to the migration state: "
            f"{type(exc).__name__}: {exc}"
        )


def small_declaration(label: str, env: Env) -> str | None:
    """How the model ``app_label.ModelName`` is declared a small table, or None: in
    ``indexes.small_tables``, or ``django_gates_small_table = True`` on the model class
    of the project as it is now (a model deleted since is not declared)."""
    from pytest_django_gates.indexes.judge import SMALL_TABLE_ATTR

    if label.lower() in env.small_tables:
        return f"indexes.small_tables declares {label} small"
    from django.apps import apps

    app_label, _, name = label.partition(".")
    try:
        model = apps.get_model(app_label, name)
    except LookupError:
        return None
    if getattr(model, SMALL_TABLE_ATTR, False) is True:
        return f"{label} is declared small ({SMALL_TABLE_ATTR} = True on the model)"
    return None
