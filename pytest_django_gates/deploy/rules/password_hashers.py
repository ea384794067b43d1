"""DJG318: new passwords are hashed with a fast or unsalted hasher (MD5, SHA1, crypt)."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule

_WEAK = {
    "MD5PasswordHasher",
    "UnsaltedMD5PasswordHasher",
    "UnsaltedSHA1PasswordHasher",
    "SHA1PasswordHasher",
    "CryptPasswordHasher",
}


def check(ctx: SettingsContext) -> Iterator[Issue]:
    hashers = list(ctx.settings.PASSWORD_HASHERS or [])
    if hashers and str(hashers[0]).rsplit(".", 1)[-1] in _WEAK:
        yield RULE.issue(
            f"PASSWORD_HASHERS[0] is {hashers[0]}: new passwords are hashed with a fast or "
            "unsalted algorithm and crack offline in seconds (test settings leaking into "
            "production?)."
        )


RULE = SettingsRule(
    code="DJG318",
    setting="PASSWORD_HASHERS",
    level="error",
    title="weak password hasher first",
    fix="remove PASSWORD_HASHERS from the production settings (Django's default is PBKDF2) "
    "or put Argon2PasswordHasher first",
    check=check,
)
