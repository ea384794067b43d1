"""The project's own static files storage, a django-storages subclass (a common layout)."""

from storages.backends.s3 import S3ManifestStaticStorage


class StaticStorage(S3ManifestStaticStorage):
    location = "static"
