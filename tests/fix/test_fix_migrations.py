"""``django-gates fix`` on the migration gate's findings: real projects, real git,
real PostgreSQL and SQLite, the command run as a process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import django
import pytest

from tests.helpers import git
from tests.migrations.migrations_support import INITIAL, clean_env, cli, make_project

CONDITION = "condition" if django.VERSION >= (5, 1) else "check"

MODELS = f"""\
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=50)
    # how many are in stock
    stock = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["name"], name="shop_item_name")]
        constraints = [
            models.CheckConstraint({CONDITION}=models.Q(stock__gte=0), name="stock_gte_0")
        ]
"""

# makemigrations' shape: one migration with the field, the index and the constraint.
FEATURE = f"""\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="item",
            name="stock",
            field=models.IntegerField(default=0),  # a comment the fix keeps
        ),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(fields=["name"], name="shop_item_name"),
        ),
        migrations.AddConstraint(
            model_name="item",
            constraint=models.CheckConstraint(
                {CONDITION}=models.Q(stock__gte=0), name="stock_gte_0"
            ),
        ),
    ]
"""

BASE_MODELS = """\
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=50)
"""


def branch_project(
    root: Path,
    database_url: str | None = None,
    *,
    base: tuple[str, str] = (BASE_MODELS, INITIAL),
    feature: tuple[str, str, str] = (MODELS, "0002_stock.py", FEATURE),
) -> Path:
    """A project on git: main has the model (``base``: models.py, 0001_initial.py), the
    branch ``feature`` changes it and adds the migration (models.py, name, text)."""
    make_project(
        root,
        {"shop": {"models.py": base[0], "migrations/0001_initial.py": base[1]}},
    )
    if database_url is not None:
        url = urlparse(database_url)
        settings = root / "proj_settings.py"
        text = settings.read_text(encoding="utf-8").splitlines()
        text = [line for line in text if not line.startswith("DATABASES")]
        text.append(
            'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", '
            f'"NAME": {url.path.lstrip("/")!r}, "USER": {url.username!r}, '
            f'"HOST": {url.hostname!r}, "PORT": {str(url.port)!r}}}}}'
        )
        settings.write_text("\n".join(text) + "\n", encoding="utf-8")
    (root / ".gitignore").write_text("*.sqlite3\n__pycache__/\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    (root / "shop/models.py").write_text(feature[0], encoding="utf-8")
    (root / "shop/migrations" / feature[1]).write_text(feature[2], encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "feature")
    return root


def _fix(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(["--project", str(root), "fix", "--settings", "proj_settings", *args], cwd=root)


def _gate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(
        ["--project", str(root), "migrations", "--settings", "proj_settings", *args], cwd=root
    )


def test_each_migration_recipe_is_applied_and_proven_on_postgresql(
    tmp_path: Path, postgres_db: str
) -> None:
    root = branch_project(tmp_path / "p", postgres_db)
    before = _gate(root, "--since", "main")
    assert before.returncode == 1
    for code in ("DJG201", "DJG211", "DJG215"):
        assert code in before.stdout

    proc = _fix(root, "--since", "main")

    out = proc.stdout
    assert "fixed     DJG211 shop.0002_stock" in out, out + proc.stderr
    assert "fixed     DJG215 shop.0002_stock" in out
    assert "every migration applied to a new postgresql database" in out
    # Each step says what it runs on stderr as it starts; the summary is on stdout.
    assert "django-gates fix: running the migration gate\n" in proc.stderr
    assert "django-gates fix: proving " in proc.stderr
    assert "(DJG211 shop.0002_stock)\n" in proc.stderr
    migration = (root / "shop/migrations/0002_stock.py").read_text(encoding="utf-8")
    assert "migrations.AddIndex(" not in migration  # moved to a migration of its own
    assert "AddConstraintNotValid(" in migration
    assert "from django.contrib.postgres.operations import AddConstraintNotValid\n" in migration
    index = (root / "shop/migrations/0003_shop_item_name_concurrently.py").read_text("utf-8")
    assert "atomic = False" in index
    assert 'AddIndexConcurrently(\n            model_name="item",' in index
    assert 'dependencies = [("shop", "0002_stock")]' in index
    validate = (root / "shop/migrations/0004_validate_stock_gte_0.py").read_text("utf-8")
    assert 'ValidateConstraint(model_name="item", name="stock_gte_0")' in validate
    assert 'dependencies = [("shop", "0003_shop_item_name_concurrently")]' in validate
    models_py = (root / "shop/models.py").read_text(encoding="utf-8")
    if django.VERSION >= (5, 0):
        assert "fixed     DJG201 shop.0002_stock" in out
        kept = "field=models.IntegerField(default=0, db_default=0),  # a comment the fix keeps"
        assert kept in migration
        field = (
            "    # how many are in stock\n"
            "    stock = models.IntegerField(default=0, db_default=0)\n"
        )
        assert field in models_py
        assert proc.returncode == 0
        after = _gate(root, "--since", "main")
        assert after.returncode == 0, after.stdout
        assert "no findings" in after.stdout
    else:
        assert "not fixed DJG201" in out
        assert "db_default needs Django 5.0 or later" in out
        assert models_py == MODELS
        assert proc.returncode == 1
    # The fixes are the only changes: git shows them, and nothing else moved.
    status = git(root, "status", "--porcelain").splitlines()
    assert sorted(status) == sorted(
        [
            " M shop/migrations/0002_stock.py",
            "?? shop/migrations/0003_shop_item_name_concurrently.py",
            "?? shop/migrations/0004_validate_stock_gte_0.py",
        ]
        + ([" M shop/models.py"] if django.VERSION >= (5, 0) else [])
    )


def test_a_fix_whose_proof_fails_is_reverted_byte_for_byte(tmp_path: Path) -> None:
    """On SQLite (the PostgreSQL rules asked for with --backend), AddIndexConcurrently
    and NOT VALID cannot be applied: both fixes are reverted, the files are as they were
    to the byte (CRLF line ends, a trailing space), and no new migration is left."""
    root = branch_project(tmp_path / "p")
    path = root / "shop/migrations/0002_stock.py"
    original = FEATURE.replace("\n", "\r\n").replace("# a comment", "# a comment ").encode()
    path.write_bytes(original)
    git(root, "commit", "-qam", "crlf")

    proc = _fix(root, "--since", "main", "--backend", "postgresql", "DJG211", "DJG215")

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "not fixed DJG211" in proc.stdout
    assert "reverted: migrate on a new sqlite test database failed" in proc.stdout
    assert "not fixed DJG215" in proc.stdout
    assert path.read_bytes() == original
    assert sorted(p.name for p in (root / "shop/migrations").glob("0*.py")) == [
        "0001_initial.py",
        "0002_stock.py",
    ]
    assert git(root, "status", "--porcelain") == ""


def test_dry_run_prints_a_diff_that_git_applies_and_changes_nothing(tmp_path: Path) -> None:
    root = branch_project(tmp_path / "p")
    (root / "untracked.txt").write_text("a dirty tree is fine for a dry run\n", encoding="utf-8")

    proc = _fix(root, "--since", "main", "--backend", "postgresql", "--dry-run")

    assert "planned (not proven: --dry-run)" in proc.stderr
    assert git(root, "status", "--porcelain") == "?? untracked.txt\n"
    diff = proc.stdout
    assert "+++ b/shop/migrations/0003_shop_item_name_concurrently.py" in diff
    assert "--- /dev/null" in diff
    (tmp_path / "fixes.patch").write_text(diff, encoding="utf-8")
    git(root, "apply", "--check", str(tmp_path / "fixes.patch"))
    assert proc.returncode == (0 if django.VERSION >= (5, 0) else 1), proc.stderr


def test_dirty_trees_and_deployed_migrations_are_left_alone(tmp_path: Path) -> None:
    root = branch_project(tmp_path / "p")
    (root / "shop/models.py").write_text(MODELS + "# edited\n", encoding="utf-8")
    proc = _fix(root, "--since", "main", "--backend", "postgresql")
    assert proc.returncode == 2
    assert "uncommitted changes (shop/models.py)" in proc.stderr
    assert "--allow-dirty" in proc.stderr
    git(root, "checkout", "-q", "shop/models.py")

    # Without --since, a committed migration may have been deployed: never edited.
    proc = _fix(root, "--all", "--backend", "postgresql", "DJG211")
    assert proc.returncode == 1
    assert "not fixed DJG211 shop.0002_stock" in proc.stdout
    assert "run with --since <base branch>" in proc.stdout
    assert git(root, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--only", "coverage"], "--only coverage: coverage cannot be fixed"),
        (
            ["--only", "migrations", "DJG101"],
            "no fix exists for DJG101 (with --only migrations); fixes exist for DJG201, "
            "DJG211, DJG215",
        ),
        (
            ["DJG203"],
            "no fix exists for DJG203 (with --only migrations,queries); fixes exist for "
            "DJG101, DJG201, DJG211, DJG215",
        ),
    ],
)
def test_usage_errors_are_exit_2(tmp_path: Path, argv: list[str], message: str) -> None:
    root = branch_project(tmp_path / "p")
    proc = _fix(root, "--since", "main", *argv)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_patch_only_proves_the_fixes_writes_their_diff_and_leaves_the_tree(
    tmp_path: Path, postgres_db: str
) -> None:
    """CI's form (the action's fixes.patch): proven fixes, the checkout as it was."""
    root = branch_project(tmp_path / "p", postgres_db)
    patch = tmp_path / "fixes.patch"

    proc = _fix(root, "--since", "main", "--patch-only", str(patch), "--quiet")

    assert "fixed     DJG211" in proc.stdout, proc.stdout + proc.stderr
    assert "django-gates fix:" not in proc.stderr  # --quiet: no progress
    assert f"the fixes' diff: {patch} (git apply takes it); no file changed" in proc.stdout
    assert git(root, "status", "--porcelain") == ""
    text = patch.read_text(encoding="utf-8")
    assert "+++ b/shop/migrations/0003_shop_item_name_concurrently.py" in text
    git(root, "apply", str(patch))
    after = _gate(root, "--since", "main")
    assert "DJG211" not in after.stdout
    assert "DJG215" not in after.stdout
    assert after.returncode == (0 if django.VERSION >= (5, 0) else 1), after.stdout


# An index on a field and a unique pair added to an existing table: makemigrations
# writes them as AlterField and AlterUniqueTogether, which the fix keeps as the state
# change while Django's own SQL builds them CONCURRENTLY.
OPTION_MODELS = """\
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=50, db_index=True)
    code = models.CharField(max_length=10, default="")

    class Meta:
        unique_together = [("name", "code")]
