"""DJG313: a local-memory or dummy cache in production.

Every ``CACHES`` alias whose backend is (a subclass of) ``LocMemCache`` or
``DummyCache`` is reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.core.cache.backends.dummy import DummyCache
    from django.core.cache.backends.locmem import LocMemCache
    from django.utils.module_loading import import_string

    for alias, config in (ctx.settings.CACHES or {}).items():
        backend = str(config.get("BACKEND") or "")
        try:
            cache_class = import_string(backend)
        except ImportError:
            continue  # Django's own cache checks fail on it
        if not isinstance(cache_class, type):
            continue
        if issubclass(cache_class, LocMemCache):
            why = (
                "keeps a separate cache in every worker process: invalidation, rate limits "
                "and cached sessions do not work across workers"
            )
        elif issubclass(cache_class, DummyCache):
            why = "caches nothing: every cache read misses and cached sessions are lost"
        else:
            continue
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
