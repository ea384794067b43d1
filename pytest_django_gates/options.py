"""The catalogue of every option, grouped by gate.

Precedence and sources are explained once, in :mod:`pytest_django_gates.config`.
Each section belongs to one gate; keys are dotted (``queries.threshold`` is
``threshold`` in ``[tool.django-gates.queries]``).
"""

from __future__ import annotations

from typing import Any

from pytest_django_gates.config import ConfigError, Option

# Validators of other gates are named, not imported: importing this catalogue
# (which the plugin does at start-up) must stay cheap.
_coverage_app_floors = "pytest_django_gates.coverage.floors:validate_app_floors"
_coverage_floor = "pytest_django_gates.coverage.floors:validate_floor"
_coverage_path_floors = "pytest_django_gates.coverage.floors:validate_path_floors"
_deploy_allows = "pytest_django_gates.deploy.allows:validate_allow_entries"
_deploy_health_paths = "pytest_django_gates.deploy.rules.health_endpoint:validate_paths"
_migrations_ignores = "pytest_django_gates.migrations.ignores:validate_entries"

# Gates that run under ``pytest --django-gates``, in report order.
PYTEST_GATES = ("queries", "indexes", "migrations", "deploy", "coverage")
# Every gate ``django-gates run`` knows, in run order.
ALL_GATES = ("ruff", "mypy", "gitleaks", "pip-audit", *PYTEST_GATES)
# Gates left out of the default ``gates`` list while they are measured: name them to run them.
OPT_IN_GATES = ("indexes",)


ALLOW_CODES = ("DJG101", "DJG107", "DJG108", "DJG110")


