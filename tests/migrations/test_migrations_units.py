"""Unit tests of the parts that need no Django project: SQL reading, type compatibility,
the registry, options, mode resolution, the baseline file, source lines, expressions."""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates import config, options
from pytest_django_gates.config import ConfigError
from pytest_django_gates.migrations import sqltext
from pytest_django_gates.migrations.baseline import Baseline
from pytest_django_gates.migrations.gitdiff import added_since
from pytest_django_gates.migrations.registry import RULES, describe_codes, postgresql_only_codes
from pytest_django_gates.migrations.request import build_request, resolve_mode
from pytest_django_gates.migrations.rules.djg208_alter_column_type import binary_compatible
from pytest_django_gates.migrations.source import migration_source, models_used_by


def _config(
    tmp_path: Path,
    toml: str = "",
    cli: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
) -> config.GatesConfig:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(toml)
    return config.load(options.OPTIONS, cli=cli or {}, environ=env or {}, pyproject=pyproject)


# -- RunSQL statements --------------------------------------------------------------------


def test_statements_are_split_outside_strings_comments_and_dollar_quotes() -> None:
    sql = """
        -- a comment; with a semicolon
        CREATE INDEX CONCURRENTLY "Idx" ON public.shop_order (ref); /* block; comment */
        INSERT INTO t VALUES ('a;b', E'it\\'s;', $$x;y$$, $tag$ ; $tag$);
        DO $$ BEGIN PERFORM 1; END $$;
    """
    statements = sqltext.split_sql(sql)
    assert len(statements) == 3
    assert statements[0].tokens[:4] == ("CREATE", "INDEX", "CONCURRENTLY", '"Idx')
    assert sqltext.create_index(statements[0]) == sqltext.IndexStatement(True, "shop_order", False)
    assert statements[1].tokens.count("'") == 4
    assert sqltext.writes_rows(statements[1])
    assert statements[2].tokens[:2] == ("DO", "'")


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("create unique index concurrently if not exists i on t (a)", "CREATE INDEX CONCURRENTLY"),
        ("DROP INDEX CONCURRENTLY i", "DROP INDEX CONCURRENTLY"),
        ("REINDEX (VERBOSE) TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY"),
        ("VACUUM ANALYZE t", "VACUUM"),
        ("ALTER TABLE p DETACH PARTITION c CONCURRENTLY", "DETACH PARTITION CONCURRENTLY"),
        ("CREATE DATABASE x", "CREATE DATABASE"),
        ("ALTER SYSTEM SET work_mem = '1MB'", "ALTER SYSTEM"),
        ("CLUSTER", "CLUSTER without a table"),
        ("CREATE INDEX i ON t (a)", None),
        ("CLUSTER t USING i", None),
        ("ALTER TYPE mood ADD VALUE 'meh'", None),
        ("SELECT 'VACUUM'", None),
    ],
)
def test_statements_that_cannot_run_in_a_transaction(sql: str, reason: str | None) -> None:
    (stmt,) = sqltext.split_sql(sql)
    assert sqltext.cannot_run_in_transaction(stmt, pg_version=14) == reason


def test_enum_add_value_cannot_run_in_a_transaction_before_postgresql_12() -> None:
    (stmt,) = sqltext.split_sql("ALTER TYPE mood ADD VALUE 'meh'")
    assert (
        sqltext.cannot_run_in_transaction(stmt, pg_version=11)
        == "ALTER TYPE ... ADD VALUE (before PostgreSQL 12)"
    )


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id)", "foreign key"),
        ("ALTER TABLE ONLY s.t ADD COLUMN a int REFERENCES u", "foreign key"),
        ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id) NOT VALID", None),
        ("ALTER TABLE IF EXISTS t ADD CONSTRAINT c CHECK (a > 0)", "check"),
        ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", None),
        ("ALTER TABLE t VALIDATE CONSTRAINT c", None),
        ("ALTER TABLE t DROP CONSTRAINT c", None),
    ],
)
def test_validated_constraints_in_sql(sql: str, expected: str | None) -> None:
    (stmt,) = sqltext.split_sql(sql)
    assert sqltext.added_constraint(stmt) == expected


