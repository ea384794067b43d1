"""DJG320 (Django 6.0+): only a report-only policy."""

from django.utils.csp import CSP

from .csp_native import *  # noqa: F403

SECURE_CSP = {}
SECURE_CSP_REPORT_ONLY = {"default-src": [CSP.SELF], "report-uri": "/csp-report/"}
