"""Every production rule against a real settings module that breaks it, and one that does not.

Each module of ``projects/settingsrules/prodsettings`` star-imports clean,
production-grade settings and breaks one rule; the gate must report exactly the
expected findings, at the file and line that set the value.
"""

from __future__ import annotations

import django
import pytest

from pytest_django_gates.deploy.rules import all_rules
from tests.deploy.deploy_support import (
    SETTINGSRULES,
    codes,
    first_line,
    line_of,
    located,
    run_settings,
)
from tests.deploy.test_deploy_production_rules import PRODUCTION_RULE_CODES

PKG = SETTINGSRULES / "prodsettings"

# module -> [(code, object, file relative to the project, text on the expected line or None)]
CASES: dict[str, list[tuple[str, str, str, str | None]]] = {
    "djg301_secret_literal": [
        ("DJG301", "SECRET_KEY", "prodsettings/djg301_secret_literal.py", "SECRET_KEY =")
    ],
    "djg301_secret_fallback": [
        ("DJG301", "SECRET_KEY", "prodsettings/djg301_secret_fallback.py", "SECRET_KEY =")
    ],
    "djg302_allowed_hosts_star": [
        ("DJG302", "ALLOWED_HOSTS", "prodsettings/djg302_allowed_hosts_star.py", "ALLOWED_HOSTS =")
    ],
    "djg303_no_custom_user": [
        ("DJG303", "AUTH_USER_MODEL", "prodsettings/djg303_no_custom_user.py", None)
    ],
    "djg305_use_tz_off": [("DJG305", "USE_TZ", "prodsettings/djg305_use_tz_off.py", "USE_TZ =")],
    "djg306_postgres_no_persistent": [
        ("DJG306", "DATABASES", "prodsettings/djg306_postgres_no_persistent.py", "DATABASES =")
    ],
    "djg306_postgres_persistent_ok": [],
    "djg307_static_plain": [
        ("DJG307", "STORAGES", "prodsettings/djg307_static_plain.py", "STORAGES = {")
    ],
    "djg308_admin_default": [("DJG308", "ROOT_URLCONF", "urls_admin_default.py", 'path("admin/"')],
    "djg308_admin_i18n_regex": [
        ("DJG308", "ROOT_URLCONF", "urls_admin_i18n_regex.py", 're_path(r"^admin/"')
    ],
    "djg309_no_validators": [
        (
            "DJG309",
            "AUTH_PASSWORD_VALIDATORS",
            "prodsettings/djg309_no_validators.py",
            "AUTH_PASSWORD_VALIDATORS:",
        )
    ],
    "djg309_validator_missing": [
        (
            "DJG309",
            "AUTH_PASSWORD_VALIDATORS",
            "prodsettings/djg309_validator_missing.py",
            "AUTH_PASSWORD_VALIDATORS =",
        )
    ],
    "djg310_proxy_header_malformed": [
        (
            "DJG310",
            "SECURE_PROXY_SSL_HEADER",
            "prodsettings/djg310_proxy_header_malformed.py",
            "SECURE_PROXY_SSL_HEADER =",
        )
    ],
    "djg310_redirect_without_proxy_header": [
        (
            "DJG310",
            "SECURE_PROXY_SSL_HEADER",
            "prodsettings/djg310_redirect_without_proxy_header.py",
            "SECURE_PROXY_SSL_HEADER =",
        )
    ],
    "djg311_hsts_preload_short": [
        (
            "DJG311",
            "SECURE_HSTS_PRELOAD",
            "prodsettings/djg311_hsts_preload_short.py",
            "SECURE_HSTS_SECONDS =",
        )
    ],
    "djg311_hsts_flags_without_seconds": [
        (
            "DJG311",
            "SECURE_HSTS_SECONDS",
            "prodsettings/djg311_hsts_flags_without_seconds.py",
            "SECURE_HSTS_SECONDS =",
        ),
        (
            "security.W004",
            "SECURE_HSTS_SECONDS",
            "prodsettings/djg311_hsts_flags_without_seconds.py",
            "SECURE_HSTS_SECONDS =",
        ),
    ],
    "djg312_samesite_none_insecure": [
        (
            "DJG312",
            "LANGUAGE_COOKIE_SAMESITE",
            "prodsettings/djg312_samesite_none_insecure.py",
            "LANGUAGE_COOKIE_SAMESITE =",
        )
    ],
    "djg312_http_trusted_origin": [
        (
            "DJG312",
            "CSRF_TRUSTED_ORIGINS",
            "prodsettings/djg312_http_trusted_origin.py",
            "CSRF_TRUSTED_ORIGINS =",
        )
    ],
    "djg313_dummy_cache": [("DJG313", "CACHES", "prodsettings/djg313_dummy_cache.py", "CACHES =")],
    "djg307_static_unimportable": [
        ("DJG307", "STORAGES", "prodsettings/djg307_static_unimportable.py", "STORAGES =")
    ],
    # Django 6.0 removed models.W042 (DEFAULT_AUTO_FIELD defaults to BigAutoField).
    "django_model_w042": (
        [("models.W042", "accounts.User", "accounts/models.py", "class User")]
        if django.VERSION < (6, 0)
        else []
    ),
    "djg313_locmem_cache": [
        ("DJG313", "CACHES", "prodsettings/djg313_locmem_cache.py", "CACHES =")
    ],
    "djg314_no_stdout_logging": [
        ("DJG314", "LOGGING", "prodsettings/djg314_no_stdout_logging.py", "LOGGING:")
    ],
    "djg314_file_logging_only": [
        ("DJG314", "LOGGING", "prodsettings/djg314_file_logging_only.py", "LOGGING =")
    ],
    "djg315_debug_from_env": [
        ("DJG315", "DEBUG", "prodsettings/djg315_debug_from_env.py", "DEBUG =")
    ],
    # DJG315 and Django's W018 say the same: one finding, Django's id (deploy/overlaps.py)
    "djg315_debug_true": [
        ("security.W018", "DEBUG", "prodsettings/djg315_debug_true.py", "DEBUG ="),
    ],
    "djg317_console_email": [
        ("DJG317", "EMAIL_BACKEND", "prodsettings/djg317_console_email.py", "EMAIL_BACKEND =")
    ],
    # Django 6.1: MAILERS replaces EMAIL_BACKEND (which then cannot even be read).
    **(
        {
            # Django's own checks judge MAILERS (once: DJG317 does not repeat them).
            "django_mail_e001_console": [
                ("mail.E001", "MAILERS", "prodsettings/django_mail_e001_console.py", "MAILERS =")
            ],
            "django_mail_w001_no_default": [
                ("mail.W001", "MAILERS", "prodsettings/django_mail_w001_no_default.py", "MAILERS =")
            ],
            "mailers_smtp": [],
        }
        if django.VERSION >= (6, 1)
        else {}
    ),
    "djg318_md5_hasher": [
        ("DJG318", "PASSWORD_HASHERS", "prodsettings/djg318_md5_hasher.py", "PASSWORD_HASHERS =")
    ],
    "django_w004_no_hsts": [
        (
            "security.W004",
            "SECURE_HSTS_SECONDS",
            "prodsettings/django_w004_no_hsts.py",
            "SECURE_HSTS_SECONDS =",
        )
    ],
}

