"""The analysis behind the gate, run where Django is set up.

:func:`analyze` loads the migration graph once, walks it once
(:mod:`.engine`), runs the project-wide checks (missing migrations,
conflicting leaves), applies ignores and the baseline, and returns the
``migrations`` :class:`GateResult`. Usage/configuration problems raise
:class:`ConfigError` (exit 2); a project that cannot be analysed raises
:class:`AnalysisError` (gate ``error``, exit 3). Nothing touches the database
except ``--unapplied``, which reads ``django_migrations`` once.
"""

from __future__ import annotations

import functools
import os
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_django_gates.config import ConfigError
from pytest_django_gates.migrations import facts, registry
from pytest_django_gates.migrations.base import (
    POSTGRESQL,
    Env,
    MigrationRef,
    ModelKey,
    ProjectContext,
)
from pytest_django_gates.migrations.baseline import Baseline
from pytest_django_gates.migrations.engine import (
    AnalysisError,
    RawFinding,
    Walker,
    full_plan,
    migration_file,
)
from pytest_django_gates.migrations.ignores import (
    Ignore,
    config_ignores,
    file_ignores,
    has_file_ignores,
)
from pytest_django_gates.migrations.pgtypes import PostgreSQLTypes
from pytest_django_gates.migrations.request import Request
from pytest_django_gates.migrations.source import MigrationSource, migration_source
from pytest_django_gates.report import Finding, GateResult

GATE = "migrations"

__all__ = ["GATE", "AnalysisError", "analyze", "analyze_migrations"]


def relpath(path: Path | str | None, root: Path) -> str | None:
    """``path`` relative to the project root (posix); absolute when outside it."""
    if path is None:
        return None
    return _relpath(str(path), str(root))


@functools.lru_cache(maxsize=8192)
def _relpath(path: str, root: str) -> str:
    return _relative(Path(os.path.realpath(path)), root)


def _relative(resolved: Path, root: str) -> str:
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return resolved.as_posix()


# -- environment ---------------------------------------------------------------------


def make_env(request: Request) -> Env:
    import django
    from django.apps import apps
    from django.conf import settings
    from django.db import connections

    aliases = list(getattr(settings, "DATABASES", {}) or {})
    if request.database not in aliases:
        raise ConfigError(
            f"migrations.database {request.database!r} is not in DATABASES "
            f"(known aliases: {', '.join(aliases) or 'none'})"
        )
    connection: Any = connections[request.database]
    vendor = connection.vendor
    if request.backend == POSTGRESQL and vendor != POSTGRESQL:
        connection = PostgreSQLTypes((int(django.VERSION[0]), int(django.VERSION[1])))
        vendor = POSTGRESQL
    pg_version = request.pg_version
    if pg_version is None:
        minimum = (
            getattr(connection.features, "minimum_database_version", None)
            if vendor == POSTGRESQL
            else None
        )
        pg_version = int(minimum[0]) if minimum else 14
    # The project's own apps' models modules (DJG222): a RunPython that imports a
    # library's helpers, or a library app's models, is not the project's own models
    # changing under the migration.
    modules: set[str] = set()
    django_dir = os.path.dirname(django.__file__) + os.sep
    for config in apps.get_app_configs():
        where = os.path.realpath(str(config.path)) + os.sep
        if (
            where.startswith(django_dir)
            or f"{os.sep}site-packages{os.sep}" in where
            or f"{os.sep}dist-packages{os.sep}" in where
        ):
            continue
        modules.add(f"{config.name}.models")
        if config.models_module is not None:
            modules.add(config.models_module.__name__)
    return Env(
        vendor=vendor,
        alias=request.database,
        pg_version=pg_version,
        connection=connection,
        django_version=tuple(django.VERSION[:2]),
        models_modules=frozenset(modules),
        small_tables=frozenset(name.lower() for name in request.small_tables),
    )


# -- loading the graph ---------------------------------------------------------------


