"""Fixtures. They work with or without ``--django-gates``: using one is opting in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_django_gates.migrations.fixture import MigrationSafety
    from pytest_django_gates.queries.budget import QueryBudget


@pytest.fixture
def query_budget(request: pytest.FixtureRequest) -> QueryBudget:
    """``with query_budget(3): ...`` — the block may run at most 3 queries.

    ``with query_budget(0, using="replica") as block:`` narrows counting to one
    alias; ``block.queries`` / ``block.count`` show what ran. SAVEPOINT,
    RELEASE and transaction statements are never counted.
    """
    from pytest_django_gates.queries.budget import QueryBudget

    return QueryBudget(request.config.rootpath)


@pytest.fixture
def migration_safety(request: pytest.FixtureRequest) -> MigrationSafety:
    """``migration_safety("shop", "0007")`` -> the findings of that one migration."""
    from pytest_django_gates.migrations.fixture import migration_safety_fixture
    from pytest_django_gates.plugin import GATES_CONFIG

    return migration_safety_fixture(
        request.config.stash.get(GATES_CONFIG, None), request.config.rootpath
    )
