"""A settings module outside the project directory (on PYTHONPATH), like a shared package."""

from prodsettings.base import *  # noqa: F403

USE_TZ = False
