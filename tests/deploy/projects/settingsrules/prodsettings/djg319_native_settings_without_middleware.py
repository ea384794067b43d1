"""DJG319: SECURE_CSP is set, but its middleware is not in MIDDLEWARE (nothing is sent)."""

from django.utils.csp import CSP

from .djg319_no_csp import *  # noqa: F403

SECURE_CSP = {"default-src": [CSP.SELF]}
