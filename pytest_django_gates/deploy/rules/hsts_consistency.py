"""DJG311: HSTS settings inconsistent with each other.

- ``SECURE_HSTS_INCLUDE_SUBDOMAINS`` or ``SECURE_HSTS_PRELOAD`` on while
  ``SECURE_HSTS_SECONDS`` is 0: no header is sent, the flags do nothing.
- ``SECURE_HSTS_PRELOAD`` on with a max-age under one year or without
  ``includeSubDomains``: the browsers' preload list rejects the site.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule

ONE_YEAR = 31536000


def check(ctx: SettingsContext) -> Iterator[Issue]:
    s = ctx.settings
    seconds = int(s.SECURE_HSTS_SECONDS or 0)
    flags = [
        name
        for name in ("SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD")
        if getattr(s, name, False)
    ]
    if seconds <= 0 and flags:
        yield RULE.issue(
            f"{' and '.join(flags)} {'is' if len(flags) == 1 else 'are'} on but "
            "SECURE_HSTS_SECONDS is 0: no Strict-Transport-Security header is sent at all.",
            object="SECURE_HSTS_SECONDS",
            related=tuple(flags),
        )
    elif s.SECURE_HSTS_PRELOAD and (seconds < ONE_YEAR or not s.SECURE_HSTS_INCLUDE_SUBDOMAINS):
        missing = []
        if seconds < ONE_YEAR:
            missing.append(f"max-age {seconds} < {ONE_YEAR}")
        if not s.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            missing.append("no includeSubDomains")
        yield RULE.issue(
            f"SECURE_HSTS_PRELOAD is on but the header cannot be preloaded ({', '.join(missing)}): "
            "the browsers' preload list rejects it.",
            object="SECURE_HSTS_PRELOAD",
            related=("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS"),
        )


RULE = SettingsRule(
    code="DJG311",
    setting="SECURE_HSTS_SECONDS",
    level="warning",
    title="HSTS settings inconsistent",
    fix="SECURE_HSTS_SECONDS = 31536000 with SECURE_HSTS_INCLUDE_SUBDOMAINS = True and "
    "SECURE_HSTS_PRELOAD = True (ramp the seconds up first), or turn the flags off",
    check=check,
)