def test_tables_named_in_sql() -> None:
    (alter,) = sqltext.split_sql(
        'ALTER TABLE IF EXISTS ONLY "public"."Mixed" ALTER COLUMN a SET NOT NULL'
    )
    assert sqltext.alter_table(alter) == "Mixed"
    assert sqltext.sets_not_null(alter)
    (lock,) = sqltext.split_sql("LOCK TABLE shop_order IN ACCESS EXCLUSIVE MODE")
    assert sqltext.locked_table(lock) == "shop_order"
    (index,) = sqltext.split_sql("CREATE INDEX i ON ONLY Shop_Order (a)")
    assert sqltext.locked_table(index) == "shop_order"
    assert sqltext.drop_index(sqltext.split_sql("DROP INDEX IF EXISTS i")[0]) is False
    assert (
        sqltext.split_operation_sql([("UPDATE t SET a = %s", [1]), "DELETE FROM t"])[1].tokens[0]
        == "DELETE"
    )
    assert sqltext.split_operation_sql("") == []


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TABLE t ALTER COLUMN id TYPE bigint", [("id", "bigint")]),
        (
            'ALTER TABLE "t" ALTER name SET DATA TYPE varchar(200), '
            "ALTER COLUMN n TYPE numeric(10, 2) USING n::numeric",
            [("name", "varchar(200)"), ("n", "numeric(10,2)")],
        ),
        (
            'ALTER TABLE t ALTER COLUMN c TYPE character varying(30) COLLATE "C"',
            [("c", "character varying(30)")],
        ),
        ("ALTER TABLE t ALTER COLUMN c TYPE double precision", [("c", "double precision")]),
        ("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1", []),
        ("UPDATE t SET c = 1", []),
    ],
)
def test_retyped_columns_in_sql(sql: str, expected: list[tuple[str, str]]) -> None:
    (stmt,) = sqltext.split_sql(sql)
    assert sqltext.retyped_columns(stmt) == expected


# -- column types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "compatible"),
    [
        ("varchar(10)", "varchar(20)", True),
        ("varchar(20)", "varchar(10)", False),
        ("varchar(10)", "varchar", True),
        ("varchar", "varchar(10)", False),
        ("varchar(10)", "text", True),
        ("text", "varchar", True),
        ("text", "varchar(10)", False),
        ("numeric(5, 2)", "numeric(7, 2)", True),
        ("numeric(5, 2)", "numeric(7, 3)", False),
        ("numeric(7, 2)", "numeric(5, 2)", False),
        ("integer", "bigint", False),
        ("timestamp with time zone", "timestamp with time zone", True),
        ("character varying(5)", "varchar(6)", True),
    ],
)
def test_binary_compatible_type_changes(old: str, new: str, compatible: bool) -> None:
    assert binary_compatible(old, new) is compatible


# -- the registry ---------------------------------------------------------------------------


def test_rules_have_stable_codes_an_explanation_and_a_safe_alternative() -> None:
    assert list(RULES) == sorted(RULES)
    for code, rule in RULES.items():
        assert rule.code == code
        assert code.startswith("DJG2")
        assert rule.title.endswith(".")
        assert rule.hint.endswith(".")
        assert rule.severity in ("error", "warning")
    assert describe_codes(postgresql_only_codes()) == "DJG202, DJG208-DJG212, DJG214-DJG216"
    assert {rule.level for rule in RULES.values()} == {
        "operation",
        "migration",
        "project",
        "report",
    }


