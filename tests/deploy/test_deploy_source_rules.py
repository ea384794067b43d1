"""The source-scanning rules (DJG304, DJG316, DJG301/DJG315 on the settings source) and the
settings-source locator they and every finding's path/line rely on."""

from __future__ import annotations

import ast
import shutil
import textwrap
from pathlib import Path

import pytest

from pytest_django_gates.deploy.rules import SourceContext, raw_sql
from pytest_django_gates.deploy.runner import DeployRun, placeholders
from pytest_django_gates.deploy.settings_source import SettingsSource, env_reads, literal_text
from pytest_django_gates.deploy.sources import ProjectSources
from tests.deploy.deploy_support import SOURCERULES, deploy_environ, run_settings


def _bad_lines(path: Path) -> list[int]:
    return [
        n
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "# BAD" in line or line.rstrip().endswith("- BAD")
    ]


@pytest.fixture(scope="module")
def sourcerules_run() -> DeployRun:
    return run_settings("conf.production", SOURCERULES)


def test_raw_sql_is_reported_on_every_bad_line_and_nowhere_else(sourcerules_run: DeployRun) -> None:
    findings = sourcerules_run.findings
    reported = sorted(
        f.line or 0 for f in findings if f.code == "DJG316" and f.path == "shop/queries.py"
    )
    assert reported == _bad_lines(SOURCERULES / "shop" / "queries.py")
    by_line = {f.line: f for f in findings if f.path == "shop/queries.py"}
    assert by_line[10].object == "shop.queries.by_title_fstring"
    assert "f-string" in by_line[10].message
    assert ".raw()" in by_line[10].message
    assert "%-formatting" in by_line[15].message
    assert "str.format()" in by_line[20].message
    assert "string concatenation" in by_line[25].message
    assert "assigned to sql on line 29" in by_line[31].message
    assert ".extra(where=" in by_line[35].message
    assert "RawSQL()" in by_line[39].message
    assert by_line[46].object == "shop.queries.Report.run"


def test_migrations_are_not_scanned_for_raw_sql_but_other_folders_are(
    sourcerules_run: DeployRun,
) -> None:
    paths = {f.path for f in sourcerules_run.findings if f.code == "DJG316"}
    assert paths == {"shop/queries.py", "scripts/one_off.py"}


def test_direct_user_imports_are_reported_where_they_are(sourcerules_run: DeployRun) -> None:
    found = sorted((f.line, f.object) for f in sourcerules_run.findings if f.code == "DJG304")
    assert found == [(5, "shop.legacy"), (13, "shop.legacy.superusers")]


def test_only_source_rules_fire_in_the_source_project(sourcerules_run: DeployRun) -> None:
    assert {f.code for f in sourcerules_run.findings} == {"DJG304", "DJG316"}


def test_deploy_exclude_skips_matching_files() -> None:
    run = run_settings(
        "conf.production", SOURCERULES, deploy__exclude=["scripts", "shop/legacy.py"]
    )
    assert {f.path for f in run.findings} == {"shop/queries.py"}