SOURCE_RULE_CODES = {"DJG304", "DJG316"}  # proven in test_deploy_source_rules.py
# DJG319-DJG324 are proven in test_deploy_production_rules.py


def _expected(
    case: list[tuple[str, str, str, str | None]],
) -> set[tuple[str, str, str, int | None]]:
    return {
        (code, obj, path, line_of(SETTINGSRULES / path, text) if text else None)
        for code, obj, path, text in case
    }


def test_the_clean_production_settings_pass_with_no_findings() -> None:
    result = run_settings("prodsettings.clean").result
    assert result.status == "passed", result.summary
    assert result.findings == ()
    assert result.summary.startswith("prodsettings.clean: no findings")


@pytest.mark.parametrize("module", sorted(CASES))
def test_rule_reports_exactly_its_finding_at_the_line_that_set_it(module: str) -> None:
    result = run_settings(f"prodsettings.{module}").result
    assert located(result.findings) == _expected(CASES[module]), [
        (f.code, f.object, f.path, f.line, first_line(f.message)) for f in result.findings
    ]
    # Default fail level is "warning": every finding fails the gate.
    assert result.status == ("failed" if CASES[module] else "passed")
    for finding in result.findings:
        assert finding.severity == "error"
        assert finding.hint, f"{finding.code} has no fix"


