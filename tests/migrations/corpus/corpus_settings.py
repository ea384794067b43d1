"""Settings of the migration test corpus: scenario apps with labelled migrations.

Every migration declares ``expected_codes``: the codes the gate must report for
it when the PostgreSQL rules apply. Environment:

* ``CORPUS_DATABASE_URL``: ``postgres://user@host:port/name`` (default: SQLite at
  ``CORPUS_SQLITE_PATH`` or in memory);
* ``CORPUS_NO_PG_APPS=1``: leave out ``djgc_pgops`` (django.contrib.postgres
  operations, which only run on PostgreSQL);
* ``CORPUS_BROKEN=1``: add ``djgc_broken``, whose migrations cannot be applied
  (that is what its rules say).
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

import django

SECRET_KEY = "corpus-not-a-secret"  # noqa: S105
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "djgc_columns",
    "djgc_tables",
    "djgc_types",
    "djgc_indexes",
    "djgc_constraints",
    "djgc_code",
    "djgc_ignores",
    "djgc_squash",
    "djgc_rawsql",
    "djgc_small",
]
if django.VERSION >= (5, 0):
    INSTALLED_APPS.append("djgc_dbdefault")
if os.environ.get("CORPUS_NO_PG_APPS") != "1":
    INSTALLED_APPS.append("djgc_pgops")
if os.environ.get("CORPUS_BROKEN") == "1":
    INSTALLED_APPS.append("djgc_broken")

_url = os.environ.get("CORPUS_DATABASE_URL")
if _url:
    _parts = urlparse(_url)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _parts.path.lstrip("/"),
            "USER": _parts.username or "",
            "HOST": _parts.hostname or "",
            "PORT": str(_parts.port or ""),
            "OPTIONS": {"application_name": os.environ.get("CORPUS_APPLICATION_NAME", "djg-corpus")},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("CORPUS_SQLITE_PATH", ":memory:"),
        }
    }
