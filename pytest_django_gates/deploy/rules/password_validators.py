"""DJG309: no password validators (``AUTH_PASSWORD_VALIDATORS`` empty or not importable).

Only checked when ``django.contrib.auth`` is installed. Validators are imported, never
instantiated: a path that names nothing in an installed package is this rule's error;
a validator that cannot be imported here for another reason (its package not installed
where the gate runs) means the rule could not look (``DJG393``).
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import (
    CannotLook,
    Issue,
    SettingsContext,
    SettingsRule,
    load,
)


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.apps import apps

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
            load(str(name), what=f"AUTH_PASSWORD_VALIDATORS[{i}]", setting=RULE.setting)
        except CannotLook as exc:
            if not exc.wrong_path:
                raise  # not installed here: DJG393 says so
            yield RULE.issue(
                f"AUTH_PASSWORD_VALIDATORS[{i}] names {name!r}, which cannot be imported "
                f"({exc.error}): every password change will crash.",
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
