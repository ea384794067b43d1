"""The corpus's "production" settings, read (never imported) by backend = "auto"."""

from corpus_settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "corpus",
    }
}