def test_a_file_that_does_not_parse_is_reported_not_skipped_silently(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(SOURCERULES, project)
    (project / "shop" / "broken.py").write_text("def f(:\n    pass\n")
    run = run_settings("conf.production", project, deploy__exclude=["scripts"])
    (bad,) = [f for f in run.findings if f.code == "DJG392"]
    assert (bad.path, bad.line, bad.object, bad.severity) == (
        "shop/broken.py",
        1,
        "shop/broken.py",
        "error",
    )
    assert "SyntaxError" in bad.message


# -- the raw SQL detector on snippets ---------------------------------------------------


def _raw_sql(tmp_path: Path, code: str) -> list[tuple[int, str]]:
    (tmp_path / "mod.py").write_text(textwrap.dedent(code))
    sources = ProjectSources(tmp_path)
    ctx = SourceContext(
        settings_source=SettingsSource.load("nothing", [tmp_path]),
        sources=sources,
        project_dir=tmp_path,
    )
    return [(i.line or 0, i.message) for i in raw_sql.check(ctx)]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('c.execute(f"SELECT {x}")', 1),
        ('c.execute(sql=f"SELECT {x}")', 1),
        ('c.execute("SELECT %s" % (x,))', 1),
        ('q = "SELECT %s"\nc.execute(q % x)', 2),
        ('c.execute("SELECT {}".format(x))', 1),
        ('c.execute("SELECT " + x)', 1),
        ('qs.extra(select={"n": f"SELECT {x}"})', 1),
        ('qs.extra(tables=["a" + x])', 1),
        ('c.execute("SELECT %s", [x])', 0),
        ('c.execute("SELECT %s" % 5)', 0),
        ('c.execute("SELECT " "1")', 0),
        ('c.execute(f"SELECT 1")', 0),
        ('log.info(f"SELECT {x}")', 0),
        ('qs.extra(where=["a = %s"], params=[x])', 0),
    ],
)
def test_raw_sql_detector(tmp_path: Path, code: str, expected: int) -> None:
    found = _raw_sql(tmp_path, code)
    assert [line for line, _ in found] == ([code.count("\n") + 1] if expected else [])


def test_a_variable_is_only_followed_inside_its_own_function(tmp_path: Path) -> None:
    code = """
    sql = f"SELECT {x}"

    def uses_its_own(c):
        sql = "SELECT 1"
        c.execute(sql)

    def uses_module_level(c):
        c.execute(sql)
    """
    assert _raw_sql(tmp_path, code) == []  # module-level names are not followed into functions


# -- the settings-source locator -----------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return tmp_path


def test_bindings_follow_star_imports_in_execution_order(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "cfg/__init__.py": "",
            "cfg/settings/__init__.py": "",
            "cfg/settings/base.py": """
                DEBUG = False
                CACHES = {}
                MIDDLEWARE = ["a"]
            """,
            "cfg/settings/prod.py": """
                import os
                from .base import *
                from cfg.settings.base import CACHES as OTHER_CACHES
                MIDDLEWARE += ["b"]
                CACHES["default"] = {}
                if os.environ.get("X"):
                    DEBUG = True
                try:
                    from .local import *
                except ImportError:
                    pass
            """,
            "cfg/settings/local.py": "LOCAL = 1\n",
        },
    )
    source = SettingsSource.load("cfg.settings.prod", [root])
    assert source.path == root / "cfg/settings/prod.py"
    prod, base = source.path, root / "cfg/settings/base.py"
    assert source.where("MIDDLEWARE") == (prod, 4)
    assert [(b.path, b.line, b.kind) for b in source.bindings("MIDDLEWARE")] == [
        (base, 3, "assign"),
        (prod, 4, "augassign"),
    ]
    assert source.where("CACHES") == (prod, 5)
    assert source.where("OTHER_CACHES") == (base, 2)
    assert [(b.line, b.conditional) for b in source.live("DEBUG")] == [(1, False), (7, True)]
    assert source.where("LOCAL") == (root / "cfg/settings/local.py", 1)
    assert source.bindings("LOCAL")[0].conditional
    assert source.where("USE_TZ") == (prod, None)  # a default: the module, no line
    assert set(source.files) == {prod, base, root / "cfg/settings/local.py"}


def test_a_settings_package_resolves_its_relative_imports(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "cfg/__init__.py": "",
            "cfg/base.py": "USE_TZ = True\n",
            "cfg/production/__init__.py": "from ..base import *\nfrom .extra import *\n",
            "cfg/production/extra.py": "CACHES = {}\n",
        },
    )
    source = SettingsSource.load("cfg.production", [root])
    assert source.where("USE_TZ") == (root / "cfg/base.py", 1)
    assert source.where("CACHES") == (root / "cfg/production/extra.py", 1)


