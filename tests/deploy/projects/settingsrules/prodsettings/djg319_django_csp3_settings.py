"""DJG319 under django-csp 4: the django-csp 3 CSP_* settings, which 4.x ignores."""

from .csp_django_csp4 import *  # noqa: F403

CONTENT_SECURITY_POLICY = None
CSP_DEFAULT_SRC = ("'self'",)
CSP_SCRIPT_SRC = ("'self'",)
