"""Fixtures of the coverage gate's tests: small generated projects, really measured."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates import cli

# Variables that would change what the gate does (CI bases, settings) or that
# make a child process start the outer test run's coverage as well.
_SCRUB = (
    "GITHUB_BASE_REF",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "DJANGO_SETTINGS_MODULE",
    "COVERAGE_PROCESS_START",
    "COVERAGE_PROCESS_CONFIG",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SCRUB:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("DJANGO_GATES_"):
            monkeypatch.delenv(name, raising=False)


@dataclass
class Run:
    rc: int
    out: str
    err: str
    report: dict[str, Any] | None

    @property
    def gate(self) -> dict[str, Any]:
        assert self.report is not None, self.err
        gates = self.report["gates"]
        assert len(gates) == 1
        result: dict[str, Any] = gates[0]
        return result

    def codes(self) -> list[str]:
        return [f["code"] for f in self.gate["findings"]]

    def finding(self, code: str) -> dict[str, Any]:
        found = [f for f in self.gate["findings"] if f["code"] == code]
        assert len(found) == 1, self.gate
        return found[0]


GATES_TABLE = '[tool.django-gates]\ngates = ["coverage"]\n'


class Project:
    """A small project directory with a pyproject.toml, measured with coverage.py."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str] | None = None) -> None:
        self.root = root
        self._capsys = capsys
        self.coverage_toml = '[tool.coverage.run]\nbranch = true\nsource = ["shop"]\n'
        self.gates_toml = ""

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def configure(self, gates_toml: str = "", coverage_toml: str | None = None) -> None:
        if coverage_toml is not None:
            self.coverage_toml = coverage_toml
        self.gates_toml = textwrap.dedent(gates_toml)
        self.write(
            "pyproject.toml",
            self.coverage_toml + "\n" + GATES_TABLE + "\n" + self.gates_toml,
        )

    def measure(self, script: str = "run.py", *, data_file: str | None = None) -> None:
        """Run ``script`` under ``coverage run`` in a real subprocess."""
        args = [sys.executable, "-m", "coverage", "run"]
        if data_file:
            args.append(f"--data-file={data_file}")
        subprocess.run([*args, script], cwd=self.root, check=True, env=child_env())

    def gates(self, *args: str) -> Run:
        """``django-gates coverage ARGS`` in-process, from the project directory."""
        report = self.root / ".gates-report.json"
        report.unlink(missing_ok=True)
        assert self._capsys is not None
        self._capsys.readouterr()
        before = os.getcwd()
        os.chdir(self.root)  # like a user in the project directory
        try:
            rc = cli.main(["coverage", "--report", str(report), *args])
        finally:
            os.chdir(before)
        captured = self._capsys.readouterr()
        data = json.loads(report.read_text()) if report.exists() else None
        return Run(rc, captured.out, captured.err, data)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update(extra)
    return env


SHOP_ORDERS = """
def total(items):
    result = 0
    for price, qty in items:
        result += price * qty
    return result


def discount(amount, code):
    if code == "HALF":
        return amount / 2
    if code == "TENTH":
        return amount * 0.9
    return amount


def refund(order):
    if order:
        return -order
    return 0
"""

SHOP_RUN = """
from shop.orders import discount, total

total([(2, 3)])
discount(10, "HALF")
discount(10, "OTHER")
"""


@pytest.fixture
def shop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Project:
    """``shop/orders.py``: 14 statements, 10 covered by run.py (refund and TENTH missed)."""
    project = Project(tmp_path / "shop_project", capsys)
    project.write("shop/__init__.py", "")
    project.write("shop/orders.py", SHOP_ORDERS)
    project.write("run.py", SHOP_RUN)
    project.configure()
    return project


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env=child_env(
            GIT_AUTHOR_NAME="Dev",
            GIT_AUTHOR_EMAIL="dev@example.com",
            GIT_COMMITTER_NAME="Dev",
            GIT_COMMITTER_EMAIL="dev@example.com",
        ),
    )
    return proc.stdout.strip()


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def lines_of(text: str, needle: str) -> Sequence[int]:
    return [i for i, line in enumerate(text.splitlines(), 1) if needle in line]


DJANGO_SETTINGS = """
SECRET_KEY = "tests-only"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "orders",
    "billing",
    "billing.refunds",
]
DATABASES = {}
USE_TZ = True
"""

ORDERS_LOGIC = """
def place(items):
    if not items:
        raise ValueError("empty order")
    return sum(items)


def cancel(order):
    if order is None:
        return False
    return True


def archive(order):
    kept = [order]
    return kept
"""

BILLING_LOGIC = """
def invoice(amount):
    if amount < 0:
        return None
    return round(amount * 1.2, 2)
"""

REFUNDS_LOGIC = """
def refund(amount):
    return -amount
"""

DJANGO_RUN = """
import django

django.setup()

from billing.logic import invoice
from billing.refunds.logic import refund
from orders.logic import cancel, place

place([1, 2])
cancel(None)
cancel(1)
invoice(10)
invoice(-1)
refund(1)
"""


def _app_config(name: str, label: str) -> str:
    cls = label.title().replace("_", "") + "Config"
    return (
        "from django.apps import AppConfig\n\n\n"
        f"class {cls}(AppConfig):\n    name = {name!r}\n    label = {label!r}\n"
    )


DJANGO_COVERAGE_TOML = (
    '[tool.coverage.run]\nbranch = true\nrelative_files = true\nsource = ["src"]\n'
    'omit = ["*/settings.py", "*/apps.py"]\n\n'
    '[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = "site_conf.settings"\n'
    'pythonpath = ["src"]\n'
)
LESS_ORDERS = DJANGO_RUN.replace("cancel(None)\n", "")  # orders loses one line: 7/11
MORE_ORDERS = DJANGO_RUN + "from orders.logic import archive\narchive(1)\n"  # 10/11


@pytest.fixture(scope="session")
def django_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Django project, measured once per session (relative_files: the data can be copied).

    ``variants/{base,less,more}.coverage`` hold the data of ``DJANGO_RUN``,
    ``LESS_ORDERS`` and ``MORE_ORDERS``; ``.coverage`` is the base one.
    """
    project = Project(tmp_path_factory.mktemp("django") / "site")
    project.coverage_toml = DJANGO_COVERAGE_TOML
    project.write("src/site_conf/__init__.py", "")
    project.write("src/site_conf/settings.py", DJANGO_SETTINGS)
    for name, label, logic in (
        ("orders", "orders", ORDERS_LOGIC),
        ("billing", "billing", BILLING_LOGIC),
        ("billing.refunds", "refunds", REFUNDS_LOGIC),
    ):
        folder = "src/" + name.replace(".", "/")
        project.write(f"{folder}/__init__.py", "")
        project.write(f"{folder}/apps.py", _app_config(name, label))
        project.write(f"{folder}/logic.py", logic)
    project.configure()
    for variant, script in (("less", LESS_ORDERS), ("more", MORE_ORDERS), ("base", DJANGO_RUN)):
        project.write("run.py", script)
        measure_django(project, f"variants/{variant}.coverage")
    shutil.copy(project.root / "variants" / "base.coverage", project.root / ".coverage")
    return project.root


@pytest.fixture
def django_project(
    django_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Project:
    """Apps ``orders``, ``billing`` and ``refunds`` (nested in billing) under ``src/``, measured.

    ``orders/logic.py`` has 3 of its 11 statements uncovered (the ValueError and
    ``archive``'s body); billing and refunds are fully covered.
    """
    root = tmp_path / "site"
    shutil.copytree(django_template, root)
    project = Project(root, capsys)
    project.coverage_toml = DJANGO_COVERAGE_TOML
    return project


def use_data(project: Project, variant: str) -> None:
    """Make ``.coverage`` the data of one of the pre-measured ``run.py`` variants."""
    shutil.copy(project.root / "variants" / f"{variant}.coverage", project.root / ".coverage")


def measure_django(project: Project, data_file: str = ".coverage") -> None:
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--data-file={data_file}", "run.py"],
        cwd=project.root,
        check=True,
        env=child_env(
            DJANGO_SETTINGS_MODULE="site_conf.settings",
            PYTHONPATH=str(project.root / "src"),
        ),
    )
