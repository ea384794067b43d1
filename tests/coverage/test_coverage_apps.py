"""Per-app floors through the Django app registry (read in a subprocess from the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_django_gates.coverage.apps import App, AppIndex
from tests.coverage.conftest import Project, measure_django


@pytest.fixture
def measured(django_project: Project) -> Project:
    return django_project


def test_app_floor_combines_the_apps_files_and_names_the_gap(measured: Project) -> None:
    measured.configure(
        """
        [[tool.django-gates.coverage.apps]]
        app = "orders"
        line = 90

        [[tool.django-gates.coverage.apps]]
        app = "billing"
        line = 100
        branch = 100
        """
    )
    run = measured.gates()
    assert run.rc == 1
    assert run.codes() == ["DJG403"]
    finding = run.finding("DJG403")
    assert finding["object"] == "orders"
    assert "72.72% < 90.00% (8/11 lines): 2 more lines needed in orders" in finding["message"]
    assert "src/orders/logic.py: uncovered lines 3, 14-15" in finding["message"]
    assert (finding["path"], finding["line"]) == ("src/orders/logic.py", 3)
    assert "app floors: orders, billing" in run.gate["summary"]


def test_star_floors_every_project_app_on_its_own(measured: Project) -> None:
    measured.configure(
        """
        [[tool.django-gates.coverage.apps]]
        app = "*"
        line = 80

        [[tool.django-gates.coverage.apps]]
        app = "orders"
        line = 70
        """
    )
    run = measured.gates()
    assert run.rc == 0, run.out
    # the explicit orders floor wins over "*"; Django's contrib apps are not project apps
    assert "app floors: orders, billing, refunds" in run.gate["summary"]
    assert "auth" not in run.gate["summary"]


def test_nested_app_files_belong_to_the_innermost_app(measured: Project) -> None:
    measured.write(
        "src/billing/refunds/logic.py",
        "def refund(amount):\n    return -amount\n\n\ndef never():\n    return 1\n",
    )
    measure_django(measured)
    measured.configure(
        """
        [[tool.django-gates.coverage.apps]]
        app = "billing"
        line = 100

        [[tool.django-gates.coverage.apps]]
        app = "refunds"
        line = 100
        """
    )
    run = measured.gates()
    assert [f["object"] for f in run.gate["findings"]] == ["refunds"]


def test_paths_under_a_floor_are_reported_under_it_in_the_total(measured: Project) -> None:
    measured.configure(
        "[tool.django-gates.coverage]\nline = 95\n\n"
        '[[tool.django-gates.coverage.apps]]\napp = "orders"\nline = 50\n'
    )
    run = measured.gates()
    message = run.finding("DJG401")["message"]
    assert "src/orders/logic.py: uncovered lines 3, 14-15 [app orders]" in message


def test_unknown_app_label_is_a_configuration_error(measured: Project) -> None:
    measured.configure('[[tool.django-gates.coverage.apps]]\napp = "shipping"\nline = 90\n')
    run = measured.gates()
    assert run.rc == 2
    assert "app 'shipping' is not an installed Django app label" in run.err
    assert "project apps: orders, billing, refunds" in run.err


def test_app_without_measured_files_is_a_configuration_error(measured: Project) -> None:
    measured.configure('[[tool.django-gates.coverage.apps]]\napp = "auth"\nline = 90\n')
    run = measured.gates()
    assert run.rc == 2
    assert "app 'auth' matches no measured file" in run.err


def test_settings_come_from_the_command_line_first(measured: Project) -> None:
    measured.write("src/site_conf/broken.py", "raise RuntimeError('no such database')\n")
    measured.configure('[[tool.django-gates.coverage.apps]]\napp = "orders"\nline = 50\n')
    run = measured.gates("--settings", "site_conf.broken")
    assert run.rc == 2
    assert "cannot set up Django with settings 'site_conf.broken'" in run.err
    assert "RuntimeError: no such database" in run.err
    assert measured.gates("--settings", "site_conf.settings").rc == 0


def test_without_any_settings_app_floors_explain_what_is_needed(measured: Project) -> None:
    measured.coverage_toml = (
        '[tool.coverage.run]\nbranch = true\nrelative_files = true\nsource = ["src"]\n'
    )
    measured.configure('[[tool.django-gates.coverage.apps]]\napp = "orders"\nline = 50\n')
    run = measured.gates()
    assert run.rc == 2
    assert "pass --settings MODULE" in run.err
    ok = measured.gates("--settings", "site_conf.settings", "--pythonpath", "src")
    assert ok.rc == 0, ok.err


def test_app_index_maps_files_to_the_innermost_project_app(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    apps = [
        App("billing", "billing", str(root / "billing")),
        App("refunds", "billing.refunds", str(root / "billing" / "refunds")),
        App("auth", "django.contrib.auth", "/venv/lib/site-packages/django/contrib/auth"),
        App("vendored", "vendored", str(root / ".venv" / "lib" / "site-packages" / "vendored")),
    ]
    index = AppIndex(apps, root)
    assert index.app_of(str(root / "billing" / "refunds" / "x.py")).label == "refunds"  # type: ignore[union-attr]
    assert index.app_of(str(root / "billing" / "x.py")).label == "billing"  # type: ignore[union-attr]
    assert index.app_of(str(root / "billingx" / "x.py")) is None
    assert [a.label for a in index.project_apps()] == ["billing", "refunds"]
