"""Under ``pytest --django-gates``: the migrations gate runs once per session and joins
the JSON report; the ``migration_safety`` fixture asserts on one migration."""

from __future__ import annotations

import json

import pytest

from tests.migrations.migrations_support import ADD_FLAG_SOURCE, FLAG_FIELD, INITIAL, ITEM_MODEL

pytestmark = pytest.mark.slow

SETTINGS = """\
SECRET_KEY = "not-a-secret"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["shop"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
"""


def _project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, gates_toml: str = ""
) -> None:
    for name in ("DJANGO_SETTINGS_MODULE", "GITHUB_BASE_REF", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = "proj_settings"\n'
        'pythonpath = ["."]\n\n'
        '[tool.django-gates]\ngates = ["migrations"]\n' + gates_toml
    )
    pytester.makepyfile(proj_settings=SETTINGS)
    shop = pytester.mkpydir("shop")
    (shop / "models.py").write_text(ITEM_MODEL.format(extra=FLAG_FIELD))
    migrations = shop / "migrations"
    migrations.mkdir()
    (migrations / "__init__.py").write_text("")
    (migrations / "0001_initial.py").write_text(INITIAL)
    (migrations / "0002_add_flag.py").write_text(ADD_FLAG_SOURCE)


def test_the_gate_joins_the_session_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(pytester, monkeypatch, "[tool.django-gates.migrations]\nall = true\n")
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n")
    result = pytester.runpytest_subprocess(
        "--django-gates", "--gates-report", "report.json", "-p", "no:cacheprovider"
    )
    report = json.loads((pytester.path / "report.json").read_text())
    (gate,) = [g for g in report["gates"] if g["name"] == "migrations"]
    assert gate["status"] == "failed"
    (finding,) = gate["findings"]
    assert (finding["code"], finding["object"], finding["path"], finding["line"]) == (
        "DJG201",
        "shop.0002_add_flag",
        "shop/migrations/0002_add_flag.py",
        7,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    assert "migrations: FAILED - 2 of 2 migrations checked" in output
    assert "DJG201 [error] shop.0002_add_flag (shop/migrations/0002_add_flag.py:7)" in output


def test_migration_safety_fixture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(
        pytester,
        monkeypatch,
        '[[tool.django-gates.migrations.ignore]]\nmigration = "shop.0001_initial"\n'
        'code = "DJG220"\nreason = "r"\n',
    )
    pytester.makeconftest(
        "import pytest\n"
        "from pytest_django_gates.migrations.fixture import migration_safety_fixture\n\n\n"
        "@pytest.fixture\n"
        "def migration_safety():\n"
        "    return migration_safety_fixture()\n"
    )
    pytester.makepyfile(
        test_migrations="""
import pytest


def test_initial_is_safe(migration_safety):
    assert migration_safety("shop", "0001_initial") == []


def test_flag_breaks_old_code(migration_safety):
    (finding,) = migration_safety("shop", "0002")
    assert finding.code == "DJG201"
    assert finding.line == 7
    assert migration_safety.codes("shop", "0002", apply_ignores=False) == {"DJG201"}


def test_unknown_migration(migration_safety):
    with pytest.raises(LookupError, match="no migration of 'shop' starts with '0009'"):
        migration_safety("shop", "0009")
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
