import os
from urllib.parse import urlparse

SECRET_KEY = "indexes-project-only"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "catalog"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "catalog.urls"

_url = os.environ.get("INDEXES_DATABASE_URL")
if _url:
    _pg = urlparse(_url)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _pg.path.lstrip("/"),
            "USER": _pg.username or "",
            "HOST": _pg.hostname or "",
            "PORT": str(_pg.port or ""),
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
