"""A django-redis cache in a job without django-redis, and a local-memory one beside it.

DJG313 judges both by their paths (the second is its finding). Django's own cache
checks build every cache (``caches[alias]``) and raise on the first: they could not look.
"""

from .base import *  # noqa: F403

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    },
    "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},  # DJG313
}
