"""DJG308: the admin at a regex ^admin/ under a language prefix."""

from .base import *  # noqa: F403

ROOT_URLCONF = "urls_admin_i18n_regex"
