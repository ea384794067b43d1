"""DJG322: the default storage is object storage, but one field has its own FileSystemStorage."""

from .uploads_object_storage import *  # noqa: F403
from .uploads_object_storage import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "avatars"]
