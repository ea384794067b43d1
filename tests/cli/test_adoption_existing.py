"""Adoption on an existing project: old problems are held, a change's new ones fail.

A git repository with history: an unsafe old migration, an N+1 in an old view
reached by two tests, old ruff and mypy errors, and production settings whose
``DEBUG`` comes from the environment with a default of true (``security.W018`` on
the base). ``django-gates init --baselines`` accepts all of that, and the first
``django-gates run`` passes. Then a change adds one new problem of each kind (a
``DEBUG = True`` line included), and the run fails on exactly those five, naming
their files and lines, and on nothing old.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.cli_support import commit_all, git
from tests.cli.test_adoption import (
    PRODUCTION,
    UNSAFE_MIGRATION,
    VIEWS,
    _must,
    _run,
    startproject,
)

pytest.importorskip("factory")
pytest.importorskip("pytest_django")

OLD_VIEWS = (
    "import os\n\n"
    + VIEWS
    + """

def categories(request):
    from shop.models import Category

    rows = Category.objects.all()
    return JsonResponse({"categories": [[c.name, c.product_set.count()] for c in rows]})


def today(request):
    from django.utils import timezone

    from shop.models import Category

    rows = Category.objects.all()
    if timezone.localtime().hour >= 12:  # the afternoon's page counts each one's products
        return JsonResponse({"today": [[c.name, c.product_set.count()] for c in rows]})
    return JsonResponse({"today": [c.name for c in rows]})
"""
)

OLD_TESTS = """

@pytest.mark.django_db
def test_categories(client):
    ProductFactory.create_batch(3)
    assert client.get("/categories/").status_code == 200


@pytest.mark.django_db
def test_categories_again(client):
    ProductFactory.create_batch(4)
    assert client.get("/categories/").status_code == 200


@pytest.mark.django_db
def test_today(client):
    ProductFactory.create_batch(3)
    assert client.get("/today/").status_code == 200
"""

# Production settings driven by the environment, with a default that is wrong for
# production: the base already has security.W018 on this line.
OLD_DEBUG = 'DEBUG = os.environ.get("DJANGO_DEBUG", "true") == "true"\n'
assert "DEBUG = False\n" in PRODUCTION

NEW_TESTS = """

@pytest.mark.django_db
def test_names(client):
    ProductFactory.create_batch(3)
    assert client.get("/names/").status_code == 200


@pytest.mark.django_db
def test_names_again(client):
    ProductFactory.create_batch(4)
    assert client.get("/names/").status_code == 200
"""

SERVICES = """\
def price(cents: int) -> str:
    return cents / 100
"""

NEW_MIGRATION = UNSAFE_MIGRATION.replace('"0001_initial"', '"0002_product_sku"').replace(
    '"sku"', '"code"'
)


def gate(data: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [g for g in data["gates"] if g["name"] == name]
    return found


def findings(data: dict[str, Any], name: str) -> list[tuple[str, str, int]]:
    return [(f["code"], f["path"], f["line"]) for f in gate(data, name)["findings"]]


def django_gates_run(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    report = root.parent / "report.json"
    report.unlink(missing_ok=True)
    proc = _run(
        [
            sys.executable,
            "-m",
            "pytest_django_gates",
            "run",
            "--skip",
            "gitleaks,pip-audit",
            "--report",
            str(report),
            *args,
        ],
        root,
        env=env,
    )
    data = json.loads(report.read_text()) if report.is_file() else {}
    return proc.returncode, data, proc.stdout + proc.stderr


def _old_views_and_tests(root: Path) -> Path:
    """The old views (an N+1, and one only in the afternoon), their URLs and tests; the
    test module's path."""
    (root / "shop" / "views.py").write_text(OLD_VIEWS)
    (root / "mysite" / "urls.py").write_text(
        "from django.urls import path\n\nfrom shop.views import categories, health, products, today"
        '\n\nurlpatterns = [path("products/", products), path("health/", health), '
        'path("categories/", categories), path("today/", today)]\n'
    )
    tests = root / "shop" / "test_products.py"
    tests.write_text(tests.read_text() + OLD_TESTS)
    return tests