"""

OPTION_BASE = """\
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=50)
    code = models.CharField(max_length=10, default="")
"""

OPTION_INITIAL = INITIAL.replace(
    '("name", models.CharField(max_length=50)),',
    '("name", models.CharField(max_length=50)),\n'
    '                ("code", models.CharField(max_length=10, default="")),',
)

OPTION_FEATURE = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="item",
            name="name",
            field=models.CharField(max_length=50, db_index=True),
        ),
        migrations.AlterUniqueTogether(name="item", unique_together={("name", "code")}),
    ]
"""


def _pg_indexes(database_url: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'shop_item'"
        ).fetchall()
    return dict(rows)


def test_field_and_model_options_build_their_indexes_concurrently_with_djangos_sql(
    tmp_path: Path, postgres_db: str
) -> None:
    root = branch_project(
        tmp_path / "p",
        postgres_db,
        base=(OPTION_BASE, OPTION_INITIAL),
        feature=(OPTION_MODELS, "0002_options.py", OPTION_FEATURE),
    )
    assert _gate(root, "--since", "main").stdout.count("DJG211") == 2

    proc = _fix(root, "--since", "main")

    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert out.count("fixed     DJG211 shop.0002_options") == 2, out
    assert "ends with the same columns, indexes and constraints" in out
    migration = (root / "shop/migrations/0002_options.py").read_text(encoding="utf-8")
    assert "    atomic = False\n" in migration
    assert migration.count("migrations.SeparateDatabaseAndState(") == 2
    # the operations as written stay the state change, their layout kept
    assert (
        "            state_operations=[\n"
        "                migrations.AlterField(\n"
        '                    model_name="item",\n'
    ) in migration
    assert 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "shop_item_name_' in migration
    assert "varchar_pattern_ops" in migration  # the _like index Django adds on PostgreSQL
    assert 'UNIQUE USING INDEX "shop_item_name_code_' in migration
    assert "DROP INDEX CONCURRENTLY IF EXISTS" in migration  # the way back
    assert _gate(root, "--since", "main").returncode == 0

    # Forwards the indexes are Django's, valid; backwards they are gone.
    env = {"DJANGO_SETTINGS_MODULE": "proj_settings", "PYTHONPATH": str(root)}
    migrate = [sys.executable, "-m", "django", "migrate", "-v", "0"]
    for target in ([], ["shop", "0001"]):
        done = subprocess.run(
            [*migrate, *target], cwd=root, env=clean_env(env), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        indexes = _pg_indexes(postgres_db)
        if not target:
            assert any(n.endswith("_like") for n in indexes), indexes
            assert any("UNIQUE" in d and "(name, code)" in d for d in indexes.values()), indexes
        else:
            assert sorted(indexes) == ["shop_item_pkey"], indexes


CHAIN_MODELS = f"""\
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=50)
    stock = models.IntegerField(null=True)
    note = models.TextField(null=True)

    class Meta:
        constraints = [
            models.CheckConstraint({CONDITION}=models.Q(stock__gte=0), name="stock_gte_0")
        ]
"""

CHAIN_0002 = f"""\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AddField("item", "stock", models.IntegerField(null=True)),
        migrations.AddConstraint(
            "item", models.CheckConstraint({CONDITION}=models.Q(stock__gte=0), name="stock_gte_0")
        ),
    ]
"""

CHAIN_0003 = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('shop', '0002_stock'),  # the next change of the same branch
    ]

    operations = [
        migrations.AddField("item", "note", models.TextField(null=True)),
    ]