def test_the_package_does_not_import_django_at_import_time() -> None:
    from tests.helpers import python_c

    code = (
        "import sys; import pytest_django_gates.migrations, "
        "pytest_django_gates.migrations.fixture, "
        "pytest_django_gates.migrations.registry, pytest_django_gates.gates.migrations; "
        "print('django' in sys.modules)"
    )
    assert python_c(code).strip() == "False"


# -- options and modes ------------------------------------------------------------------------


def test_ignore_entries_are_validated(tmp_path: Path) -> None:
    good = (
        '[[tool.django-gates.migrations.ignore]]\nmigration = "shop.0002_x"\n'
        'code = "DJG201"\nreason = "r"\n'
    )
    assert _config(tmp_path, good)["migrations.ignore"][0]["code"] == "DJG201"
    for bad, message in [
        ('[[tool.django-gates.migrations.ignore]]\ncode = "DJG201"\n', "non-empty 'reason'"),
        ('[[tool.django-gates.migrations.ignore]]\nreason = "r"\n', "give at least one of"),
        (
            '[[tool.django-gates.migrations.ignore]]\nmigration = "shop"\nreason = "r"\n',
            "is not app_label.migration_name",
        ),
        (
            '[[tool.django-gates.migrations.ignore]]\nfile = "x"\nreason = "r"\n',
            "unknown key(s) file",
        ),
        (
            '[[tool.django-gates.migrations.ignore]]\ncode = "DJG301"\nreason = "r"\n',
            "unknown code 'DJG301'",
        ),
    ]:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            _config(tmp_path, bad)


def test_mode_precedence(tmp_path: Path) -> None:
    assert resolve_mode(_config(tmp_path), {}).name == "all"
    mode = resolve_mode(_config(tmp_path), {"GITHUB_BASE_REF": "main"})
    assert (mode.name, mode.ref, mode.why) == (
        "since",
        "origin/main",
        "pull request base (GITHUB_BASE_REF)",
    )
    pyproject_since = '[tool.django-gates.migrations]\nsince = "origin/develop"\n'
    assert (
        resolve_mode(_config(tmp_path, pyproject_since), {"GITHUB_BASE_REF": "main"}).ref
        == "origin/develop"
    )
    # the command line wins over pyproject.toml
    cfg = _config(tmp_path, pyproject_since, cli={"migrations.all": True})
    assert resolve_mode(cfg, {}).name == "all"
    cfg = _config(tmp_path, pyproject_since, env={"DJANGO_GATES_MIGRATIONS_UNAPPLIED": "1"})
    assert resolve_mode(cfg, {}).name == "unapplied"
    with pytest.raises(ConfigError, match="mutually exclusive"):
        resolve_mode(_config(tmp_path, pyproject_since + "all = true\n"), {})


def test_unapplied_is_refused_under_pytest(tmp_path: Path) -> None:
    cfg = _config(tmp_path, "[tool.django-gates.migrations]\nunapplied = true\n")
    with pytest.raises(ConfigError, match="not available under pytest"):
        build_request(cfg, tmp_path, in_pytest=True, environ={})
    request = build_request(cfg, tmp_path, in_pytest=False, environ={})
    assert request.mode == "unapplied"


def test_since_outside_a_git_repository_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not inside a git repository"):
        added_since(tmp_path, "main")
    # ... but the implicit pull-request default does not break a project outside git
    request = build_request(
        _config(tmp_path), tmp_path, in_pytest=True, environ={"GITHUB_BASE_REF": "main"}
    )
    assert request.mode == "all"


# -- baseline -------------------------------------------------------------------------------


def test_baseline_round_trip_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    assert Baseline.write(path, {"shop.0002_x": ["DJG203", "DJG201", "DJG203"]}) == 1
    assert Baseline.load(path).migrations == {"shop.0002_x": ["DJG201", "DJG203"]}
    assert not list(tmp_path.glob(".b.json.*"))  # written atomically, no leftovers
    with pytest.raises(ConfigError, match="does not exist; create it with"):
        Baseline.load(tmp_path / "missing.json")
    path.write_text(
        json.dumps({"format": 1, "gate": "migrations", "migrations": {"shop": "DJG201"}})
    )
    with pytest.raises(ConfigError, match="entry 'shop' must map"):
        Baseline.load(path)
    path.write_text(json.dumps({"format": 2}))
    with pytest.raises(ConfigError, match=f"{path}: not a migrations baseline"):
        Baseline.load(path)


