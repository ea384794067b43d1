"""Adoption, end to end: a brand-new ``startproject`` takes the gates in three commands.

install (done: this environment), ``django-gates init``, ``pytest --django-gates``; then
a planted N+1, an unsafe migration and an insecure production setting each fail the
run with a message naming the file and line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.migrations.migrations_support import clean_env

pytest.importorskip("factory")
pytest.importorskip("pytest_django")

MODELS = """\
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    pass


class Category(models.Model):
    name = models.CharField(max_length=50)


class Product(models.Model):
    name = models.CharField(max_length=50)
    category = models.ForeignKey(Category, on_delete=models.CASCADE)
"""

VIEWS = """\
from django.http import JsonResponse

from shop.models import Product


def products(request):
    rows = Product.objects.select_related("category")
    return JsonResponse({"products": [[p.name, p.category.name] for p in rows]})


def health(request):
    return JsonResponse({"status": "ok"})
"""

URLS = """\
from django.urls import path

from shop.views import health, products

urlpatterns = [path("products/", products), path("health/", health)]
"""

TESTS = """\
import factory
import pytest

from shop.models import Category, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"c{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"p{n}")
    category = factory.SubFactory(CategoryFactory)


@pytest.mark.django_db
def test_products(client):
    ProductFactory.create_batch(5)
    assert len(client.get("/products/").json()["products"]) == 5
"""

PRODUCTION = """\
import os

import django

from mysite.settings import *  # noqa: F403

if django.VERSION >= (6, 1):  # startproject's MAILERS uses the console backend
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
STATIC_URL = "https://cdn.example.com/static/"
if django.VERSION >= (6, 0):
    MIDDLEWARE = [*MIDDLEWARE, "django.middleware.csp.ContentSecurityPolicyMiddleware"]
    SECURE_CSP = {"default-src": ["'self'"], "object-src": ["'none'"]}
else:
    MIDDLEWARE = [*MIDDLEWARE, "csp.middleware.CSPMiddleware"]
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"]}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
"""

UNSAFE_MIGRATION = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AddField("product", "sku", models.CharField(max_length=20, default="x")),
    ]
"""


