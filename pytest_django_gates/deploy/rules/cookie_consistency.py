"""DJG312: cookie and origin settings inconsistent with HTTPS.

- ``*_COOKIE_SAMESITE = "None"`` without ``*_COOKIE_SECURE = True`` (session,
  CSRF, language cookies): browsers drop the cookie, so logins or CSRF fail.
- An HTTPS-only site (``SECURE_SSL_REDIRECT`` or HSTS on) that trusts
  ``http://`` origins in ``CSRF_TRUSTED_ORIGINS``.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule


def check(ctx: SettingsContext) -> Iterator[Issue]:
    s = ctx.settings
    for prefix in ("SESSION", "CSRF", "LANGUAGE"):
        samesite = getattr(s, f"{prefix}_COOKIE_SAMESITE", None)
        secure = getattr(s, f"{prefix}_COOKIE_SECURE", False)
        if isinstance(samesite, str) and samesite.lower() == "none" and not secure:
            yield RULE.issue(
                f"{prefix}_COOKIE_SAMESITE is 'None' but {prefix}_COOKIE_SECURE is off: "
                "browsers reject SameSite=None cookies without Secure, so the cookie is dropped.",
                object=f"{prefix}_COOKIE_SAMESITE",
                level="error",
                hint=f"set {prefix}_COOKIE_SECURE = True (or SameSite 'Lax')",
                related=(f"{prefix}_COOKIE_SECURE",),
            )
    https_only = bool(s.SECURE_SSL_REDIRECT) or bool(s.SECURE_HSTS_SECONDS)
    plain = [o for o in (s.CSRF_TRUSTED_ORIGINS or []) if str(o).lower().startswith("http://")]
    if https_only and plain:
        yield RULE.issue(
            f"the site is HTTPS-only but CSRF_TRUSTED_ORIGINS trusts plain-HTTP origins "
            f"({', '.join(map(str, plain))}): forms posted from them are accepted.",
            object="CSRF_TRUSTED_ORIGINS",
            hint="list only https:// origins",
            related=("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"),
        )


RULE = SettingsRule(
    code="DJG312",
    setting="CSRF_TRUSTED_ORIGINS",
    level="warning",
    title="secure cookies / trusted origins inconsistent with HTTPS",
    fix="SameSite=None cookies need *_COOKIE_SECURE = True; an HTTPS-only site trusts only "
    "https:// origins",
    check=check,
)