# -- source ---------------------------------------------------------------------------------


def test_operation_lines_come_from_the_operations_list(tmp_path: Path) -> None:
    path = tmp_path / "0002_x.py"
    path.write_text(
        textwrap.dedent(
            """\
            from django.db import migrations

            class Migration(migrations.Migration):
                gates_ignore = {"DJG203": "r"}
                operations = [
                    migrations.RunSQL("SELECT 1"),
                    migrations.SeparateDatabaseAndState(
                        state_operations=[],
                        database_operations=[
                            migrations.RunSQL("SELECT 2"),
                            migrations.RunSQL("SELECT 3"),
                        ],
                    ),
                ]
            """
        )
    )
    source = migration_source(path)
    assert source.class_line == 3
    assert source.attribute_lines["gates_ignore"] == 4
    assert source.line_of((0,), expected=2) == 6
    assert source.line_of((1,), expected=2) == 7
    assert source.line_of((1, 1), expected=2) == 11
    # operations built some other way: the assignment line
    assert source.line_of((0,), expected=3) == 5


def test_runpython_functions_that_reach_for_current_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "shopx"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "__init__.py").write_text("")
    # Not Django models: the rule reads the source, it never imports the models.
    (package / "models.py").write_text("class Order:\n    objects = None\n")
    (package / "migrations" / "0003_data.py").write_text(
        textwrap.dedent(
            """\
            from shopx.models import Order
            from shopx import models as shop_models


            def get_user_model():
                return None


            def uses_module_level(apps, schema_editor):
                Order.objects.count()


            def imports_inside(apps, schema_editor):
                from ..models import Order as O
                return O


            def uses_user_model(apps, schema_editor):
                return get_user_model()


            def uses_module_alias(apps, schema_editor):
                return shop_models.Order


            def clean(apps, schema_editor):
                Order = apps.get_model("shopx", "Order")
                return Order
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("shopx.migrations.0003_data")
    modules = frozenset({"shopx.models", "django.contrib.auth.models"})
    uses = {
        name: [u.what for u in models_used_by(getattr(module, name), modules)]
        for name in (
            "uses_module_level",
            "imports_inside",
            "uses_user_model",
            "uses_module_alias",
            "clean",
        )
    }
    assert uses["uses_module_level"] == ["Order (imported from shopx.models)"]
    assert uses["imports_inside"] == ["from shopx.models import Order"]
    assert uses["uses_user_model"] == ["get_user_model()"]
    assert uses["uses_module_alias"] == ["shop_models (imported from shopx.models)"]
    assert uses["clean"] == []


def test_runpython_schema_changes_are_read_from_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "djg_rp_schema.py").write_text(
        textwrap.dedent(
            """\
            import functools

            DROP = "ALTER TABLE shop_order DROP COLUMN note"


            def _index(editor, table):
                editor.execute(f"CREATE INDEX ON {table} (placed)")


            def _loop(editor):
                _loop(editor)


            def direct(apps, schema_editor):
                schema_editor.execute(DROP)
                se = schema_editor
                se.remove_field(None, None)
                se.add_index(None, None, concurrently=True)
                _index(schema_editor, "shop_order")
                _loop(schema_editor)


            def cursor_ddl(apps, schema_editor):
                with schema_editor.connection.cursor() as cursor:
                    cursor.execute("UPDATE shop_order SET note = ''")
                    cursor.execute("ALTER TABLE " + "shop_order RENAME TO orders")
                    cursor.execute(make_sql())


            def runtime_sql(apps, schema_editor, sql=None):
                schema_editor.execute(sql)


            def data_only(apps, schema_editor):
                schema_editor.connection.alias
                schema_editor.create_model  # not a call


            def make_sql():
                return ""


            partial = functools.partial(direct)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("djg_rp_schema")
    from pytest_django_gates.migrations.runpython import HOLE, schema_calls

    def described(name: str) -> list[tuple[int, str, str | None, bool, tuple[str, ...]]]:
        return [
            (c.line, c.method, c.sql, c.on_editor, c.chain)
            for c in schema_calls(getattr(module, name))
        ]

    assert described("direct") == [
        (7, "execute", f"CREATE INDEX ON {HOLE} (placed)", True, ("direct", "_index")),
        (15, "execute", "ALTER TABLE shop_order DROP COLUMN note", True, ("direct",)),
        (17, "remove_field", None, True, ("direct",)),
        (18, "add_index", None, True, ("direct",)),
    ]
    assert schema_calls(module.direct)[3].keywords == frozenset({"concurrently"})
    # a cursor's DML and unreadable SQL are not schema changes; its DDL is
    assert described("cursor_ddl") == [
        (26, "execute", "ALTER TABLE shop_order RENAME TO orders", False, ("cursor_ddl",))
    ]
    assert described("runtime_sql") == [(31, "execute", None, True, ("runtime_sql",))]
    assert described("data_only") == []
    assert described("partial") == described("direct")
    assert schema_calls(None) == ()


def test_updated_models_reads_bulk_writes_from_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "djg_rp_updates.py").write_text(
        textwrap.dedent(
            """
            def chained(apps, schema_editor):
                Ticket = apps.get_model("shop", "Ticket")
                Ticket.objects.filter(priority__isnull=True).update(priority=1)


            def inline(registry, editor):
                registry.get_model("shop.Order").objects.all().delete()


            def per_row(apps, schema_editor):
                Order = apps.get_model("shop", "Order")
                for order in Order.objects.only("id"):
                    order.ref = "x"
                    order.save(update_fields=["ref"])


            def bulk(apps, schema_editor):
                Order = apps.get_model("shop", "Order")
                Order.objects.bulk_update([], ["ref"])


            def reads_only(apps, schema_editor):
                Order = apps.get_model("shop", "Order")
                for order in Order.objects.all():
                    print(order.ref)
                Order.objects.count()


            def other_table(apps, schema_editor):
                apps.get_model("shop", "Queue").objects.bulk_create([])


            def helper(apps, schema_editor):
                _backfill(apps.get_model("shop", "Order"))


            def _backfill(model):
                model.objects.update(ref="x")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("djg_rp_updates")
    from pytest_django_gates.migrations.runpython import updated_models

    assert updated_models(module.chained) == (("shop", "Ticket"),)
    assert updated_models(module.inline) == (("shop", "Order"),)
    assert updated_models(module.per_row) == (("shop", "Order"),)
    assert updated_models(module.bulk) == (("shop", "Order"),)
    assert updated_models(module.reads_only) == ()
    assert updated_models(module.other_table) == ()
    assert updated_models(module.helper) == ()  # helpers are not followed
    assert updated_models(None) == ()


@pytest.mark.parametrize(
    ("sql", "table"),
    [
        ("UPDATE shop_order SET ref = 'x'", "shop_order"),
        ('UPDATE ONLY "shop_order" SET ref = 1 WHERE ref IS NULL', "shop_order"),
        ("DELETE FROM shop_order WHERE id < 10", "shop_order"),
        ("INSERT INTO shop_order (ref) VALUES ('x')", None),
        ("SELECT 1", None),
    ],
)
def test_updated_table_of_sql(sql: str, table: str | None) -> None:
    (statement,) = sqltext.split_operation_sql(sql)
    assert sqltext.updated_table(statement) == table


# -- expressions (Django objects, no settings needed) --------------------------------------------


def test_volatile_defaults_and_not_null_checks() -> None:
    import django
    from django.db.models import CheckConstraint, F, Func, Q, Value
    from django.db.models.expressions import RawSQL
    from django.db.models.functions import Coalesce, Now, Random

    from pytest_django_gates.migrations import facts

    assert facts.volatile_part(Random()) == "Random()"
    assert (
        facts.volatile_part(Coalesce(F("a"), Func(function="gen_random_uuid")))
        == "gen_random_uuid()"
    )
    assert (
        facts.volatile_part(RawSQL("clock_timestamp() + interval '1 day'", []))
        == "clock_timestamp()"
    )
    assert facts.volatile_part(Now()) is None
    assert facts.volatile_part(Value(3)) is None

    def check(q: Q) -> object:
        keyword = "condition" if django.VERSION >= (5, 1) else "check"
        return CheckConstraint(name="c", **{keyword: q})

    assert facts.proves_not_null(check(Q(email__isnull=False)), {"email"})
    assert facts.proves_not_null(check(Q(email__isnull=False) & Q(total__gte=0)), {"email"})
    assert facts.proves_not_null(check(~Q(email__isnull=True)), {"email"})
    assert facts.proves_not_null(check(~Q(email=None)), {"email"})
    assert not facts.proves_not_null(check(Q(email__isnull=False) | Q(total=1)), {"email"})
    assert not facts.proves_not_null(check(Q(other__isnull=False)), {"email"})


def test_ignore_rule_operation_is_a_documented_no_op() -> None:
    from pytest_django_gates.migrations import IgnoreRule

    op = IgnoreRule("DJG203", "DJG211", reason="tiny table")
    assert op.codes == ("DJG203", "DJG211")
    assert op.deconstruct() == ("IgnoreRule", ["DJG203", "DJG211"], {"reason": "tiny table"})
    assert op.describe() == "Ignore DJG203, DJG211 in this migration (tiny table)"
    assert op.reduces_to_sql
    assert op.elidable
    op.state_forwards("shop", object())  # changes nothing
    for codes, reason, message in [
        ((), "r", "at least one code"),
        (("E501",), "r", "are not migration codes"),
        (("DJG203",), " ", "non-empty reason"),
    ]:
        with pytest.raises(ValueError, match=message):
            IgnoreRule(*codes, reason=reason)


def test_postgresql_type_stand_in_matches_django() -> None:
    """The driver-free type tables equal Django's PostgreSQL backend's."""
    pytest.importorskip("psycopg")
    import django
    from django.db.backends.postgresql.base import DatabaseWrapper
    from django.db.backends.postgresql.features import DatabaseFeatures

    from pytest_django_gates.migrations.pgtypes import MINIMUM_VERSIONS, PostgreSQLTypes

    stand_in = PostgreSQLTypes((django.VERSION[0], django.VERSION[1]))
    assert set(stand_in.data_types) == set(DatabaseWrapper.data_types)

    def rendered(column_type: Any, data: dict[str, Any]) -> str:
        return str(column_type(data) if callable(column_type) else column_type % data)

    samples = (
        {"max_length": None, "max_digits": None, "decimal_places": None},
        {"max_length": 12, "max_digits": 10, "decimal_places": 2},
    )
    for key, value in DatabaseWrapper.data_types.items():
        ours = stand_in.data_types[key]
        for data in samples:
            assert rendered(ours, data) == rendered(value, data), (key, data)
    assert stand_in.data_type_check_constraints == DatabaseWrapper.data_type_check_constraints
    assert MINIMUM_VERSIONS[django.VERSION[:2]] == DatabaseFeatures.minimum_database_version[0]
    assert stand_in.features.minimum_database_version == DatabaseFeatures.minimum_database_version
    assert stand_in.ops.quote_name("a") == '"a"'
    assert stand_in.ops.max_name_length() == 63
