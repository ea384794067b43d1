"""DJG309: no password validators (``AUTH_PASSWORD_VALIDATORS`` empty or not importable).

Only checked when ``django.contrib.auth`` is installed.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.apps import apps
    from django.utils.module_loading import import_string

    if not apps.is_installed("django.contrib.auth"):
        return
    validators = list(ctx.settings.AUTH_PASSWORD_VALIDATORS or [])
    if not validators:
        yield RULE.issue(
            "AUTH_PASSWORD_VALIDATORS is empty: users can choose '1234' or their own user name "
            "as a password."
        )
        return
    for i, entry in enumerate(validators):
        name = entry.get("NAME") if isinstance(entry, dict) else None
        try:
            import_string(str(name))
        except ImportError as exc:
            yield RULE.issue(
                f"AUTH_PASSWORD_VALIDATORS[{i}] names {name!r}, which cannot be imported "
                f"({exc}): every password change will crash.",
                level="error",
            )


RULE = SettingsRule(
    code="DJG309",
    setting="AUTH_PASSWORD_VALIDATORS",
    level="error",
    title="missing password validators",
    fix="enable Django's four validators: UserAttributeSimilarityValidator, "
    "MinimumLengthValidator, CommonPasswordValidator, NumericPasswordValidator",
    check=check,
)
