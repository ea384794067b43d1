"""DJG307: a staticfiles storage whose path names nothing in an installed package (a typo).

A package that is not installed where the gate runs is not this: the rule could not look
(DJG393, tests/deploy/test_deploy_missing_extras.py).
"""

from .base import *  # noqa: F403
from .base import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFileStorage"},
}
