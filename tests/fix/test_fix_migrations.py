"""``django-gates fix`` on the migration gate's findings: real projects, real git,
real PostgreSQL and SQLite, the command run as a process."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlparse

import django
import pytest

from tests.helpers import git
from tests.migrations.migrations_support import INITIAL, cli, make_project

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


def branch_project(root: Path, database_url: str | None = None) -> Path:
    """A project on git: main has the model, the branch ``feature`` adds the migration."""
    make_project(
        root,
        {"shop": {"models.py": BASE_MODELS, "migrations/0001_initial.py": INITIAL}},
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
    (root / "shop/models.py").write_text(MODELS, encoding="utf-8")
    (root / "shop/migrations/0002_stock.py").write_text(FEATURE, encoding="utf-8")
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
    assert proc.returncode == 0 if django.VERSION >= (5, 0) else 1


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

    proc = _fix(root, "--since", "main", "--patch-only", str(patch))

    assert "fixed     DJG211" in proc.stdout, proc.stdout + proc.stderr
    assert f"the fixes' diff: {patch} (git apply takes it); no file changed" in proc.stdout
    assert git(root, "status", "--porcelain") == ""
    text = patch.read_text(encoding="utf-8")
    assert "+++ b/shop/migrations/0003_shop_item_name_concurrently.py" in text
    git(root, "apply", str(patch))
    after = _gate(root, "--since", "main")
    assert "DJG211" not in after.stdout
    assert "DJG215" not in after.stdout
    assert after.returncode == (0 if django.VERSION >= (5, 0) else 1), after.stdout
