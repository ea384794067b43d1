"""SECRET_KEY / ALLOWED_HOSTS from other variable names, through a helper variable."""

import os

from .base import *  # noqa: F403

_HOSTS = os.getenv("SHOP_HOSTS", "")
SECRET_KEY = os.environ["SHOP_SECRET"]
ALLOWED_HOSTS = [h for h in _HOSTS.split(",") if h]