def _allow_entries(value: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    allowed = {"test", "location", "sql", "code", "source", "reason", "clock"}
    for i, entry in enumerate(value):
        unknown = set(entry) - allowed
        if unknown:
            raise ConfigError(
                f"{where}[{i}]: unknown key(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        if "code" in entry and entry["code"] not in ALLOW_CODES:
            raise ConfigError(
                f"{where}[{i}].code: {entry['code']!r} is not allowed; choose one of: "
                f"{', '.join(ALLOW_CODES)} (or leave it out: any of them)"
            )
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            raise ConfigError(f"{where}[{i}]: every allow entry needs a non-empty 'reason'")
        if not any(isinstance(entry.get(k), str) and entry[k] for k in ("test", "location", "sql")):
            raise ConfigError(
                f"{where}[{i}]: give at least one of 'test' (node id glob), "
                "'location' (path:line glob) or 'sql' (substring of the query)"
            )
        for k in ("test", "location", "sql", "source"):
            if k in entry and not isinstance(entry[k], str):
                raise ConfigError(f"{where}[{i}].{k}: expected a string, got {entry[k]!r}")
        if "clock" in entry and not isinstance(entry["clock"], bool):
            raise ConfigError(f"{where}[{i}].clock: expected true or false, got {entry['clock']!r}")
    return value


_GENERAL = (
    Option(
        "report",
        "path",
        None,
        "Write the JSON report (format 1) to this path, atomically. Write it as one word, "
        "--gates-report=PATH: as two, pytest also takes an existing PATH for a test path "
        "when it looks for its configuration.",
        cli="--gates-report",
    ),
    Option(
        "gates",
        "list",
        [g for g in ALL_GATES if g not in OPT_IN_GATES],
        "Gates that are enabled (django-gates run runs them; pytest runs the test-time ones). "
        "Default: every gate but the opt-in ones (indexes).",
        choices=ALL_GATES,
    ),
)

_QUERIES = (
    Option(
        "queries.n_plus_one",
        "choice",
        "fail",
        "What an N+1 does: fail the test, report it as a warning, or off.",
        cli="--gates-n-plus-one",
        choices=("fail", "report", "off"),
    ),
    Option(
        "queries.threshold",
        "int",
        2,
        "Repetitions of the same SELECT from the same code path that make an N+1.",
        cli="--gates-n-plus-one-threshold",
        minimum=2,
    ),
    Option(
        "queries.allow",
        "table",
        [],
        "Allowed N+1s: [[tool.django-gates.queries.allow]] tables with test / location / sql "
        "globs, an optional code (DJG101, DJG107, DJG108 or DJG110: only findings of that "
        "code), an optional source (the text of the finding's line), an optional clock "
        "(true: its problem comes and goes with the time of day, never reported unused) and "
        "a reason.",
        env=False,
        validate=_allow_entries,
    ),
    Option(
        "queries.ignore_callers",
        "list",
        ["factory", "model_bakery", "mixer"],
        "Modules whose queries never count as N+1 (test-data builders).",
    ),
    Option(
        "queries.fetch_mode",
        "choice",
        "default",
        "Django 6.1+: the default fetch mode of every queryset during tests; 'raise' makes "
        "any lazy load fail at its own line (FETCH_RAISE), 'default' leaves Django's.",
        cli="--gates-fetch-mode",
        choices=("default", "raise"),
    ),
    Option(
        "queries.write_loops",
        "choice",
        "report",
        "DJG107, writes the code under test makes once per row of a loop (save, create, update, "
        "delete): report them as warnings, fail their test, or off.",
        cli="--gates-write-loops",
        choices=("fail", "report", "off"),
    ),
    Option(
        "queries.non_atomic_writes",
        "choice",
        "report",
        "DJG108, two or more writes of one request or call outside any transaction: report "
        "them as warnings, fail their test, or off.",
        cli="--gates-non-atomic-writes",
        choices=("fail", "report", "off"),
    ),
    Option(
        "queries.input_loops",
        "choice",
        "report",
        "DJG110, a query the code under test repeats once per item of its input (lines of "
        "a file, items of a request body, typed answers), not per row of a query: report "
        "them as warnings, fail their test, or off.",
        cli="--gates-input-loops",
        choices=("fail", "report", "off"),
    ),
    Option(
        "queries.baseline",
        "path",
        None,
        "Committed per-test query counts; a test whose count grows beyond it fails.",
        cli="--gates-query-baseline",
    ),
    Option(
        "queries.update_baseline",
        "bool",
        False,
        "Rewrite the query baseline with this run's counts.",
        cli="--gates-update-baseline",
    ),
    Option(
        "queries.clock_shift",
        "float",
        0.0,
        "Move Django's clock (django.utils.timezone.now) by this many hours for the whole "
        "run: django-gates init --baselines runs the suite once more with it, to find the "
        "tests whose query count follows the time of day. 0: the real clock.",
        cli="--gates-clock-shift",
    ),
    Option(
        "queries.seed_random",
        "bool",
        True,
        "Seed Python's random module (and Faker's, factory_boy's and model_bakery's "
        "generators) before each test from its node id, so that a test with random data "
        "runs the same queries in every run; false leaves random as it is.",
    ),
)


_INDEXES = (
    Option(
        "indexes.mode",
        "choice",
        "report",
        "Missing indexes (DJG120 filter, DJG121 join, DJG122 ORDER BY with LIMIT), from the "
        "queries the tests ran, explained on the test database after the last test: report "
        "them as warnings, fail the gate (and the run), or off. The gate is opt-in: add "
        "'indexes' to gates.",
        cli="--gates-indexes",
        choices=("fail", "report", "off"),
    ),
    Option(
        "indexes.small_tables",
        "list",
        [],
        "Deliberately small tables, read whole on purpose (lookup lists, configuration): "
        "app_label.Model names the index gate never judges and whose rewrites, scans and "
        "index builds the migration gate reports as warnings. Or set "
        "django_gates_small_table = True on the model class.",
    ),
)


def _reason_entries(value: list[dict[str, Any]], where: str, key: str) -> list[dict[str, Any]]:
    """``[{<key> = "...", reason = "..."}]`` tables: both strings, a non-empty reason."""
    for i, entry in enumerate(value):
        unknown = set(entry) - {key, "reason"}
        if unknown:
            raise ConfigError(
                f"{where}[{i}]: unknown key(s) {', '.join(sorted(unknown))}; allowed: {key}, reason"
            )
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ConfigError(f"{where}[{i}]: every entry needs a non-empty {key!r} string")
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            raise ConfigError(f"{where}[{i}]: every entry needs a non-empty 'reason'")
    return value


def _ignore_vulns(value: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    return _reason_entries(value, where, "id")


def _allow_unaudited(value: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    return _reason_entries(value, where, "package")


def _tool_options(name: str, *, paths: list[str] | None, version_help: str) -> tuple[Option, ...]:
    """``command`` and ``version`` (every external tool) and ``paths`` (linters)."""
    opts = [
        Option(
            f"{name}.command",
            "str",
            "",
            f"Command that runs {name} (default: the {name} next to the running Python, "
            "i.e. in the project's virtualenv, else the first on PATH).",
        ),
        Option(
            f"{name}.version",
            "str",
            "",
            f"Required {name} version ({version_help}); a different version is a gate error. "
            "Empty: any version (it is shown in the report).",
        ),
    ]
    if paths is not None:
        opts.append(
            Option(
                f"{name}.paths",
                "list",
                paths,
                f"Paths given to {name}, relative to the project root"
                + (" (empty: mypy's own `files` setting)." if name == "mypy" else "."),
            )
        )
    return tuple(opts)


def _hold_options(name: str) -> tuple[Option, ...]:
    """Hold-the-line for a linter (see :mod:`pytest_django_gates.gates._hold`)."""
    return (
        Option(
            f"{name}.hold",
            "choice",
            "auto",
            f"Which {name} findings count: 'baseline' (those not in the baseline file), "
            "'changed' (those on lines changed since the git base), 'auto' (the baseline if "
            "its file exists, else changed lines if there is a base, else all), 'off' (all).",
            choices=("auto", "baseline", "changed", "off"),
        ),
        Option(
            f"{name}.baseline",
            "path",
            None,
            f"The {name} baseline file (default .django-gates/{name}-baseline.json); written by "
            f"django-gates run --only {name} --update-baselines.",
        ),
    )


_RUFF = (*_tool_options("ruff", paths=["."], version_help="e.g. 0.17.5"), *_hold_options("ruff"))

_MYPY = (*_tool_options("mypy", paths=[], version_help="e.g. 2.4.1"), *_hold_options("mypy"))

_GITLEAKS = (
    *_tool_options("gitleaks", paths=None, version_help="e.g. 8.30.1"),
    Option(
        "gitleaks.scan",
        "choice",
        "auto",
        "What gitleaks scans: 'git' (commits: run.since..HEAD, or the whole history), 'dir' "
        "(the files in the project directory), or 'auto' (git inside a git work tree, else dir).",
        choices=("auto", "git", "dir"),
    ),
    Option(
        "gitleaks.config",
        "path",
        None,
        "A gitleaks config file (default: gitleaks' own lookup, e.g. .gitleaks.toml).",
    ),
)

_PIP_AUDIT = (
    *_tool_options("pip-audit", paths=None, version_help="e.g. 2.10.1"),
    Option(
        "pip-audit.requirements",
        "list",
        [],
        "Requirement files to audit, relative to the project root (default: requirements*.txt "
        "and requirements/*.txt, else pylock.toml, else pyproject.toml's dependencies).",
    ),
    Option(
        "pip-audit.resolve",
        "bool",
        False,
        "Let pip resolve the requirement files (needs the package index). Off: every "
        "requirement must be pinned (==) and is audited as written (--no-deps --disable-pip).",
    ),
    Option(
        "pip-audit.service",
        "choice",
        "pypi",
        "Vulnerability service pip-audit queries.",
        choices=("pypi", "osv", "esms"),
    ),
    Option(
        "pip-audit.osv_url",
        "str",
        "",
        "URL of an OSV-compatible query API (a mirror) when service is 'osv'.",
    ),
    Option(
        "pip-audit.timeout",
        "int",
        15,
        "Socket timeout in seconds for the vulnerability service.",
        minimum=1,
    ),
    Option(
        "pip-audit.ignore",
        "table",
        [],
        "Accepted advisories: [[tool.django-gates.pip-audit.ignore]] tables with id "
        "(an advisory id or alias) and reason.",
        env=False,
        validate=_ignore_vulns,
    ),
    Option(
        "pip-audit.allow_unaudited",
        "table",
        [],
        "Dependencies allowed to go unaudited (e.g. not on PyPI): "
        "[[tool.django-gates.pip-audit.allow_unaudited]] tables with package and reason.",
        env=False,
        validate=_allow_unaudited,
    ),
)

_RUN = (
    Option(
        "run.since",
        "str",
        "",
        "Base git ref of the change (a pull request's base): gitleaks scans since..HEAD, and "
        "the test-time gates that take a base get it too.",
    ),
    Option(
        "run.all",
        "bool",
        False,
        "Command line only (django-gates run --all): every ruff and mypy finding counts, "
        "nothing is held back by a baseline or by the changed lines.",
        env=False,
    ),
    Option(
        "run.update_baselines",
        "bool",
        False,
        "Command line only (django-gates run --update-baselines): rewrite the ruff, mypy and "
        "deploy baselines with today's findings and append gitleaks' to .gitleaksignore "
        "(those gates then pass).",
        env=False,
    ),
    Option(
        "run.python",
        "str",
        "",
        "Python that runs the test suite (default: the Python running django-gates).",
    ),
    Option(
        "run.pytest_args",
        "list",
        [],
        "Extra arguments for the test-suite run (python -m pytest --django-gates ...).",
    ),
    Option(
        "run.fail_on_warnings",
        "bool",
        False,
        "A gate with warning findings fails (its status becomes 'failed').",
    ),
    Option(
        "run.shard",
        "str",
        "",
        "This runner's shard of a suite split across CI runners, K/N: only the K-th of N "
        "groups of tests runs, and the report is a shard report for django-gates report "
        "--shards N (see docs/sharding.md). Set per CI job, not in pyproject.toml.",
        cli="--gates-shard",
        validate="pytest_django_gates.shards:parse",
    ),
    Option(
        "run.timeout",
        "int",
        3600,
        "Seconds one tool (or the test suite) may run before it is stopped (a gate error).",
        minimum=1,
    ),
)


_MIGRATIONS = (
    Option(
        "migrations.settings",
        "str",
        None,
        "django-gates migrations: Django settings module (default: DJANGO_SETTINGS_MODULE, "
        "then pytest's DJANGO_SETTINGS_MODULE, then manage.py's). Under pytest, pytest-django's.",
    ),
    Option(
        "migrations.since",
        "str",
        None,
        "Check only migrations added since the merge-base with this git ref. Unset, and "
        "none of all/unapplied set: origin/$GITHUB_BASE_REF in GitHub pull requests, else all.",
        cli="--gates-migrations-since",
    ),
    Option(
        "migrations.all",
        "bool",
        False,
        "Check every migration of the project's apps.",
        cli="--gates-migrations-all",
    ),
    Option(
        "migrations.unapplied",
        "bool",
        False,
        "django-gates migrations: check the migrations not applied to the database yet.",
    ),
    Option(
        "migrations.releases",
        "choice",
        "none",
        "With all (a whole history): 'tags' judges the migrations first shipped by the "
        "same release tag as one deploy (what a release created and dropped again was "
        "never used by released code); 'none': each migration is its own deploy.",
        choices=("none", "tags"),
    ),
    Option(
        "migrations.release_tags",
        "str",
        None,
        "Regular expression of the release tags (releases = 'tags'). Unset: tags that look "
        "like versions (1.2, v1.2.3, 2024.05; pre-releases such as 1.3rc1 count).",
    ),
    Option(
        "migrations.database",
        "str",
        "default",
        "Database alias whose backend the rules are evaluated for (and, with unapplied, read).",
        cli="--gates-migrations-database",
    ),
    Option(
        "migrations.backend",
        "choice",
        "auto",
        "'auto': the rules of the database's backend (PostgreSQL-only rules are skipped on "
        "others, and the summary says so); 'postgresql': apply them whatever the settings use.",
        choices=("auto", "postgresql"),
    ),
    Option(
        "migrations.pg_version",
        "int",
        None,
        "PostgreSQL major version in production, for version-dependent rules. Unset: the "
        "oldest version your Django supports (12 on Django 4.2, 14 on 5.2 and 6.0, 15 on 6.1).",
        cli="--gates-migrations-pg-version",
        minimum=9,
    ),
    Option(
        "migrations.baseline",
        "path",
        None,
        "Committed JSON file of existing migrations whose findings are accepted.",
        cli="--gates-migrations-baseline",
    ),
    Option(
        "migrations.update_baseline",
        "bool",
        False,
        "Rewrite the migrations baseline with every migration that has findings today.",
        cli="--gates-migrations-update-baseline",
    ),
    Option(
        "migrations.third_party",
        "bool",
        False,
        "Also check migrations of apps installed outside the project (site-packages, "
        "django.contrib).",
    ),
    Option(
        "migrations.trace",
        "bool",
        False,
        "django-gates migrations: also apply the checked migrations to a scratch PostgreSQL "
        "database, operation by operation, and report the locks, rewrites, scans and blocked "
        "reads/writes seen, with a finding wherever the trace and the rules disagree.",
    ),
    Option(
        "migrations.trace_database",
        "str",
        None,
        "PostgreSQL server for the trace, as a URL (postgres://user:password@host:port/dbname; "
        "the database named is only used to create and drop the scratch one). Unset: "
        "DATABASE_URL, else the server of the checked database alias when it is PostgreSQL.",
    ),
    Option(
        "migrations.trace_rows",
        "int",
        0,
        "Rows inserted into each table before the traced migrations run (with --all: into each "
        "table as the first traced migration after its creation starts), so that rewrites and "
        "scans take real time.",
        minimum=0,
    ),
    Option(
        "migrations.trace_output",
        "path",
        None,
        "Write the trace (every operation: locks, rewrites, scans, probes, time) to this JSON "
        "file.",
    ),
    Option(
        "migrations.ignore",
        "table",
        [],
        "Ignores: [[tool.django-gates.migrations.ignore]] tables with a reason and at least "
        "one of migration (app_label.name), code (DJG2xx) and app.",
        env=False,
        validate=_migrations_ignores,
    ),
)


_DEPLOY = (
    Option(
        "deploy_settings",
        "str",
        None,
        "Production settings module the deploy gate checks (e.g. config.settings.production). "
        "Unset: the single settings/production.py (or prod.py) found in the project.",
        cli="--gates-deploy-settings",
    ),
    Option(
        "deploy.fail_level",
        "choice",
        "warning",
        "Lowest level that fails the deploy gate: 'warning' (Django's W checks and warning "
        "rules fail too) or 'error'.",
        cli="--gates-deploy-fail-level",
        choices=("error", "warning"),
    ),
    Option(
        "deploy.allow",
        "table",
        [],
        "Scoped allows: [[tool.django-gates.deploy.allow]] tables with check (a Django check "
        "id or DJG3xx code), reason, optional until (YYYY-MM-DD), object / path globs and "
        "line (a glob on the finding's line text).",
        env=False,
        validate=_deploy_allows,
    ),
    Option(
        "deploy.project_dir",
        "path",
        None,
        "Directory the production settings package is imported from (put first on sys.path; "
        "its code is what the source rules scan). Default: the project root, else the "
        "directory of manage.py.",
    ),
    Option(
        "deploy.exclude",
        "list",
        [],
        "Globs (project-directory-relative) the source-scanning deploy rules skip, besides "
        "hidden directories, virtualenvs, site-packages and node_modules.",
    ),
    Option(
        "deploy.env",
        "mapping",
        {},
        "Environment variables set only where the production settings are loaded (the deploy "
        'check\'s probe), e.g. env = { DEBUG = "false" }: the test suite never sees them. '
        "They win over the environment of the run.",
    ),
    Option(
        "deploy.hold",
        "choice",
        "auto",
        "Which deploy findings count: 'baseline' (those not in the baseline file), 'auto' (the "
        "baseline if its file exists, else all), 'off' (all). No 'changed': a deploy finding "
        "can come from a line the change did not touch (a removed setting).",
        choices=("auto", "baseline", "off"),
    ),
    Option(
        "deploy.baseline",
        "path",
        None,
        "The deploy baseline file (default .django-gates/deploy-baseline.json): today's "
        "findings, each by its check, setting, file and the text of its line; written by "
        "django-gates run --only deploy --update-baselines (and init --baselines).",
    ),
    Option(
        "deploy.timeout",
        "int",
        120,
        "Seconds the settings probe (a subprocess) may take before it is a gate error.",
        minimum=1,
    ),
    Option(
        "deploy.health_paths",
        "list",
        [
            "/health/",
            "/healthz/",
            "/health",
            "/healthz",
            "/ready/",
            "/readyz/",
            "/livez/",
            "/-/health/",
        ],
        "DJG323: URL paths (each starting with /) of which at least one must resolve in the "
        "production ROOT_URLCONF: the load balancer's health check. Empty: DJG323 is off.",
        validate=_deploy_health_paths,
    ),
)


_COVERAGE = (
    Option(
        "coverage.line",
        "float",
        None,
        "Global line-coverage floor over every measured file: a percentage (0-100), or -N "
        "for at most N uncovered lines. Unset: no global floor.",
        validate=_coverage_floor,
    ),
    Option(
        "coverage.branch",
        "float",
        None,
        "Global branch-coverage floor (needs branch measurement): a percentage, or -N for at "
        "most N missed branches.",
        validate=_coverage_floor,
    ),
    Option(
        "coverage.patch",
        "float",
        None,
        "Floor of the coverable lines changed since the git base (--since, or the CI pull "
        "request / merge group base): a percentage, or -N.",
        validate=_coverage_floor,
    ),
    Option(
        "coverage.apps",
        "table",
        [],
        "Per-app floors: [[tool.django-gates.coverage.apps]] tables with app (a Django app "
        'label, or "*" for every project app on its own), line and/or branch, optional reason.',
        env=False,
        validate=_coverage_app_floors,
    ),
    Option(
        "coverage.paths",
        "table",
        [],
        "Per-file floors: [[tool.django-gates.coverage.paths]] tables with glob (relative to "
        "the project root, ** spans directories), line and/or branch; each matching file on "
        "its own.",
        env=False,
        validate=_coverage_path_floors,
    ),
    Option(
        "coverage.since",
        "str",
        None,
        "Git ref whose merge base with HEAD starts the patch (e.g. origin/main). Unset: the "
        "pull request base (GITHUB_BASE_REF) or merge group base in CI, else no patch check.",
        cli="--gates-coverage-since",
    ),
    Option(
        "coverage.baseline",
        "path",
        None,
        "Committed per-app coverage baseline (JSON); an app below its baseline fails.",
        cli="--gates-coverage-baseline",
    ),
    Option(
        "coverage.update_baseline",
        "bool",
        False,
        "Raise the per-app baseline to this run's figures (never lowers it).",
        cli="--gates-coverage-update-baseline",
    ),
    Option(
        "coverage.lower_baseline",
        "list",
        [],
        "Command line only (django-gates coverage --lower-baseline APP --reason TEXT): apps "
        "whose baseline is lowered to the current figures.",
        env=False,
    ),
    Option(
        "coverage.lower_reason",
        "str",
        None,
        "Command line only (--reason): why the baseline is lowered; recorded in the file.",
        env=False,
    ),
    Option(
        "coverage.data",
        "list",
        [],
        "django-gates coverage: coverage data files or directories to combine (CI shards). "
        "Default: the data_file of the coverage configuration (.coverage).",
    ),
    Option(
        "coverage.settings",
        "str",
        None,
        "django-gates coverage: Django settings module used to read the app registry (in a "
        "subprocess). Default: DJANGO_SETTINGS_MODULE, then pytest's DJANGO_SETTINGS_MODULE.",
    ),
    Option(
        "coverage.pythonpath",
        "list",
        [],
        "django-gates coverage: directories put on sys.path to import the settings (besides "
        "pytest's pythonpath, the project root and the directory of manage.py).",
    ),
)


OPTIONS: dict[str, Option] = {
    opt.key: opt
    for opt in (
        *_GENERAL,
        *_QUERIES,
        *_INDEXES,
        *_RUFF,
        *_MYPY,
        *_GITLEAKS,
        *_PIP_AUDIT,
        *_RUN,
        *_MIGRATIONS,
        *_DEPLOY,
        *_COVERAGE,
    )
}