def test_import_cycles_and_modules_outside_the_project_are_not_followed(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "s/__init__.py": "",
            "s/a.py": "from .b import *\nfrom django.conf.global_settings import *\nA = 1\n",
            "s/b.py": "from .a import *\nB = 2\n",
        },
    )
    source = SettingsSource.load("s.a", [root])
    assert source.where("A") == (root / "s/a.py", 3)
    assert source.where("B") == (root / "s/b.py", 2)
    assert "django.conf.global_settings" in source.unresolved


def test_a_settings_file_that_does_not_parse_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    root = _package(tmp_path, {"s.py": "X = (\n"})
    source = SettingsSource.load("s", [root])
    assert source.bindings() == []
    assert "cannot read settings source" in source.problems[0]


@pytest.mark.parametrize(
    ("expression", "variable", "has_default"),
    [
        ('os.environ["DJANGO_SECRET_KEY"]', "DJANGO_SECRET_KEY", False),
        ('os.environ.get("DJANGO_SECRET_KEY", "x")', "DJANGO_SECRET_KEY", True),
        ('os.getenv("SECRET")', "SECRET", False),
        ('env("SECRET_KEY", default="x")', "SECRET_KEY", True),
        ('env.str("SECRET_KEY")', "SECRET_KEY", False),
        ('env.list("ALLOWED_HOSTS", default=[])', "ALLOWED_HOSTS", True),
        ('config("SECRET_KEY")', "SECRET_KEY", False),
        ('[h for h in os.environ.get("HOSTS", "").split(",")]', "HOSTS", True),
    ],
)
def test_env_reads(expression: str, variable: str, has_default: bool) -> None:
    (read,) = env_reads(ast.parse(expression, mode="eval").body)
    assert read.variable == variable
    assert (read.default is not None) == has_default


@pytest.mark.parametrize("expression", ['d.get("KEY")', 'str("KEY")', 'os.environ["lower"]'])
def test_things_that_are_not_env_reads(expression: str) -> None:
    assert env_reads(ast.parse(expression, mode="eval").body) == []


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ('"abc"', "abc"),
        ('"a" + "b"', "ab"),
        ('f"ab"', "ab"),
        ('b"k"', "k"),
        ("x", None),
        ('f"{x}"', None),
        ('"a" + x', None),
    ],
)
def test_literal_text(expression: str, text: str | None) -> None:
    assert literal_text(ast.parse(expression, mode="eval").body) == text


def test_placeholders_are_only_for_unset_or_empty_variables(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "s.py": """
                import environ
                env = environ.Env()
                SECRET_KEY = env("APP_KEY")
                ALLOWED_HOSTS = env.list("APP_HOSTS")
                OTHER = os.environ["NOT_A_SECRET"]
            """
        },
    )
    source = SettingsSource.load("s", [root])
    supplied = placeholders(source, {"APP_HOSTS": ""})
    assert set(supplied) == {"APP_KEY", "APP_HOSTS"}
    assert placeholders(source, {"APP_KEY": "k" * 60, "APP_HOSTS": "a.example"}) == {}


def test_secret_key_literal_through_a_module_variable_and_in_fallbacks(tmp_path: Path) -> None:
    shutil.copytree(SOURCERULES, tmp_path / "proj")
    (tmp_path / "proj" / "conf" / "leaky.py").write_text(
        textwrap.dedent(
            """
            from .production import *  # noqa: F403

            _KEY = "committed-key-committed-key-committed-key-committed-key-1234"
            SECRET_KEY = _KEY
            SECRET_KEY_FALLBACKS = ["old-committed-key-old-committed-key-old-committed-key-0000"]
            """
        )
    )
    run = run_settings("conf.leaky", tmp_path / "proj", deploy__exclude=["shop", "scripts"])
    assert sorted((f.code, f.object, f.line) for f in run.findings) == [
        ("DJG301", "SECRET_KEY", 5),
        ("DJG301", "SECRET_KEY_FALLBACKS", 6),
    ]


def test_the_environment_of_the_test_process_does_not_leak_django_variables() -> None:
    assert not any(k.startswith("DJANGO_") for k in deploy_environ())
