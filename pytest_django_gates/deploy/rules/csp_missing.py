"""DJG319: no Content Security Policy at all, enforced or report-only.

Recognises Django 6.0+'s ``ContentSecurityPolicyMiddleware`` with ``SECURE_CSP`` /
``SECURE_CSP_REPORT_ONLY`` and django-csp's ``CSPMiddleware`` with its 4.x or 3.x
settings (see :mod:`._csp`). A policy set some other way (your own middleware, the
reverse proxy) is not seen: allow the rule with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule
from pytest_django_gates.deploy.rules._csp import (
    DJANGO_CSP_MIDDLEWARE,
    NATIVE_MIDDLEWARE,
    find_policies,
)

NATIVE_FIX = (
    f'add "{NATIVE_MIDDLEWARE}" to MIDDLEWARE and set SECURE_CSP = '
    '{"default-src": [CSP.SELF], "script-src": [CSP.SELF, CSP.NONCE], '
    '"object-src": [CSP.NONE], "base-uri": [CSP.SELF], "frame-ancestors": [CSP.NONE]} '
    '(from django.utils.csp import CSP) and "django.template.context_processors.csp" in '
    "TEMPLATES' context_processors for {{ csp_nonce }}; start with SECURE_CSP_REPORT_ONLY if unsure"
)
DJANGO_CSP_FIX = (
    f'pip install django-csp (4.x), add "{DJANGO_CSP_MIDDLEWARE}" to MIDDLEWARE and set '
    'CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [SELF], '
    '"script-src": [SELF, NONCE], "object-src": [NONE], "base-uri": [SELF], '
    '"frame-ancestors": [NONE]}} (from csp.constants import NONCE, NONE, SELF)'
)


def check(ctx: SettingsContext) -> Iterator[Issue]:
    import django

    found = find_policies(ctx.settings)
    if found.policies:
        return
    why = "".join(f"; {note}" for note in found.notes)
    yield RULE.issue(
        "no Content Security Policy: neither Django's ContentSecurityPolicyMiddleware with "
        "SECURE_CSP nor django-csp's CSPMiddleware with its settings is configured, so an "
        f"injected <script> runs with the page's full rights{why}.",
        hint=NATIVE_FIX if django.VERSION >= (6, 0) else DJANGO_CSP_FIX,
        related=found.ignored,
    )


RULE = SettingsRule(
    code="DJG319",
    setting="MIDDLEWARE",
    level="warning",
    title="no Content Security Policy",
    fix=f"Django 6.0+: {NATIVE_FIX}. Older Django: {DJANGO_CSP_FIX}",
    check=check,
)
