"""The registry of production rules that Django's own checks do not cover.

Each rule is one module here defining ``RULE`` (see :mod:`._base`). Settings
rules run inside the probe subprocess against the loaded production settings;
source rules run in the gate's process over the settings source and the
project's own code. Codes are stable: a retired rule keeps its number unused.
"""

from __future__ import annotations

import importlib

from pytest_django_gates.deploy.rules._base import (
    PROBE_OPTIONS,
    CannotLook,
    Issue,
    Level,
    Rule,
    SettingsContext,
    SettingsRule,
    SourceContext,
    SourceRule,
)

__all__ = [
    "PROBE_OPTIONS",
    "RULE_MODULES",
    "CannotLook",
    "Issue",
    "Level",
    "Rule",
    "SettingsContext",
    "SettingsRule",
    "SourceContext",
    "SourceRule",
    "all_rules",
    "settings_rules",
    "source_rules",
]

# In code order.
RULE_MODULES: tuple[str, ...] = (
    "secret_key_literal",  # DJG301
    "allowed_hosts_wildcard",  # DJG302
    "auth_user_model_unset",  # DJG303
    "auth_user_import",  # DJG304
    "use_tz_off",  # DJG305
    "persistent_connections",  # DJG306
    "static_manifest",  # DJG307
    "admin_url",  # DJG308
    "password_validators",  # DJG309
    "proxy_ssl_header",  # DJG310
    "hsts_consistency",  # DJG311
    "cookie_consistency",  # DJG312
    "cache_backend",  # DJG313
    "logging_stdout",  # DJG314
    "debug_can_be_true",  # DJG315
    "raw_sql",  # DJG316
    "email_backend",  # DJG317
    "password_hashers",  # DJG318
    "csp_missing",  # DJG319
    "csp_report_only",  # DJG320
    "csp_unsafe",  # DJG321
    "uploads_local_disk",  # DJG322
    "health_endpoint",  # DJG323
    "static_serving",  # DJG324
)


def all_rules() -> list[Rule]:
    rules: list[Rule] = []
    for name in RULE_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        rule = module.RULE
        if not isinstance(rule, Rule):  # pragma: no cover - programming error
            raise AssertionError(f"{module.__name__}.RULE is not a Rule")
        rules.append(rule)
    return rules


def settings_rules() -> list[SettingsRule]:
    return [r for r in all_rules() if isinstance(r, SettingsRule)]


def source_rules() -> list[SourceRule]:
    return [r for r in all_rules() if isinstance(r, SourceRule)]
