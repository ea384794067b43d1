"""DJG309: a validator that cannot be imported."""

from .base import *  # noqa: F403

AUTH_PASSWORD_VALIDATORS = [{"NAME": "accounts.validators.NoSuchValidator"}]
