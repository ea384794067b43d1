"""DJG320: a report-only Content Security Policy and no enforced one.

Report-only is the right first step (browsers report what the policy would block),
not a place to stay: nothing is blocked. Configurations as in :mod:`._csp`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule
from pytest_django_gates.deploy.rules._csp import enforced, find_policies


def check(ctx: SettingsContext) -> Iterator[Issue]:
    found = find_policies(ctx.settings)
    if not found.policies or enforced(found):
        return
    for policy in found.policies:
        yield RULE.issue(
            f"{policy.describe()} is the only Content Security Policy: browsers report "
            "what it would block and block nothing.",
            object=policy.setting(),
        )


RULE = SettingsRule(
    code="DJG320",
    setting="SECURE_CSP_REPORT_ONLY",
    level="warning",
    title="report-only Content Security Policy, none enforced",
    fix="once the reports are clean, enforce the policy: move it to SECURE_CSP (Django 6.0+) "
    "or CONTENT_SECURITY_POLICY (django-csp 4; CSP_REPORT_ONLY = False in django-csp 3), "
    "keeping a stricter report-only one beside it if you are tightening further",
    check=check,
)
