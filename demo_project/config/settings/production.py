"""Production settings. Everything secret or deployment-specific comes from the environment.

Required:  DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS (comma-separated), DATABASE_URL.
Optional:  REDIS_URL, DJANGO_ADMIN_URL, DJANGO_LOG_LEVEL.

Verify with:  python manage.py check --deploy --settings=config.settings.production
"""

import os

from .base import *  # noqa: F403
from .base import DATABASES, MIDDLEWARE, STORAGES

DEBUG = False

# Fail loudly at start-up if the key is missing.
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]

# An empty list (variable unset) rejects every request: safe by default.
ALLOWED_HOSTS = [
    host.strip() for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if host.strip()
]
CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS]

# HTTPS everywhere. TLS terminates at the reverse proxy, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
# Load balancers probe the health check over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = 31536000  # one year
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Persistent connections, verified before reuse.
DATABASES = {
    **DATABASES,
    "default": {**DATABASES["default"], "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True},
}

# Shared cache for every worker; sessions read through it.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": "demo",
        "TIMEOUT": 300,
    },
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# WhiteNoise serves hashed, compressed static files straight from the app server.
MIDDLEWARE = [
    *MIDDLEWARE[:1],  # SecurityMiddleware stays first
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[1:],
]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
