"""Uploads and static files on S3 through django-storages, in a job without boto3.

``storages.backends.s3.S3Storage`` is judged by its path (it is object storage) and
never built: building it is what crashed DJG322. The staticfiles storage is the
project's own subclass of ``S3ManifestStaticStorage``: DJG307 must import it to see
whether it hashes file names, and that import fails here, so DJG307 could not look.
"""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "media"]
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "lintjob-media"},
    },
    "staticfiles": {"BACKEND": "media.storage.StaticStorage"},
}
