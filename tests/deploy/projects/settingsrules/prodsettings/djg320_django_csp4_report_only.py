"""DJG320 (django-csp 4): only CONTENT_SECURITY_POLICY_REPORT_ONLY."""

from csp.constants import SELF

from .csp_django_csp4 import *  # noqa: F403

CONTENT_SECURITY_POLICY = None
CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": [SELF]}}
