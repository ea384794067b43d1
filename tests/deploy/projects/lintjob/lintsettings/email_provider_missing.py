"""A provider's e-mail backend (django-anymail) in a job without django-anymail.

DJG317 judges EMAIL_BACKEND by its path: a provider's backend delivers. Nothing builds
or imports it, so nothing is missing.
"""

from .base import *  # noqa: F403

EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
ANYMAIL = {"AMAZON_SES_CLIENT_PARAMS": {"region_name": "eu-west-1"}}
