"""What one run of the gate is asked to do, resolved from the configuration.

A :class:`Request` is plain data (JSON-serialisable) so it can be handed to the
analysis subprocess the CLI starts. Building it never imports Django.

Which migrations are checked (first match wins):

1. ``migrations.since`` / ``migrations.all`` / ``migrations.unapplied`` from the
   command line, then the environment, then ``pyproject.toml``: two of them
   set at the same level is a configuration error;
2. in GitHub Actions pull requests (``GITHUB_BASE_REF`` set and non-empty):
   the migrations added since ``origin/$GITHUB_BASE_REF`` (when the project is
   not in a git work tree at all, this implicit default falls back to 3);
3. otherwise every migration of the project's apps (``--all``).

``--update-baseline`` always analyses every migration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_django_gates.config import ConfigError, GatesConfig

MODES = ("all", "since", "unapplied", "keys")


@dataclass(frozen=True)
class Request:
    rootdir: str
    mode: str
    mode_label: str
    pyproject: str | None = None
    changed_files: tuple[str, ...] = ()
    edited_files: tuple[str, ...] = ()  # migrations at the base whose operations changed
    keys: tuple[tuple[str, str], ...] = ()
    database: str = "default"
    pg_version: int | None = None
    backend: str = "auto"
    backend_why: str = ""  # set when "auto" chose PostgreSQL from the production settings
    baseline: str | None = None
    update_baseline: bool = False
    third_party: bool = False
    ignores: tuple[dict[str, Any], ...] = ()
    project_rules: bool = True
    apply_baseline: bool = True
    in_pytest: bool = False
    trace: bool = False
    trace_requested: bool = False
    trace_database: str | None = None
    trace_database_source: str = ""
    trace_rows: int = 0
    trace_output: str | None = None
    small_tables: tuple[str, ...] = ()  # indexes.small_tables: app_label.Model names
    # migrations.releases = "tags" with all: migration file (releases.key_of) -> the tag
    # that first shipped it (None: each migration is its own deploy).
    releases: dict[str, str] | None = None
    release_tags: int = 0  # how many release tags were found

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Request:
        values = dict(data)
        values["changed_files"] = tuple(values.get("changed_files", ()))
        values["edited_files"] = tuple(values.get("edited_files", ()))
        values["keys"] = tuple(tuple(k) for k in values.get("keys", ()))
        values["ignores"] = tuple(values.get("ignores", ()))
        values["small_tables"] = tuple(values.get("small_tables", ()))
        return cls(**values)

    @property
    def root(self) -> Path:
        return Path(self.rootdir)


_RANK = {"command line": 3, "environment": 2, "default": 0}


def _rank(source: str) -> int:
    for prefix, rank in _RANK.items():
        if source.startswith(prefix):
            return rank
    return 1  # pyproject.toml


PULL_REQUEST_BASE = "pull request base (GITHUB_BASE_REF)"


@dataclass(frozen=True)
class Mode:
    name: str
    ref: str | None = None
    why: str = field(default="")


def resolve_mode(config: GatesConfig, environ: Mapping[str, str]) -> Mode:
    given: list[tuple[str, str, Any]] = []
    if config["migrations.since"]:
        given.append(("since", config.source("migrations.since"), config["migrations.since"]))
    if config["migrations.all"]:
        given.append(("all", config.source("migrations.all"), True))
    if config["migrations.unapplied"]:
        given.append(("unapplied", config.source("migrations.unapplied"), True))
    if given:
        top = max(_rank(source) for _, source, _ in given)
        winners = [g for g in given if _rank(g[1]) == top]
        if len(winners) > 1:
            described = " and ".join(
                f"migrations.{name} (from {source})" for name, source, _ in winners
            )
            raise ConfigError(
                f"{described} are mutually exclusive: choose one of --since REF, --all, --unapplied"
            )
        name, source, value = winners[0]
        return Mode(name, ref=value if name == "since" else None, why=source)
    base_ref = environ.get("GITHUB_BASE_REF", "").strip()
    if base_ref:
        return Mode("since", ref=f"origin/{base_ref}", why=PULL_REQUEST_BASE)
    return Mode("all", why="default")


_POSTGRES_WORDS = ("postgresql", "postgis", "postgres://", "postgres:")


def production_database(config: GatesConfig, rootdir: Path) -> str | None:
    """Where ``backend = "auto"`` learns that production runs PostgreSQL, or None.

    The production settings are found as the deploy gate finds them
    (``deploy_settings``, else ``settings/production.py`` / ``prod.py``) and read
    with :mod:`ast`, never imported: when a live binding of ``DATABASES`` names a
    PostgreSQL engine or URL in a string (``"django.db.backends.postgresql"``, a
    ``dj_database_url`` default ``"postgres://..."``), the PostgreSQL rules apply
    even when the tests run on SQLite. Settings that only read the engine from the
    environment say nothing here: set ``backend = "postgresql"``.
    """
    import ast
    import contextlib

    from pytest_django_gates.deploy.runner import resolve_target
    from pytest_django_gates.deploy.settings_source import SettingsSource

    try:
        module, directory, _ = resolve_target(config, rootdir)
    except ConfigError:
        return None
    source = SettingsSource.load(module, [directory])
    for binding in source.live("DATABASES"):
        if binding.value is None:
            continue
        for node in ast.walk(binding.value):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lower()
                if any(word in text for word in _POSTGRES_WORDS):
                    where = binding.path.name
                    with contextlib.suppress(ValueError):
                        where = str(binding.path.resolve().relative_to(rootdir.resolve()))
                    return f"production settings {module} use PostgreSQL ({where}:{binding.line})"
    return None


def build_request(
    config: GatesConfig,
    rootdir: Path,
    *,
    in_pytest: bool,
    environ: Mapping[str, str] | None = None,
) -> Request:
    from pytest_django_gates.migrations.gitdiff import added_since, edited_since, in_git_work_tree

    environ = os.environ if environ is None else environ
    update = bool(config["migrations.update_baseline"])
    baseline = config.path("migrations.baseline")
    if update and baseline is None:
        raise ConfigError(
            "--update-baseline needs a baseline file: pass --baseline PATH or set "
            "[tool.django-gates.migrations] baseline"
        )
    mode = Mode("all", why="--update-baseline") if update else resolve_mode(config, environ)
    if mode.name == "unapplied" and in_pytest:
        raise ConfigError(
            f"migrations.unapplied (from {mode.why}) is not available under pytest, where the "
            "database is the test database; run: django-gates migrations --unapplied"
        )
    changed: tuple[str, ...] = ()
    edited: tuple[str, ...] = ()
    if mode.name == "since" and mode.why == PULL_REQUEST_BASE and not in_git_work_tree(rootdir):
        mode = Mode("all", why="default (GITHUB_BASE_REF set, but not a git work tree)")
    if mode.name == "since":
        assert mode.ref is not None
        since = added_since(rootdir, mode.ref, mode.why or "--since")
        changed = tuple(str(p) for p in since.added)
        edited = tuple(str(p) for p in edited_since(since))
        label = since.label
    elif mode.name == "unapplied":
        label = f"not applied to database {config['migrations.database']!r}"
    else:
        label = "all migrations of the project's apps"
    releases = None
    if mode.name == "all" and config["migrations.releases"] == "tags":
        from pytest_django_gates.migrations.releases import read_releases

        releases = read_releases(rootdir, config["migrations.release_tags"])
    # Under pytest the static analysis runs and the summary says the trace did not:
    # the trace belongs to `django-gates migrations` and `django-gates run`.
    trace = bool(config["migrations.trace"]) and not in_pytest
    trace_output = config.path("migrations.trace_output")
    backend, backend_why = config["migrations.backend"], ""
    if backend == "auto":
        found = production_database(config, rootdir)
        if found is not None:
            backend, backend_why = "postgresql", found
    return Request(
        rootdir=str(rootdir.resolve()),
        mode=mode.name,
        mode_label=label,
        pyproject=str(config.pyproject) if config.pyproject else None,
        changed_files=changed,
        edited_files=edited,
        database=config["migrations.database"],
        pg_version=config["migrations.pg_version"],
        backend=backend,
        backend_why=backend_why,
        baseline=str(baseline.resolve()) if baseline is not None else None,
        update_baseline=update,
        third_party=bool(config["migrations.third_party"]),
        ignores=tuple(dict(entry) for entry in config["migrations.ignore"]),
        in_pytest=in_pytest,
        trace=trace,
        trace_requested=bool(config["migrations.trace"]),
        trace_database=config["migrations.trace_database"],
        trace_database_source=config.source("migrations.trace_database"),
        trace_rows=int(config["migrations.trace_rows"] or 0),
        trace_output=str(trace_output.resolve()) if trace_output is not None else None,
        small_tables=tuple(str(name) for name in config["indexes.small_tables"]),
        releases=dict(releases.shipped) if releases is not None else None,
        release_tags=releases.tags if releases is not None else 0,
    )
