"""DJG324: nothing serves the static files in production.

Django serves static files only with ``DEBUG`` on. Satisfied by any of: WhiteNoise's
middleware (``whitenoise.middleware.WhiteNoiseMiddleware``, or a subclass) in
``MIDDLEWARE``; an absolute ``STATIC_URL`` (``https://…``, ``http://…`` or
``//host/…``: a CDN or another host); a ``staticfiles`` storage from django-storages
(``storages.backends.…``: S3, Google Cloud, Azure), which uploads them to object
storage. Only checked when ``django.contrib.staticfiles`` is installed. Hashed file
names are DJG307's business. A reverse proxy serving ``STATIC_ROOT`` under a relative
``STATIC_URL`` is not seen: allow the rule with that reason.

Nothing is built: the storage is judged by its dotted path. A WhiteNoise subclass is
looked for by importing the other ``MIDDLEWARE`` entries (never instantiating them);
one that cannot be imported here means the rule could not look (``DJG393``).
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import (
    Issue,
    SettingsContext,
    SettingsRule,
    has_middleware,
    storage_backend,
)

WHITENOISE = "whitenoise.middleware.WhiteNoiseMiddleware"


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.apps import apps

    if not apps.is_installed("django.contrib.staticfiles"):
        return
    url = str(ctx.settings.STATIC_URL or "")
    if url.lower().startswith(("https://", "http://", "//")):
        return
    backend = storage_backend("staticfiles")
    if backend.startswith("storages.backends."):
        return
    if has_middleware(ctx.settings, WHITENOISE):
        return
    yield RULE.issue(
        f"STATIC_URL is {url!r} on this host, no WhiteNoise middleware is in MIDDLEWARE and "
        "no CDN or object storage serves static files: with DEBUG off Django serves none, "
        "so pages load without their CSS and JavaScript."
    )


RULE = SettingsRule(
    code="DJG324",
    setting="STATIC_URL",
    level="warning",
    title="static files served by nothing (no WhiteNoise, no CDN)",
    fix=f'add "{WHITENOISE}" to MIDDLEWARE right after SecurityMiddleware, or serve them from '
    'a CDN: STATIC_URL = "https://cdn.example.com/static/" (or a django-storages '
    "staticfiles storage); a proxy serving STATIC_ROOT itself: allow DJG324 with that reason",
    check=check,
)
