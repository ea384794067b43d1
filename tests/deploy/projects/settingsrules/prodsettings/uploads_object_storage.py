"""Uploads through an object storage (not FileSystemStorage): clean."""

from .djg322_uploads_default import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "documents.storage.BucketStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