def load_graph(request: Request, root: Path) -> Any:
    from django.db import connections
    from django.db.migrations.exceptions import (
        BadMigrationError,
        CircularDependencyError,
        InconsistentMigrationHistory,
        NodeNotFoundError,
    )
    from django.db.migrations.loader import MigrationLoader

    connection = connections[request.database] if request.mode == "unapplied" else None
    loader = MigrationLoader(connection, load=False, ignore_no_migrations=True)
    try:
        loader.build_graph()
    except CircularDependencyError as exc:
        files = []
        for label in str(exc).split(", "):
            app_label, _, name = label.strip().partition(".")
            migration = (loader.disk_migrations or {}).get((app_label, name))
            where = relpath(migration_file(migration), root) if migration is not None else None
            files.append(f"{label} ({where})" if where else label)
        raise AnalysisError(
            "the migration graph has a dependency cycle: "
            + " -> ".join(files)
            + "; fix the dependencies of these migrations"
        ) from exc
    except NodeNotFoundError as exc:
        origin = getattr(exc, "origin", None)
        where = relpath(migration_file(origin), root) if origin is not None else None
        raise AnalysisError(f"{where + ': ' if where else ''}{exc}") from exc
    except InconsistentMigrationHistory as exc:
        raise AnalysisError(f"database {request.database!r}: {exc}") from exc
    except BadMigrationError as exc:
        where = _loading_file(exc, root)
        raise AnalysisError(
            f"{where + ': ' if where else ''}{exc}; define `class Migration(migrations.Migration)` "
            "in it, or delete the file if it is not a migration"
        ) from exc
    except Exception as exc:
        if connection is not None and _is_database_error(exc):
            raise AnalysisError(
                f"cannot read the applied migrations from database {request.database!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        raise AnalysisError(_import_failure(exc, root)) from exc
    return loader


def _is_database_error(exc: BaseException) -> bool:
    from django.db import DatabaseError

    return isinstance(exc, DatabaseError)


def _import_failure(exc: BaseException, root: Path) -> str:
    """Name the migration file (and line) that failed to import."""
    where: str | None = None
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename != "<string>":
        where = f"{relpath(exc.filename, root)}:{exc.lineno}"
    else:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            parts = Path(frame.filename).parts
            if (
                "migrations" in parts
                and "django" not in parts
                and "pytest_django_gates" not in parts
            ):
                where = f"{relpath(frame.filename, root)}:{frame.lineno}"
                break
        else:
            # Raised by Django on the migration's behalf (a null byte in the source,
            # ``operations = None``, ``dependencies = [1]``): the file its loader was on.
            where = _loading_file(exc, root)
    detail = f"{type(exc).__name__}: {exc}"
    if where:
        return f"{where}: cannot import this migration: {detail}"
    return f"cannot load the migrations: {detail}"


def _loading_file(exc: BaseException, root: Path) -> str | None:
    """The migration file Django's ``MigrationLoader`` was loading (``migration_path``
    of ``load_disk``) or adding to the graph (a ``migration`` of ``build_graph``'s
    helpers) when ``exc`` was raised, ``None`` when not known. It reads the local
    variables of those frames as Django 4.2, 5.2, 6.0 and 6.1 name them; with other names
    the message only names no file (nothing else depends on it)."""
    import importlib.util

    from django.db.migrations import Migration

    tb = exc.__traceback__
    module: object = None
    while tb is not None:
        local = tb.tb_frame.f_locals
        if tb.tb_frame.f_code.co_name == "load_disk":
            module = local.get("migration_path", module)
        elif isinstance(local.get("migration"), Migration):
            module = type(local["migration"]).__module__
        tb = tb.tb_next
    if not isinstance(module, str):
        return None
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    return relpath(origin, root) if origin else None


# -- selection -----------------------------------------------------------------------


def project_labels(root: Path, third_party: bool) -> frozenset[str]:
    from django.apps import apps

    labels = set()
    for config in apps.get_app_configs():
        if third_party or _inside_project(Path(config.path), root):
            labels.add(config.label)
    return frozenset(labels)


def _inside_project(path: Path, root: Path) -> bool:
    resolved = path.resolve()
    try:
        resolved.relative_to(root)
    except ValueError:
        return False
    return not any(part in ("site-packages", "dist-packages") for part in resolved.parts)


def select(
    request: Request, loader: Any, plan: list[ModelKey], labels: frozenset[str]
) -> set[ModelKey]:
    if request.mode == "keys":
        return set(request.keys)
    if request.mode == "since":
        changed = {Path(p) for p in request.changed_files}
        selected = set()
        for key, migration in loader.graph.nodes.items():
            path = migration_file(migration)
            if path is not None and path in changed:
                selected.add(key)
        return selected
    if request.mode == "unapplied":
        applied = loader.applied_migrations or {}
        return {key for key in plan if key not in applied and key[0] in labels}
    return {key for key in plan if key[0] in labels}


# -- the run -------------------------------------------------------------------------


@dataclass
class _Sources:
    root: Path
    cache: dict[Path, MigrationSource] = field(default_factory=dict)

    def of(self, path: Path | None) -> MigrationSource:
        if path is None:
            return MigrationSource()
        if path not in self.cache:
            self.cache[path] = migration_source(path)
        return self.cache[path]


def _to_finding(raw: RawFinding, sources: _Sources) -> Finding:
    ref = raw.migration
    source = sources.of(ref.file)
    if raw.index is None:
        line = source.class_line
    else:
        line = source.line_of(raw.index, expected=len(ref.migration.operations))
    return Finding(
        code=raw.code,
        severity=raw.severity,
        message=raw.message,
        object=ref.label,
        # ref.file is already resolved (engine.migration_file): no second realpath
        path=_relative(ref.file, str(sources.root)) if ref.file is not None else None,
        line=line,
        hint=raw.hint,
    )


@dataclass
class _Run:
    request: Request
    root: Path
    env: Env
    loader: Any
    plan: list[ModelKey]
    labels: frozenset[str]
    selected: set[ModelKey]
    findings: list[Finding]
    state: Any
    file_ignores: list[Ignore]
    operations: dict[int, int]
    """id() of a finding -> the index of the top-level operation it is about."""
    analysed: list[MigrationRef] = field(default_factory=list)


def _run(request: Request) -> _Run:
    from django.apps import apps

    root = request.root.resolve()
    facts.clear_caches()
    env = make_env(request)
    installed = {config.label for config in apps.get_app_configs()}
    where = f"{request.pyproject or 'pyproject.toml'}: [[tool.django-gates.migrations.ignore]]"
    for i, entry in enumerate(request.ignores):
        app = entry.get("app")
        if app and app not in installed:
            raise ConfigError(
                f"{where} #{i + 1}: app {app!r} is not an installed app label "
                f"(installed: {', '.join(sorted(installed))})"
            )
        migration = entry.get("migration")
        if migration and migration.split(".", 1)[0] not in installed:
            raise ConfigError(
                f"{where} #{i + 1}: migration {migration!r}: {migration.split('.', 1)[0]!r} "
                f"is not an installed app label (installed: {', '.join(sorted(installed))})"
            )
    loader = load_graph(request, root)
    plan = full_plan(loader.graph)
    labels = project_labels(root, request.third_party)
    selected = select(request, loader, plan, labels)
    if request.mode == "keys":
        missing = selected - set(loader.graph.nodes)
        if missing:
            raise LookupError(
                f"no such migration: {', '.join(f'{a}.{n}' for a, n in sorted(missing))}"
            )
    walker = Walker(
        loader.graph,
        env,
        registry.RULES.values(),
        keep_new=request.mode in ("since", "unapplied", "keys"),
        real_apps=set(loader.unmigrated_apps),
        deploy_of=deploy_of(request),
    )
    result = walker.walk(selected)
    sources = _Sources(root)
    findings = [_to_finding(raw, sources) for raw in result.findings]
    operations = {
        id(finding): raw.index[0]
        for finding, raw in zip(findings, result.findings, strict=True)
        if raw.index
    }
    ignores: list[Ignore] = []
    for ref in result.analysed:
        if not has_file_ignores(ref.migration):
            continue  # the common case: no need to read the file
        source = sources.of(ref.file)
        op_lines = [
            source.line_of((i,), expected=len(ref.migration.operations))
            for i in range(len(ref.migration.operations))
        ]
        ignores.extend(
            file_ignores(
                ref.migration,
                ref.label,
                relpath(ref.file, root),
                source.attribute_lines.get("gates_ignore"),
                op_lines,
            )
        )
    if request.project_rules:
        context = ProjectContext(
            env=env,
            loader=loader,
            state=result.state,
            app_labels=labels,
            relpath=lambda p: relpath(p, root),
            migration_file=lambda key: (
                migration_file(loader.graph.nodes[key]) if key in loader.graph.nodes else None
            ),
            edited_files=frozenset(Path(p).resolve() for p in request.edited_files),
        )
        for rule in registry.RULES.values():
            if rule.check_project is not None and rule.applies_to(env.vendor):
                findings.extend(rule.check_project(context))
    return _Run(
        request,
        root,
        env,
        loader,
        plan,
        labels,
        selected,
        findings,
        result.state,
        ignores,
        operations,
        result.analysed,
    )


def _release_of_file(request: Request) -> Callable[[Path | None], object] | None:
    """The deploy of a migration file when release tags say (``migrations.releases =
    "tags"``): the tag that first shipped it, "" for one no tag has yet."""
    shipped = request.releases
    if shipped is None:
        return None
    from pytest_django_gates.migrations.releases import UNRELEASED, key_of

    def of(path: Path | None) -> object:
        return shipped.get(key_of(path), UNRELEASED) if path else UNRELEASED

    return of


def deploy_of(request: Request) -> Callable[[MigrationRef], object] | None:
    """:func:`_release_of_file` for the walker's migrations."""
    of = _release_of_file(request)
    return None if of is None else (lambda ref: of(ref.file))


def _migration_deploy(request: Request) -> Callable[[Any], object] | None:
    """:func:`_release_of_file` for a Django migration object (the lock tracer's)."""
    of = _release_of_file(request)
    return None if of is None else (lambda migration: of(migration_file(migration)))


def _deploys_note(request: Request, run: _Run) -> str:
    of = deploy_of(request)
    if of is None:
        if request.mode == "all":
            return (
                "each migration judged as its own deploy (set migrations.releases = "
                '"tags" to judge the migrations of one release together)'
            )
        return ""
    deploys = len({of(ref) for ref in run.analysed})
    tags = request.release_tags
    return (
        f"{deploys} deploy{'s' if deploys != 1 else ''} from {tags} release "
        f"tag{'s' if tags != 1 else ''} (a migration is judged with those its release "
        "first shipped)"
    )


def analyze_migrations(request: Request, *, apply_ignores: bool = True) -> list[Finding]:
    """Findings of the migrations in ``request.keys`` (the ``migration_safety`` fixture)."""
    run = _run(request)
    findings = run.findings
    if apply_ignores:
        ignores = run.file_ignores + config_ignores(request.ignores, request.pyproject, None)
        findings = [f for f in findings if not any(i.matches(f) for i in ignores)]
    return sorted(findings, key=Finding.sort_key)


def analyze(request: Request) -> GateResult:
    run = _run(request)
    root = run.root
    rel_pyproject = relpath(request.pyproject, root) if request.pyproject else None
    ignores = run.file_ignores + config_ignores(request.ignores, request.pyproject, rel_pyproject)

    kept: list[Finding] = []
    ignored = 0
    for finding in run.findings:
        matched = [i for i in ignores if i.matches(finding)]
        for ignore in matched:
            ignore.used += 1
        if matched:
            ignored += 1
        else:
            kept.append(finding)

    graph_labels = {f"{a}.{n}" for a, n in run.loader.graph.nodes}
    selected_labels = {f"{a}.{n}" for a, n in run.selected}
    extra: list[Finding] = []
    for ignore in ignores:
        if ignore.used:
            continue
        if ignore.migration is not None:
            if ignore.migration not in graph_labels:
                why = f"no migration {ignore.migration} exists"
            elif ignore.migration in selected_labels:
                why = "its migration has no such finding"
            else:
                continue
        elif request.mode == "all" and (ignore.app is None or ignore.app in run.labels):
            why = "no checked migration has such a finding"
        else:
            continue
        extra.append(
            Finding(
                code=registry.UNUSED_IGNORE.code,
                severity="warning",
                message=(
                    f"the ignore ({ignore.describe()}; reason: {ignore.reason}) at "
                    f"{ignore.where} matches nothing: {why}"
                ),
                object=ignore.object,
                path=ignore.path,
                line=ignore.line,
                hint=registry.UNUSED_IGNORE.hint,
            )
        )

    baseline_note = ""
    baseline_path = Path(request.baseline) if request.baseline else None
    global_codes = {"DJG230", "DJG231"}
    if request.update_baseline and baseline_path is not None:
        from pytest_django_gates.migrations.baseline import drift_entry

        accepted: dict[str, list[str]] = defaultdict(list)
        drift: dict[str, list[str]] = defaultdict(list)
        for finding in kept:
            if finding.code in global_codes:
                drift[finding.object].append(drift_entry(finding.code, finding.message))
            else:
                accepted[finding.object].append(finding.code)
        count = Baseline.write(baseline_path, accepted, drift)
        drifts = sum(len(v) for v in drift.values())
        baseline_note = (
            f"baseline updated: {count} migration{'s' if count != 1 else ''} with "
            f"{len(kept) - drifts} findings accepted in {relpath(baseline_path, root)}"
            + (
                f", and the model changes no migration records of {len(drift)} "
                f"app{'s' if len(drift) != 1 else ''}"
                if drift
                else ""
            )
        )
        kept = []
    elif baseline_path is not None and request.apply_baseline:
        baseline = Baseline.load(baseline_path)

        def held(f: Finding) -> bool:
            if f.code in global_codes:
                return baseline.holds_drift(f.code, f.object, f.message)
            return f.object in baseline

        hidden = [f for f in kept if held(f)]
        kept = [f for f in kept if not held(f)]
        if hidden:
            hidden_migrations = len({f.object for f in hidden})
            baseline_note = (
                f"{len(hidden)} finding{'s' if len(hidden) != 1 else ''} in "
                f"{hidden_migrations} baselined "
                f"migration{'s' if hidden_migrations != 1 else ''} not shown"
            )
        for label in sorted(baseline.migrations):
            if label not in graph_labels:
                extra.append(
                    Finding(
                        code=registry.STALE_BASELINE.code,
                        severity="warning",
                        message=(
                            f"baseline entry {label} matches no migration "
                            "(renamed, squashed or removed?)"
                        ),
                        object=label,
                        path=relpath(baseline_path, root),
                        hint=registry.STALE_BASELINE.hint,
                    )
                )

    findings = kept + extra
    trace_note = ""
    if request.trace:
        findings, trace_note = _traced(request, run, findings)
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    checked = len(run.selected)
    total = sum(1 for key in run.plan if key[0] in run.labels)
    parts = [
        f"{checked} of {total} migrations checked ({request.mode_label})",
        _counts(errors, warnings),
    ]
    if ignored:
        parts.append(f"{ignored} ignored")
    if baseline_note:
        parts.append(baseline_note)
    deploys_note = _deploys_note(request, run)
    if deploys_note:
        parts.append(deploys_note)
    parts.append(_backend_note(run.env))
    if request.backend_why and run.env.vendor == POSTGRESQL:
        parts[-1] += f" (backend auto: {request.backend_why})"
    if trace_note:
        parts.append(trace_note)
    elif request.in_pytest and request.trace_requested:
        parts.append("lock trace not run under pytest (django-gates migrations and run do it)")
    return GateResult.from_findings(GATE, findings, summary="; ".join(parts))


def _traced(request: Request, run: _Run, findings: list[Finding]) -> tuple[list[Finding], str]:
    """The lock trace (:mod:`.tracer`) of the checked migrations, compared with the rules.

    Raises :class:`AnalysisError` (gate error, exit 3) when the trace cannot be made."""
    from pytest_django_gates.migrations import tracer
    from pytest_django_gates.migrations.tracedb import TraceError, find_server

    server = find_server(
        request.trace_database, request.trace_database_source, os.environ, request.database
    )
    sources = _Sources(run.root)

    def lines(migration: Any) -> tuple[str | None, list[int | None]]:
        path = migration_file(migration)
        source = sources.of(path)
        count = len(migration.operations)
        return relpath(path, run.root), [source.line_of((i,), expected=count) for i in range(count)]

    try:
        trace = tracer.run_trace(
            server,
            request.database,
            run.selected,
            request.trace_rows,
            lines,
            keep_new=request.mode != "all",
            deploy_of=_migration_deploy(request),
        )
    except TraceError as exc:
        raise AnalysisError(f"lock trace: {exc}") from exc
    annotated, disagreements = tracer.compare(
        trace, findings, lambda finding: run.operations.get(id(finding))
    )
    note = tracer.summary(trace)
    if request.trace_output:
        tracer.write_trace(trace, Path(request.trace_output))
        note += f"; trace written to {relpath(request.trace_output, run.root)}"
    return annotated + disagreements, note


def _counts(errors: int, warnings: int) -> str:
    if not errors and not warnings:
        return "no findings"
    out = []
    if errors:
        out.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        out.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(out)


def _backend_note(env: Env) -> str:
    if env.vendor == POSTGRESQL:
        return f"rules for PostgreSQL {env.pg_version}"
    skipped = registry.describe_codes(registry.postgresql_only_codes())
    return (
        f"PostgreSQL-only rules skipped on {env.vendor} (database {env.alias!r}): {skipped}; "
        'set [tool.django-gates.migrations] backend = "postgresql" to apply them'
    )


def settings_configured() -> bool:
    try:
        from django.apps import apps
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is a dependency
        return False
    return bool(settings.configured and apps.ready)