"""


def test_a_new_migration_goes_into_the_middle_of_a_branchs_chain(
    tmp_path: Path, postgres_db: str
) -> None:
    """The validation of 0002's constraint needs a migration right after 0002, and the
    branch's 0003 depends on 0002: 0003 is rewired to depend on the new one (one leaf,
    the order kept), in its own quotes, its comment kept."""
    root = branch_project(
        tmp_path / "p", postgres_db, feature=(CHAIN_MODELS, "0002_stock.py", CHAIN_0002)
    )
    (root / "shop/migrations/0003_note.py").write_text(CHAIN_0003, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "note")

    proc = _fix(root, "--since", "main")

    assert "fixed     DJG215 shop.0002_stock" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 0
    validate = (root / "shop/migrations/0004_validate_stock_gte_0.py").read_text("utf-8")
    assert 'dependencies = [("shop", "0002_stock")]' in validate
    note = (root / "shop/migrations/0003_note.py").read_text("utf-8")
    assert note == CHAIN_0003.replace("'0002_stock'", "'0004_validate_stock_gte_0'")
    assert _gate(root, "--since", "main").returncode == 0
    assert sorted(git(root, "status", "--porcelain").splitlines()) == [
        " M shop/migrations/0002_stock.py",
        " M shop/migrations/0003_note.py",
        "?? shop/migrations/0004_validate_stock_gte_0.py",
    ]


def test_options_on_a_sqlite_project_are_refused_naming_the_database(tmp_path: Path) -> None:
    """CONCURRENTLY is PostgreSQL's: on a project that tests on SQLite (the PostgreSQL
    rules asked for with --backend), Django's SQL is read there and the fix refused."""
    root = branch_project(
        tmp_path / "p",
        base=(OPTION_BASE, OPTION_INITIAL),
        feature=(OPTION_MODELS, "0002_options.py", OPTION_FEATURE),
    )

    proc = _fix(root, "--since", "main", "--backend", "postgresql")

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.count("the database is sqlite: CONCURRENTLY is PostgreSQL's") == 2
    assert git(root, "status", "--porcelain") == ""
