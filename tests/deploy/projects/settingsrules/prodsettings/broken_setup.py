"""Bad input: imports, but an installed app does not exist."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "no_such_app_anywhere"]
