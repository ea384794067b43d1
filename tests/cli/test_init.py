"""``django-gates init``: what it writes, and that it never loses what was there."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pytest_django_gates.init import Plan, inspect, merge
from tests.cli.cli_support import django_gates

PYPROJECT = """\
[project]
name = "x"  # a comment kept as it is

[tool.django-gates]
gates = ["queries"]

[tool.django-gates.queries]
threshold = 3

[[tool.django-gates.migrations.ignore]]
code = "DJG220"
reason = "r"

[tool.ruff]
line-length = 100
"""


def _plan(root: Path, gates: list[str], **values: dict[str, object]) -> Plan:
    plan = Plan(root=root, gates=gates)
    for table, entries in values.items():
        for key, value in entries.items():
            plan.set("" if table == "top" else table, key, value)
    return plan


def test_merge_adds_what_is_missing_and_keeps_every_value_and_byte_of_the_user(
    tmp_path: Path,
) -> None:
    plan = _plan(
        tmp_path,
        ["queries", "migrations", "ruff"],
        top={"deploy_settings": "mysite.production"},
        queries={"baseline": ".django-gates/query-baseline.json", "threshold": 2},
    )
    merged, kept = merge(PYPROJECT, plan)
    # what was there is there, byte for byte, in its place
    assert merged.startswith('[project]\nname = "x"  # a comment kept as it is\n')
    assert '[[tool.django-gates.migrations.ignore]]\ncode = "DJG220"\nreason = "r"\n' in merged
    assert "[tool.ruff]\nline-length = 100\n" in merged
    # a value the user set is kept, and said
    assert "threshold = 3" in merged
    assert 'gates = ["queries"]' in merged
    assert kept == [
        "gates: kept yours; init would add ruff, migrations (--force adds)",
        "queries.threshold: kept yours (3); init found 2 (--force writes it)",
    ]
    # what was missing is added
    assert 'deploy_settings = "mysite.production"' in merged
    assert 'baseline = ".django-gates/query-baseline.json"' in merged
    # idempotent
    assert merge(merged, plan) == (merged, kept)
    # --force updates the values init writes; gates only grow; other keys stay
    forced, kept = merge(merged, plan, force=True)
    assert kept == []
    assert 'gates = ["queries", "ruff", "migrations"]' in forced
    assert "threshold = 2" in forced
    assert 'code = "DJG220"' in forced
    # a new file gets the table alone, with its comment
    fresh, _ = merge("", plan)
    assert fresh.startswith("[tool.django-gates]\n# Written by `django-gates init`")
    # allow entries are appended once
    plan.allows = [{"location": "shop/views.py:*", "sql": "SELECT 1", "reason": "old"}]
    with_allow, _ = merge(PYPROJECT, plan)
    assert with_allow.count("[[tool.django-gates.queries.allow]]") == 1
    assert merge(with_allow, plan)[0] == with_allow


def _init(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return django_gates("--project", str(root), "init", *args)


def test_init_merges_into_an_existing_table_and_force_keeps_hand_written_keys(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    dry = _init(tmp_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing written" in dry.stdout
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT
    first = _init(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "gates: kept yours; init would add ruff, " in first.stdout
    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    assert "threshold = 3" in text
    assert 'code = "DJG220"' in text
    assert "[tool.ruff]\nline-length = 100\n" in text
    # --baselines' keys after a plain init: init extends what it wrote (no --force needed)
    forced = _init(tmp_path, "--force")
    assert forced.returncode == 0, forced.stderr
    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    assert 'gates = ["queries", "ruff", ' in text  # yours first, then what init adds
    assert '"migrations"' in text.split("gates = ", 1)[1].split("\n", 1)[0]
    assert "threshold = 3" in text  # init does not write threshold: never touched
    assert 'code = "DJG220"' in text
    again = _init(tmp_path)
    assert "up to date" in again.stdout
    # a project without pyproject.toml gets one holding only the table
    bare = tmp_path / "bare"
    bare.mkdir()
    assert _init(bare).returncode == 0
    assert (bare / "pyproject.toml").read_text(encoding="utf-8").startswith("[tool.django-gates]")


ENV_SETTINGS = """\
import os

import dj_database_url

