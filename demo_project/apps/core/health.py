"""Dependency checks behind the ``/health/`` endpoint used by load balancers."""

import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)


class HealthCheckError(Exception):
    """A dependency answered, but not with what it should have."""


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    if row is None or row[0] != 1:
        raise HealthCheckError("unexpected answer to SELECT 1")


def check_cache() -> None:
    key = f"health-check:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    try:
        if cache.get(key) != "ok":
            raise HealthCheckError("cache did not return the value just written")
    finally:
        cache.delete(key)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
}


def run_checks() -> dict[str, str]:
    """Run every check; map its name to ``"ok"`` or ``"error"`` (details go to the log)."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("Health check %r failed", name)
            results[name] = "error"
        else:
            results[name] = "ok"
    return results
