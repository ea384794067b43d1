"""DJG313: a local-memory or dummy cache in production.

Every ``CACHES`` alias whose backend is (a subclass of) ``LocMemCache`` or
``DummyCache`` is reported.

Caches are judged by their configured ``BACKEND`` dotted path and never built
(building one imports its client library: redis, pymemcache …). Django's own
backends and django-redis' are known by their paths; any other class is imported,
not instantiated, to see what it subclasses. A path that names nothing in an
installed package is left to Django's own cache checks, which fail on it; a class
that cannot be imported here for another reason means the rule could not look
(``DJG393``).
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import (
    CannotLook,
    Issue,
    SettingsContext,
    SettingsRule,
    load,
)

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
DUMMY = "django.core.cache.backends.dummy.DummyCache"
# Neither local-memory nor dummy, known by their paths: Django's other backends (redis,
# memcached, database, file) and django-redis, whose module needs its client library.
_SHARED_PREFIXES = ("django.core.cache.backends.", "django_redis.")

_LOCMEM_WHY = (
    "keeps a separate cache in every worker process: invalidation, rate limits "
    "and cached sessions do not work across workers"
)
_DUMMY_WHY = "caches nothing: every cache read misses and cached sessions are lost"


def _why(alias: str, backend: str) -> str | None:
    from django.core.cache.backends.dummy import DummyCache
    from django.core.cache.backends.locmem import LocMemCache

    if backend == LOCMEM:
        return _LOCMEM_WHY
    if backend == DUMMY:
        return _DUMMY_WHY
    if backend.startswith(_SHARED_PREFIXES):
        return None
    try:
        cache_class = load(backend, what=f"the backend of CACHES[{alias!r}]", setting="CACHES")
    except CannotLook as exc:
        if exc.wrong_path:
            return None  # Django's own cache checks fail on it
        raise
    if isinstance(cache_class, type) and issubclass(cache_class, LocMemCache):
        return _LOCMEM_WHY
    if isinstance(cache_class, type) and issubclass(cache_class, DummyCache):
        return _DUMMY_WHY
    return None


def check(ctx: SettingsContext) -> Iterator[Issue]:
    for alias, config in (ctx.settings.CACHES or {}).items():
        backend = str(config.get("BACKEND") or "")
        why = _why(alias, backend)
        if why:
            yield RULE.issue(f"CACHES[{alias!r}] uses {backend}, which {why}.")


RULE = SettingsRule(
    code="DJG313",
    setting="CACHES",
    level="warning",
    title="local-memory or dummy cache in production",
    fix='use a shared cache: "django.core.cache.backends.redis.RedisCache" (Django 4.0+) '
    "or Memcached, with LOCATION from the environment",
    check=check,
)