DEBUG = os.environ.get("DEBUG", "true") == "true"
SECRET_KEY = os.environ.get("SECRET_KEY", "dev")
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "*").split(",")
DATABASES = {"default": dj_database_url.config(default="postgres://localhost/app")}
INSTALLED_APPS = [
    "django.contrib.auth",
    "shop.apps.ShopConfig",
    "blog",
    "vendored_lib",
]
"""


def _project(root: Path, settings: str = ENV_SETTINGS) -> Path:
    for package in ("app", "shop", "blog", "shop/migrations"):
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    (root / "app" / "settings.py").write_text(settings)
    (root / "shop" / "apps.py").write_text("")
    (root / "manage.py").write_text(
        'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")\n'
    )
    (root / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = app.settings\n")
    return root


def _notes(root: Path) -> str:
    return "\n".join(inspect(root, {}).notes)


def test_a_single_settings_module_driven_by_the_environment_is_the_production_one(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    plan = inspect(root, {})
    notes = "\n".join(plan.notes)
    # pytest.ini is where pytest-django reads it from, and what init names
    assert "test settings: app.settings (from pytest.ini [pytest] DJANGO_SETTINGS_MODULE)" in notes
    assert (
        "deploy: production settings app.settings (the project's one settings module; it reads "
        "DEBUG, SECRET_KEY, ALLOWED_HOSTS, DATABASES from the environment" in notes
    )
    assert plan.values[""]["deploy_settings"] == "app.settings"
    assert "deploy" in plan.gates
    # and the migration rules are PostgreSQL's from the start
    assert "migrations: PostgreSQL rules apply" in notes
    # the apps are the installed ones that live in the project
    assert "apps: 2 from INSTALLED_APPS: blog, shop" in notes
    # the tests' own settings module: production's is the one manage.py sets
    (root / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = app.settings_test\n")
    (root / "app" / "settings_test.py").write_text(ENV_SETTINGS)
    assert "deploy: production settings app.settings (the project's one" in _notes(root)
    # a settings module named for tests or development is not production's
    (root / "manage.py").write_text(
        'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings_test")\n'
    )
    assert "deploy: left out" in _notes(root)
    (root / "manage.py").write_text(
        'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")\n'
    )
    # settings that read nothing from the environment are not either
    (root / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = app.settings\n")
    (root / "app" / "settings.py").write_text('DEBUG = True\nSECRET_KEY = "x"\n')
    assert "deploy: left out" in _notes(root)


def test_in_a_split_settings_package_the_base_the_test_settings_build_on_is_production(
    tmp_path: Path,
) -> None:
    """``settings/base.py`` read from the environment, ``test.py`` and ``development.py``
    star-importing it, no production module (production runs base with its environment)."""
    root = _project(tmp_path)
    (root / "app" / "settings.py").unlink()
    package = root / "app" / "settings"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text(ENV_SETTINGS)
    (package / "test.py").write_text('from .base import *  # noqa: F403\nSECRET_KEY = "t"\n')
    (package / "development.py").write_text("from .base import *  # noqa: F403\nDEBUG = True\n")
    (package / "production.example.py").write_text("from .base import *  # noqa: F403\n")
    (root / "manage.py").write_text(
        'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings.development")\n'
    )
    (root / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = app.settings.test\n")
    plan = inspect(root, {})
    notes = "\n".join(plan.notes)
    assert (
        "deploy: production settings app.settings.base (the base settings module "
        "app.settings.development star-imports; it reads DEBUG, SECRET_KEY, ALLOWED_HOSTS, "
        "DATABASES from the environment" in notes
    ), notes
    assert plan.values[""]["deploy_settings"] == "app.settings.base"
    assert "migrations: PostgreSQL rules apply" in notes
    # a base that reads nothing from the environment is not production's
    (package / "base.py").write_text('DEBUG = True\nSECRET_KEY = "x"\n')
    assert "deploy: left out" in _notes(root)


def test_mypy_without_files_takes_the_paths_ci_gives_it_or_is_left_out_saying_what_to_set(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    (root / "mypy.ini").write_text("[mypy]\nstrict = True\n")
    notes = _notes(root)
    assert "mypy: left out: mypy.ini names no files, packages or modules to check" in notes
    assert '[tool.django-gates.mypy] paths = ["your_package"]' in notes
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "jobs:\n  lint:\n    steps:\n      - run: python -m mypy shop blog --strict\n"
    )
    plan = inspect(root, {})
    assert plan.values["mypy"]["paths"] == ["blog", "shop"]
    assert "mypy" in plan.gates
    assert "as .github/workflows/ci.yml runs it" in "\n".join(plan.notes)
    (root / "mypy.ini").write_text("[mypy]\nfiles = shop\n")
    plan = inspect(root, {})
    assert "mypy" not in plan.values
    assert "mypy: installed and configured (files = shop in mypy.ini)" in plan.notes
    # packages / modules are targets too (plain mypy checks them; seen on EvaP)
    (root / "mypy.ini").unlink()
    (root / "pyproject.toml").write_text(
        '[tool.mypy]\npackages = ["shop", "blog"]\nplugins = ["mypy_django_plugin.main"]\n'
    )
    plan = inspect(root, {})
    assert "mypy" in plan.gates
    assert "mypy" not in plan.values  # nothing to add: mypy finds its packages itself
    assert "mypy: installed and configured (packages = shop, blog in [tool.mypy])" in plan.notes


def test_pip_audit_is_left_out_on_unpinned_requirements_naming_the_line(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "requirements.txt").write_text("# pinned\nDjango==5.2.1\nrequests>=2\n")
    notes = _notes(root)
    assert "pip-audit: left out: unpinned requirement at requirements.txt:3 (requests>=2)" in notes
    (root / "requirements.txt").write_text("Django==5.2.1\n")
    assert "pip-audit: installed" in _notes(root)


def test_coverage_configured_by_the_user_is_kept_on(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text("[tool.django-gates.coverage]\nline = 80\n")
    plan = inspect(root, {})
    assert "coverage" in plan.gates
    assert "coverage: on (configured: coverage.line; run pytest with --cov)" in plan.notes


def test_a_fresh_migration_failing_the_projects_ruff_is_said_and_with_consent_ignored(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text(
        '# the team\'s ruff\n[tool.ruff.lint]\nselect = ["E", "F", "RUF"]\n'
    )
    said = _init(root)
    assert said.returncode == 0, said.stderr
    assert "WARNING ruff: a fresh makemigrations file fails your ruff configuration (RUF012)" in (
        said.stdout
    )
    assert "--ruff-ignore-migrations" in said.stdout
    assert "per-file-ignores" not in (root / "pyproject.toml").read_text()
    written = _init(root, "--ruff-ignore-migrations")
    assert written.returncode == 0, written.stderr
    text = (root / "pyproject.toml").read_text()
    assert text.startswith('# the team\'s ruff\n[tool.ruff.lint]\nselect = ["E", "F", "RUF"]\n')
    assert '[tool.ruff.lint.per-file-ignores]\n"**/migrations/*.py" = ["RUF012"]' in text
    # now a fresh migration passes, and init is quiet about it
    again = _init(root)
    assert "WARNING ruff" not in again.stdout
    assert "up to date" in again.stdout


def test_allows_written_by_init_survive_new_columns_and_other_machines() -> None:
    """An allow keeps the statement and table, not the column list (adding a field to the
    model must not bring an accepted N+1 back), and a library template by its path
    inside site-packages (the virtualenv's location differs on every machine)."""
    from pytest_django_gates.init import allow_entries
    from pytest_django_gates.report import Finding

    def finding(code: str, message: str, path: str) -> Finding:
        return Finding(code, "error", message, object="t.py::test", path=path, line=9)

    entries = allow_entries(
        [
            finding(
                "DJG101",
                'N+1: 4 x SELECT "grid_grid"."id", "grid_grid"."title", "grid_gr… at '
                "package/models.py:237 (in grids)",
                "package/models.py",
            ),
            finding(
                "DJG101",
                'N+1: 3 x SELECT "auth_user"."id" FROM "auth_user" WHERE … at '
                "/home/ci/venv/lib/python3.12/site-packages/crispy/field.html:5 (in template)",
                "/home/ci/venv/lib/python3.12/site-packages/crispy/field.html",
            ),
            finding(
                "DJG108",
                "2 writes outside a transaction in one call from the test: a failure\n  "
                'UPDATE "shift" SET "x" = %s WHERE … at events.py:455',
                "events.py",
            ),
        ]
    )
    by_location = {e["location"]: e["sql"] for e in entries}
    assert by_location == {
        "package/models.py:*": '"grid_grid".',
        "*/crispy/field.html:*": '"auth_user".',
        "events.py:*": '"shift"',
    }


def test_an_allow_for_one_code_never_hides_a_finding_of_another() -> None:
    """init keys DJG108 allows by file and table only: without the code, such an entry
    (`"event"` in views/event.py) hid a new N+1 reading `"event"."title"` on ephios."""
    from pytest_django_gates.queries.evaluate import _allow_matches

    entry = {"location": "views/event.py:*", "sql": '"event"', "code": "DJG108", "reason": "r"}
    shape = 'SELECT "event"."title" FROM "event" WHERE "event"."id" = %s'
    assert _allow_matches(entry, "t.py::t", "views/event.py", 520, shape, "DJG108")
    assert not _allow_matches(entry, "t.py::t", "views/event.py", 520, shape, "DJG101")
    assert _allow_matches({**entry, "code": ""}, "t.py::t", "views/event.py", 520, shape, "DJG101")
    from pytest_django_gates.init import allow_entries
    from pytest_django_gates.report import Finding

    (written,) = allow_entries(
        [
            Finding(
                "DJG108",
                "warning",
                "2 writes outside a transaction in one request: x\n  "
                'UPDATE "event" SET "x" = %s at views/event.py:9',
                object="t",
                path="views/event.py",
                line=9,
            )
        ]
    )
    assert written["code"] == "DJG108"


def test_no_clock_probe_without_baselines_is_a_usage_error_naming_both_options(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    proc = _init(tmp_path, "--no-clock-probe")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--no-clock-probe: only means something with --baselines" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT
