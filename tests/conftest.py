"""Shared fixtures for the project's own test suite."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.helpers import NO_RANDOMLY

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo_project"
# Sample projects and corpora are run by the tests in subprocesses, never collected here.
collect_ignore_glob = ["*_project", "*/corpus", "*/projects", "*/fixtures_projects"]

# Hypothesis profiles of the generated hostile-input tests (tests/robustness). "ci", the
# default, keeps them bounded (under a minute with -n 2) and reproducible (derandomize: the
# same examples every run, so a report names an input anyone can replay); "long"
# (pytest --hypothesis-profile=long) tries many more. max_examples is the count of each
# test that runs a real process per example; the in-process parser tests run more
# (tests/robustness/support.py scales them).
_PROFILE = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", max_examples=50, derandomize=True, **_PROFILE)
settings.register_profile("long", max_examples=2000, derandomize=False, **_PROFILE)
settings.load_profile("ci")

PG_HOST = os.environ.get("DJANGO_GATES_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("DJANGO_GATES_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("DJANGO_GATES_TEST_PG_USER", "postgres")


def _postgres_reachable() -> str | None:
    """None when a server answers, else why not."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a test dependency
        return f"psycopg is not installed: {exc}"
    try:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=3
        ):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL at {PG_HOST}:{PG_PORT}: {exc}".strip()


@pytest.fixture(scope="session")
def postgres_server() -> dict[str, object]:
    """Connection parameters of the real PostgreSQL server.

    In CI (``CI`` set) an unreachable server is a failure; locally the test skips.
    """
    problem = _postgres_reachable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {problem}")
        pytest.skip(problem)
    return {"host": PG_HOST, "port": PG_PORT, "user": PG_USER}


@pytest.fixture
def postgres_db(postgres_server: dict[str, object]) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; yields its DATABASE_URL."""
    import psycopg

    name = f"djg_test_{uuid.uuid4().hex[:12]}"
    params = dict(postgres_server, dbname="postgres", autocommit=True)
    with psycopg.connect(**params) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(**params) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of demo_project that a test may change."""
    dest = tmp_path / "demo_project"
    shutil.copytree(
        DEMO,
        dest,
        ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3", ".pytest_cache", "staticfiles"),
    )
    return dest


@pytest.fixture(autouse=True)
def _inner_runs_keep_their_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pytest a test starts (a subprocess with this environment, a pytester run)
    keeps its order: pytest-randomly, a test dependency, would shuffle it."""
    monkeypatch.setenv("PYTEST_ADDOPTS", NO_RANDOMLY)


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytest's ``pytester``, whose runs keep their order too (it drops ``PYTEST_ADDOPTS``)."""
    monkeypatch.setenv("PYTEST_ADDOPTS", NO_RANDOMLY)
    return pytester


@pytest.fixture(autouse=True)
def _no_ci_change_base(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's own CI run (a pull request) must not give the gates under test a base."""
    for name in ("GITHUB_BASE_REF", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(name, raising=False)