def test_an_existing_repository_adopts_the_gates_and_fails_only_on_new_problems(
    tmp_path: Path,
) -> None:
    root = startproject(tmp_path / "site")
    # The old state: an unsafe migration, an N+1, a ruff and a mypy error.
    (root / "shop" / "migrations" / "0002_product_sku.py").write_text(UNSAFE_MIGRATION)
    models = root / "shop" / "models.py"
    models.write_text(
        models.read_text() + '    sku = models.CharField(max_length=20, default="x")\n'
    )
    tests = _old_views_and_tests(root)
    (root / "shop" / "services.py").write_text(SERVICES)
    production = root / "mysite" / "production.py"
    production.write_text(PRODUCTION.replace("DEBUG = False\n", OLD_DEBUG))
    with (root / "pyproject.toml").open("a") as f:
        f.write('\n[tool.ruff.lint]\nselect = ["F"]\n\n[tool.mypy]\nfiles = ["shop/services.py"]\n')
    (root / ".gitignore").write_text(".coverage\n")  # as projects that measure coverage have it
    commit_all(root, "years of history")

    out = _must([sys.executable, "-m", "pytest_django_gates", "init", "--baselines"], root)
    assert "ruff baseline: " in out, out
    # import os in the view, startapp's unused admin import, MIDDLEWARE from a star import
    assert "written with 3 findings" in out, out
    assert "mypy baseline: " in out, out
    # The N+1 is reached by two tests: one entry, keyed by file and query, covers both.
    # The afternoon's N+1 of test_today is seen in one of init's two runs only (the second
    # moves Django's clock 12 hours): its entry has clock = true.
    assert "queries: today's findings (" in out, out
    assert "; 1 entry with clock = true: needed at one time of day only" in out, out
    assert "deploy baseline: baseline .django-gates/deploy-baseline.json written" in out, out
    # test_today runs more queries in the afternoon: the second run, with Django's clock
    # moved 12 hours, finds it (and only it).
    assert "clock probe: 1 test(s) ran another number of queries" in out, out
    query_baseline = json.loads((root / ".django-gates" / "query-baseline.json").read_text())
    assert list(query_baseline["clock"]) == ["shop/test_products.py::test_today"]
    assert out.rstrip().endswith("next: django-gates run (commit the files)"), out
    pyproject = (root / "pyproject.toml").read_text()
    assert pyproject.count("[[tool.django-gates.queries.allow]]") == 2, pyproject
    assert pyproject.count("clock = true") == 1, pyproject
    assert 'location = "shop/views.py:*"' in pyproject
    assert 'sql = "SELECT COUNT(*) AS \\"__count\\" FROM \\"shop_product\\"' in pyproject
    assert "test = " not in pyproject
    for name in ("migrations", "ruff", "mypy", "query", "deploy"):
        assert (root / ".django-gates" / f"{name}-baseline.json").is_file(), name
    deploy_baseline = json.loads((root / ".django-gates" / "deploy-baseline.json").read_text())
    debug_line = production.read_text().splitlines().index(OLD_DEBUG.rstrip()) + 1
    assert ("security.W018", "mysite/production.py", debug_line) in [
        (e["code"], e["path"], e["line"]) for e in deploy_baseline["findings"]
    ]
    commit_all(root, "adopt django-gates")

    code, data, out = django_gates_run(root)
    assert code == 0, out
    assert "3 old findings held back" in gate(data, "ruff")["summary"]
    assert gate(data, "queries")["findings"] == [], out
    assert (
        "held back by the baseline .django-gates/deploy-baseline.json"
        in (gate(data, "deploy")["summary"])
    )
    # Run in the other half of the day: the afternoon's N+1 comes or goes, the count moves:
    # no error, and no clock = true entry reported unused.
    code, data, out = django_gates_run(root, env={"DJANGO_GATES_QUERIES_CLOCK_SHIFT": "12"})
    assert code == 0, out
    moved = gate(data, "queries")["findings"]
    assert {(f["code"], f["severity"]) for f in moved} <= {("DJG103", "warning")}, out
    # Running init again changes nothing.
    again = _must([sys.executable, "-m", "pytest_django_gates", "init", "--baselines"], root)
    assert "up to date" in again
    assert git(root, "status", "--porcelain") == ""

    # The change: one new problem of each kind.
    git(root, "checkout", "-q", "-b", "feature")
    views = root / "shop" / "views.py"
    views.write_text(
        "import sys\n"
        + views.read_text()
        + """

def names(request):
    rows = Product.objects.all()
    return JsonResponse({"names": [p.category.name for p in rows]})
"""
    )
    (root / "mysite" / "urls.py").write_text(
        (root / "mysite" / "urls.py")
        .read_text()
        .replace("categories, health, products", "categories, health, names, products")
        .replace("]\n", ', path("names/", names)]\n')
    )
    tests.write_text(tests.read_text() + NEW_TESTS)
    (root / "shop" / "services.py").write_text(
        SERVICES
        + "\n\ndef count(n: int) -> int:\n    return str(n)\n"
        # and a helper no test calls: the changed lines' coverage drops below the floor
        + "\n\ndef total(rows: list[int]) -> int:\n    result = 0\n    for row in rows:\n"
        "        result += row\n    return result\n"
    )
    (root / "shop" / "migrations" / "0003_product_code.py").write_text(NEW_MIGRATION)
    models.write_text(
        models.read_text() + '    code = models.CharField(max_length=20, default="x")\n'
    )
    # A few lines below the old, accepted DEBUG line: a new one, which must not pass.
    production.write_text(production.read_text() + "DEBUG = True\n")
    new_debug_line = len(production.read_text().splitlines())
    commit_all(root, "the change")

    code, data, out = django_gates_run(root, "--since", "main")
    assert code == 1, out
    assert findings(data, "ruff") == [("ruff:F401", "shop/views.py", 1)], out
    assert findings(data, "mypy") == [("mypy:return-value", "shop/services.py", 6)], out
    (migration,) = gate(data, "migrations")["findings"]
    assert (migration["code"], migration["object"]) == ("DJG201", "shop.0003_product_code")
    assert migration["path"] == "shop/migrations/0003_product_code.py"
    (n_plus_one,) = gate(data, "queries")["findings"]
    assert n_plus_one["code"] == "DJG101"
    assert n_plus_one["object"] == "shop/test_products.py::test_names"
    assert "in 2 tests:" in n_plus_one["message"]
    # Both tests failed by the one grouped N+1 are the queries gate's, not a test failure
    tests_gate = gate(data, "tests")
    assert tests_gate["findings"] == [], tests_gate
    assert "2 failed only by a gate's finding" in tests_gate["summary"]
    line = (
        views.read_text()
        .splitlines()
        .index('    return JsonResponse({"names": [p.category.name for p in rows]})')
    )
    assert (n_plus_one["path"], n_plus_one["line"]) == ("shop/views.py", line + 1)
    deploy = findings(data, "deploy")
    assert deploy, out
    assert {(path, line) for _, path, line in deploy} == {
        ("mysite/production.py", new_debug_line)
    }, out
    assert "security.W018" in {code for code, _, _ in deploy}
    # init turned coverage on for changed lines: the change's untested function fails it
    coverage = gate(data, "coverage")
    assert coverage["status"] == "failed", coverage["summary"]
    assert any(
        f["path"] == "shop/services.py" or "shop/services.py" in f["message"]
        for f in coverage["findings"]
    ), coverage["findings"]


def test_no_clock_probe_runs_the_suite_once_and_says_what_that_leaves_out(
    tmp_path: Path,
) -> None:
    """``init --baselines --no-clock-probe`` (for a slow suite): one suite run, no clock
    list, no ``clock = true`` entry, and init says the probe was skipped."""
    root = startproject(tmp_path / "site")
    _old_views_and_tests(root)
    commit_all(root, "history")
    command = [sys.executable, "-m", "pytest_django_gates", "init", "--baselines"]
    out = _must([*command, "--no-clock-probe"], root)
    assert "clock probe: skipped (--no-clock-probe)" in out, out
    assert "running the test suite again" not in out, out
    query_baseline = json.loads((root / ".django-gates" / "query-baseline.json").read_text())
    assert "shop/test_products.py::test_today" in query_baseline["tests"]
    assert not query_baseline.get("clock"), query_baseline
    assert "clock = true" not in (root / "pyproject.toml").read_text()
    assert out.rstrip().endswith("next: django-gates run (commit the files)"), out