def test_every_rule_in_the_registry_has_a_proof() -> None:
    proven = (
        {code for case in CASES.values() for code, *_ in case}
        | SOURCE_RULE_CODES
        | PRODUCTION_RULE_CODES
    )
    registry = {rule.code for rule in all_rules()}
    assert registry - proven == set()


def test_registry_codes_are_unique_stable_and_documented() -> None:
    rules = all_rules()
    assert [r.code for r in rules] == sorted({r.code for r in rules})
    for rule in rules:
        assert rule.code.startswith("DJG3")
        assert len(rule.code) == 6
        assert rule.level in ("error", "warning")
        assert rule.title
        assert rule.fix
        assert rule.setting


def test_a_default_value_points_at_the_settings_module_without_a_line() -> None:
    (finding,) = run_settings("prodsettings.djg303_no_custom_user").findings
    assert (finding.path, finding.line) == ("prodsettings/djg303_no_custom_user.py", None)


def test_a_value_set_in_a_star_imported_base_points_at_the_base() -> None:
    # SECURE_HSTS_PRELOAD is only set in common.py (imported through base.py).
    (finding,) = [
        f
        for f in run_settings("prodsettings.djg311_hsts_flags_without_seconds").findings
        if f.code == "DJG311"
    ]
    assert "SECURE_HSTS_INCLUDE_SUBDOMAINS and SECURE_HSTS_PRELOAD are on" in finding.message


def test_fail_level_error_keeps_warning_rules_as_non_failing_warnings() -> None:
    result = run_settings("prodsettings.djg313_locmem_cache", deploy__fail_level="error").result
    (finding,) = result.findings
    assert (finding.code, finding.severity) == ("DJG313", "warning")
    assert result.status == "passed"
    assert "1 warning" in result.summary


def test_fail_level_error_still_fails_on_error_rules_and_django_warnings_do_not() -> None:
    # DJG315 (an error rule) merged into Django's W018 (a warning) keeps the error level
    result = run_settings("prodsettings.djg315_debug_true", deploy__fail_level="error").result
    severities = {f.code: f.severity for f in result.findings}
    assert severities == {"security.W018": "error"}
    assert result.status == "failed"
    # a Django warning alone is a non-failing warning at fail level error
    result = run_settings("prodsettings.django_w004_no_hsts", deploy__fail_level="error").result
    assert {f.severity for f in result.findings} == {"warning"}


def test_one_finding_per_problem_and_an_allow_for_either_code_matches() -> None:
    result = run_settings("prodsettings.djg315_debug_true").result
    (finding,) = [f for f in result.findings if f.object == "DEBUG"]
    assert finding.code == "security.W018"
    assert "debug pages show settings" in finding.message  # what DJG315 said
    for code in ("DJG315", "security.W018"):
        allowed = run_settings(
            "prodsettings.djg315_debug_true",
            deploy__allow=[{"check": code, "reason": "staging mirror"}],
        ).result
        assert not [f for f in allowed.findings if f.object == "DEBUG"], code


def test_supplied_placeholders_are_named_in_the_summary_and_only_when_missing() -> None:
    run = run_settings("prodsettings.env_reads_custom_names")
    assert set(run.supplied) == {
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "SHOP_SECRET",
        "SHOP_HOSTS",
    }
    assert run.supplied["SHOP_HOSTS"] == "deploy-check.invalid"
    assert len(run.supplied["SHOP_SECRET"]) >= 50
    assert "SHOP_SECRET=<throwaway SECRET_KEY>" in run.result.summary
    assert run.supplied["SHOP_SECRET"] not in run.result.summary
    assert codes(run.findings) == []


def test_a_secret_set_in_the_environment_is_used_not_replaced() -> None:
    run = run_settings(
        "prodsettings.clean",
        environ={"DJANGO_SECRET_KEY": "short", "DJANGO_ALLOWED_HOSTS": "shop.example.com"},
    )
    assert run.supplied == {}
    assert "supplied" not in run.result.summary
    # Django's own check sees the (weak) real value.
    assert codes(run.findings) == ["security.W009"]
    assert run.findings[0].object == "SECRET_KEY"
    assert run.findings[0].path == "prodsettings/common.py"
