"""DJG323: the URL configuration has no health-check route.

Each path of the ``deploy.health_paths`` option (``/health/``, ``/healthz/``, … by
default) is resolved with :func:`django.urls.resolve` against the production
``ROOT_URLCONF``; the rule is satisfied when one resolves to a view that is not a
catch-all (a view that also answers a path no project has). An empty option turns
the rule off. A health check answered by a middleware or the proxy is not seen:
allow the rule with that reason.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from pytest_django_gates.config import ConfigError
from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule

OPTION = "deploy.health_paths"


def validate_paths(value: list[str], where: str) -> list[str]:
    """``deploy.health_paths``: URL paths, each starting with ``/``."""
    bad = [p for p in value if not p.startswith("/")]
    if bad:
        raise ConfigError(
            f"{where}: every health path starts with '/' (a URL path such as \"/health/\"), "
            f"got {', '.join(map(repr, bad))}"
        )
    return value


def _view(path: str) -> Any:
    from django.urls import Resolver404, resolve

    try:
        return resolve(path).func
    except Resolver404:
        return None


def _same(a: Any, b: Any) -> bool:
    return a is b or (
        getattr(a, "view_class", None) is not None
        and getattr(a, "view_class", None) is getattr(b, "view_class", None)
    )


def check(ctx: SettingsContext) -> Iterator[Issue]:
    if OPTION in ctx.options:
        paths = [str(p) for p in ctx.options[OPTION]]
    else:
        from pytest_django_gates.options import OPTIONS

        paths = list(OPTIONS[OPTION].default)
    if not paths:
        return
    catch_all = _view(f"/djg-no-such-page-{secrets.token_hex(8)}/")
    for path in paths:
        view = _view(path)
        if view is not None and (catch_all is None or not _same(view, catch_all)):
            return
    shown = ", ".join(paths[:4]) + (", …" if len(paths) > 4 else "")
    how = " (but to a catch-all view, which answers any path)" if catch_all is not None else ""
    yield RULE.issue(
        f"no health-check route: none of {shown} resolves in {ctx.settings.ROOT_URLCONF}{how}, "
        "so the load balancer or orchestrator cannot tell a broken instance from a healthy one.",
    )


RULE = SettingsRule(
    code="DJG323",
    setting="ROOT_URLCONF",
    level="warning",
    title="no health-check endpoint",
    fix='add path("health/", health_view) whose view checks the database (SELECT 1) and the '
    "cache (a set and get) and answers 200, or 503 when either fails (django-health-check "
    "does this); another path: list it in deploy.health_paths",
    check=check,
)
