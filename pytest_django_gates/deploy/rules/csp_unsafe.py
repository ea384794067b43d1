"""DJG321: a Content Security Policy that lets any script run.

Judges the directive that governs scripts (``script-src``, else ``default-src``) of
the enforced policies (of the report-only ones when none is enforced): ``'unsafe-inline'``
is reported unless a nonce or hash sits beside it (CSP level 2+ browsers then ignore it);
``*`` and the bare schemes ``https:``, ``http:``, ``data:`` are reported unless
``'strict-dynamic'`` with a nonce or hash overrides them; no script directive at all
allows scripts from anywhere. ``default-src *`` is reported too. Configurations as in
:mod:`._csp`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule
from pytest_django_gates.deploy.rules._csp import NONCE, Policy, enforced, find_policies

_WILDCARDS = ("*", "https:", "http:", "data:")
_HASHES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")


def problems(policy: Policy) -> Iterator[tuple[str, str]]:
    """(directive, what it allows) for each way the policy lets scripts run."""
    directive = "script-src" if "script-src" in policy.directives else "default-src"
    sources = policy.directives.get(directive)
    if sources is None:
        yield "", "has no script-src or default-src, so scripts load from anywhere"
        return
    keyed = any(s == NONCE or s.lower().startswith(_HASHES) for s in sources)
    lowered = [s.lower() for s in sources]
    if "'unsafe-inline'" in lowered and not keyed:
        yield directive, f"allows 'unsafe-inline' in {directive}: any injected inline script runs"
    if not (keyed and "'strict-dynamic'" in lowered):
        wild = [s for s in sources if s in _WILDCARDS]
        if wild:
            yield directive, (f"allows {' '.join(wild)} in {directive}: scripts load from any host")
    if directive == "script-src" and "*" in policy.directives.get("default-src", ()):
        yield "default-src", "allows * in default-src: everything else loads from any host"


def check(ctx: SettingsContext) -> Iterator[Issue]:
    found = find_policies(ctx.settings)
    for policy in enforced(found) or list(found.policies):
        for directive, what in problems(policy):
            yield RULE.issue(f"{policy.describe()} {what}.", object=policy.setting(directive))


RULE = SettingsRule(
    code="DJG321",
    setting="SECURE_CSP",
    level="warning",
    title="Content Security Policy allows 'unsafe-inline' or any host for scripts",
    fix="script-src [CSP.SELF, CSP.NONCE] (Django 6.0+; django-csp: [SELF, NONCE]) with a "
    'nonce on each inline script you keep (nonce="{{ csp_nonce }}" with Django\'s csp '
    'context processor; nonce="{{ request.csp_nonce }}" with django-csp), or move them to '
    "static files; list the hosts scripts come from instead of *, https:",
    check=check,
)
