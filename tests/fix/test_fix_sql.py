"""The pieces of the SQL recipe and of the schema proof, on their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_django_gates.fix.apply_worker import differences
from pytest_django_gates.fix.migration_files import MigrationSource
from pytest_django_gates.fix.plan import Change, Context, NotFixable, Target
from pytest_django_gates.fix.recipes import djg211_runsql_concurrently
from pytest_django_gates.fix.recipes.djg211_index_sql_concurrently import rewrite


def test_djangos_index_statements_get_their_concurrent_form() -> None:
    index = rewrite('CREATE INDEX "a_b_1f" ON "a" ("b" varchar_pattern_ops);')
    assert index is not None
    assert index.concurrent == (
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "a_b_1f" ON "a" ("b" varchar_pattern_ops);',
    )
    assert index.drop == 'DROP INDEX CONCURRENTLY IF EXISTS "a_b_1f";'

    partial = rewrite('CREATE UNIQUE INDEX "u" ON "a" ("b") WHERE "c" = \'x\';')
    assert partial is not None
    assert partial.concurrent == (
        'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "u" ON "a" ("b") WHERE "c" = \'x\';',
    )

    unique = rewrite(
        'ALTER TABLE "a" ADD CONSTRAINT "a_b_c_uniq" UNIQUE ("b", "c") DEFERRABLE INITIALLY '
        "DEFERRED;"
    )
    assert unique is not None
    assert unique.concurrent == (
        'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "a_b_c_uniq" ON "a" ("b", "c");',
        'ALTER TABLE "a" ADD CONSTRAINT "a_b_c_uniq" UNIQUE USING INDEX "a_b_c_uniq" '
        "DEFERRABLE INITIALLY DEFERRED;",
    )
    assert unique.drop == 'ALTER TABLE "a" DROP CONSTRAINT IF EXISTS "a_b_c_uniq";'


def test_other_statements_are_not_rewritten() -> None:
    for statement in (
        'CREATE INDEX CONCURRENTLY "i" ON "a" ("b");',
        'ALTER TABLE "a" ADD COLUMN "b" integer NULL;',
        'ALTER TABLE "a" ADD CONSTRAINT "u" UNIQUE NULLS NOT DISTINCT ("b");',
        'ALTER TABLE "a" ADD CONSTRAINT "x" EXCLUDE USING gist ("b" WITH &&);',
    ):
        assert rewrite(statement) is None, statement


def _schema(**columns: object) -> dict[str, dict[str, object]]:
    return {
        "columns": {"t.a": {"type": "integer", "default": None, **columns}},
        "indexes": {"t_a": {"definition": "CREATE INDEX t_a ON public.t USING btree (a)"}},
        "constraints": {},
    }


def test_the_schema_proof_names_the_first_difference_and_allows_what_the_recipe_declares() -> None:
    before = _schema()
    assert differences(before, _schema(), frozenset()) == []
    changed = _schema(default="0")
    assert differences(before, changed, frozenset()) == [
        "column t.a: default None before the edit, '0' after"
    ]
    assert differences(before, changed, frozenset({"default"})) == []
    assert differences(before, _schema(type="bigint"), frozenset({"default"})) == [
        "column t.a: type 'integer' before the edit, 'bigint' after"
    ]
    gone = {**before, "indexes": {}}
    assert differences(before, gone, frozenset()) == ["index t_a is no longer built"]
    assert differences(gone, before, frozenset()) == ["index t_a is new"]


RUNSQL = '''\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=["""
                create unique index shop_item_lower_name  -- case-blind names
                on shop_item (lower(name))
            """],
            reverse_sql='DROP INDEX shop_item_lower_name',
        ),
    ]
'''


def _runsql_plan(tmp_path: Path, text: str) -> Change:
    path = tmp_path / "0002_lower.py"
    path.write_text(text, encoding="utf-8")
    source = MigrationSource.read(path)
    op = source.operations[0]
    target = Target("DJG211", "shop.0002_lower", "", path, op.node.lineno, op.segment)
    ctx = Context(root=tmp_path, django_version=(5, 2))
    return djg211_runsql_concurrently.plan(target, ctx, lambda p: p.read_text("utf-8"))


def test_a_runsql_index_gets_concurrently_in_its_string_as_written(tmp_path: Path) -> None:
    change = _runsql_plan(tmp_path, RUNSQL)
    (text,) = change.files.values()
    assert text == RUNSQL.replace(
        "create unique index shop", "create unique index CONCURRENTLY shop"
    ).replace("'DROP INDEX shop", "'DROP INDEX CONCURRENTLY shop").replace(
        '    dependencies = [("shop", "0001_initial")]',
        '    atomic = False\n\n    dependencies = [("shop", "0001_initial")]',
    )


def test_a_runsql_string_of_several_statements_is_not_rewritten(tmp_path: Path) -> None:
    two = RUNSQL.replace(
        "on shop_item (lower(name))", "on shop_item (lower(name)); ANALYZE shop_item"
    )
    with pytest.raises(NotFixable, match="several statements"):
        _runsql_plan(tmp_path, two)