def _run(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _must(cmd: list[str], cwd: Path) -> str:
    proc = _run(cmd, cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def startproject(root: Path) -> Path:
    root.mkdir()
    python = sys.executable
    _must([python, "-m", "django", "startproject", "mysite", "."], root)
    _must([python, "manage.py", "startapp", "shop"], root)
    (root / "shop" / "models.py").write_text(MODELS, encoding="utf-8")
    (root / "shop" / "views.py").write_text(VIEWS, encoding="utf-8")
    (root / "shop" / "tests.py").unlink()
    (root / "shop" / "test_products.py").write_text(TESTS, encoding="utf-8")
    (root / "mysite" / "urls.py").write_text(URLS, encoding="utf-8")
    settings = root / "mysite" / "settings.py"
    text = settings.read_text(encoding="utf-8")
    text = re.sub(r"(INSTALLED_APPS = \[)", r"\1\n    'shop',", text)
    settings.write_text(text + '\nAUTH_USER_MODEL = "shop.User"\n', encoding="utf-8")
    (root / "mysite" / "production.py").write_text(PRODUCTION, encoding="utf-8")
    _must([python, "manage.py", "makemigrations", "shop", "-v", "0"], root)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "mysite"\nversion = "0"\n\n'
        '[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = "mysite.settings"\n',
        encoding="utf-8",
    )
    return root


def _gates(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run(
        [sys.executable, "-m", "pytest", "--django-gates", "-p", "no:cacheprovider", *extra], root
    )


def test_a_new_startproject_adopts_the_gates_and_they_catch_each_kind_of_break(
    tmp_path: Path,
) -> None:
    root = startproject(tmp_path / "site")
    out = _must([sys.executable, "-m", "pytest_django_gates", "init"], root)
    assert "deploy: production settings mysite.production (found)" in out
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert 'deploy_settings = "mysite.production"' in pyproject
    assert '"queries", "migrations", "deploy"' in pyproject
    # idempotent
    assert "up to date" in _must([sys.executable, "-m", "pytest_django_gates", "init"], root)

    clean = _gates(root)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    for gate in ("queries", "migrations", "deploy"):
        assert f"{gate}: PASSED" in clean.stdout, clean.stdout
    with_xdist = _gates(root, "-n", "2")
    assert with_xdist.returncode == 0, with_xdist.stdout + with_xdist.stderr

    # 1. an N+1: the view loses its select_related
    views = root / "shop" / "views.py"
    views.write_text(VIEWS.replace('.select_related("category")', ".all()"), encoding="utf-8")
    broken = _gates(root)
    assert broken.returncode == 1, broken.stdout
    assert "queries: FAILED" in broken.stdout
    assert "shop/views.py:8" in broken.stdout, broken.stdout
    views.write_text(VIEWS, encoding="utf-8")

    # 2. an unsafe migration: a NOT NULL column without a database default
    migration = root / "shop" / "migrations" / "0002_product_sku.py"
    migration.write_text(UNSAFE_MIGRATION, encoding="utf-8")
    models = root / "shop" / "models.py"
    models.write_text(
        MODELS + '    sku = models.CharField(max_length=20, default="x")\n', encoding="utf-8"
    )
    broken = _gates(root)
    assert broken.returncode == 1, broken.stdout
    assert "DJG201" in broken.stdout
    assert "shop/migrations/0002_product_sku.py:8" in broken.stdout, broken.stdout
    migration.unlink()
    models.write_text(MODELS, encoding="utf-8")

    # 3. an insecure production setting
    production = root / "mysite" / "production.py"
    production.write_text(PRODUCTION + "DEBUG = True\n", encoding="utf-8")
    broken = _gates(root)
    assert broken.returncode == 1, broken.stdout
    assert "deploy: FAILED" in broken.stdout
    line = len(PRODUCTION.splitlines()) + 1
    assert f"mysite/production.py:{line}" in broken.stdout, broken.stdout


RUNNER_TESTS = """\
from django.test import TestCase

from shop.models import Category, Product


class ProductsTests(TestCase):
    def test_products(self):
        category = Category.objects.create(name="c")
        for n in range(5):
            Product.objects.create(name=f"p{n}", category=category)
        self.assertEqual(len(self.client.get("/products/").json()["products"]), 5)
"""


def test_a_project_on_djangos_test_runner_gets_pytest_configured_to_collect_its_tests(
    tmp_path: Path,
) -> None:
    """No pytest configuration and ``shop/tests.py`` (what ``startapp`` writes): init
    configures pytest to collect what ``manage.py test`` runs, with manage.py's settings,
    and the gates then judge those tests; an N+1 planted in the view is caught."""
    root = startproject(tmp_path / "site")
    (root / "pyproject.toml").write_text('[project]\nname = "mysite"\nversion = "0"\n')
    (root / "shop" / "test_products.py").unlink()
    # what the runner does not run, pytest must not either: a plain function, and an
    # abstract TestCase nested in a holder class (kept out of discovery that way)
    (root / "shop" / "tests.py").write_text(
        RUNNER_TESTS
        + "\n\ndef test_helper_not_run_by_the_runner():\n    raise AssertionError\n"
        + "\n\nclass TestBases:\n    class Abstract(TestCase):\n"
        + "        def test_abstract(self):\n            raise AssertionError\n",
        encoding="utf-8",
    )
    init = [sys.executable, "-m", "pytest_django_gates", "init"]
    out = _must(init, root)
    assert "1 test module named for Django's runner (e.g. shop/tests.py)" in out, out
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert (
        '[tool.pytest.ini_options]\npython_files = ["test*.py"]\npython_classes = []\n'
        'python_functions = []\nDJANGO_SETTINGS_MODULE = "mysite.settings"\n'
    ) in pyproject, pyproject
    assert "up to date" in _must(init, root)  # pytest is configured now: left alone

    clean = _gates(root)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "1 passed" in clean.stdout, clean.stdout
    views = root / "shop" / "views.py"
    views.write_text(VIEWS.replace('.select_related("category")', ".all()"), encoding="utf-8")
    broken = _gates(root)
    assert broken.returncode == 1, broken.stdout
    assert "shop/views.py:8" in broken.stdout, broken.stdout


def test_a_configured_pytest_is_never_rewritten_only_told_what_it_leaves_out(
    tmp_path: Path,
) -> None:
    root = startproject(tmp_path / "site")
    (root / "shop" / "tests_extra.py").write_text(RUNNER_TESTS, encoding="utf-8")
    out = _must([sys.executable, "-m", "pytest_django_gates", "init", "--dry-run"], root)
    assert (
        "pytest: 1 test module named for Django's runner (e.g. shop/tests_extra.py) left out "
        "by the default python_files of pyproject.toml [tool.pytest.ini_options]"
    ) in out, out
    assert "+[tool.pytest" not in out
