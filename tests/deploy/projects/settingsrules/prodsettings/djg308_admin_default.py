"""DJG308: the admin at admin/."""

from .base import *  # noqa: F403

ROOT_URLCONF = "urls_admin_default"
