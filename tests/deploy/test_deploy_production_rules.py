"""The production rules of the guides: CSP (DJG319-DJG321), uploads (DJG322), health (DJG323)
and static files (DJG324), each against settings that break it and the configurations it accepts.

Django 6.0's native CSP cases run on Django 6.0+ only; the django-csp cases need
django-csp 4 (the test extras): without it they skip locally and fail in CI.
"""

from __future__ import annotations

import importlib.util
import os
from types import SimpleNamespace

import django
import pytest

from pytest_django_gates.config import ConfigError
from pytest_django_gates.deploy.rules._csp import _django_csp
from tests.deploy.deploy_support import SETTINGSRULES, first_line, line_of, load_config, located
from tests.deploy.deploy_support import run_settings as run

NATIVE = pytest.mark.skipif(django.VERSION < (6, 0), reason="Django's own CSP is Django 6.0+")
HAS_DJANGO_CSP = importlib.util.find_spec("csp") is not None

# module -> (needs, [(code, object, file relative to the project, text on the line or None)])
CASES: dict[str, tuple[str, list[tuple[str, str, str, str | None]]]] = {
    "djg319_no_csp": (
        "",
        [("DJG319", "MIDDLEWARE", "prodsettings/djg319_no_csp.py", "MIDDLEWARE")],
    ),
    "djg319_native_settings_without_middleware": (
        "native",
        [
            (
                "DJG319",
                "MIDDLEWARE",
                "prodsettings/djg319_native_settings_without_middleware.py",
                "SECURE_CSP =",
            )
        ],
    ),
    "csp_native": ("native", []),
    "csp_native_nonce_with_unsafe_inline": ("native", []),
    "djg320_native_report_only": (
        "native",
        [
            (
                "DJG320",
                "SECURE_CSP_REPORT_ONLY",
                "prodsettings/djg320_native_report_only.py",
                "SECURE_CSP_REPORT_ONLY =",
            )
        ],
    ),
    "djg321_native_unsafe_inline": (
        "native",
        [("DJG321", "SECURE_CSP", "prodsettings/djg321_native_unsafe_inline.py", "SECURE_CSP =")],
    ),
    "csp_django_csp4": ("django-csp", []),
    "djg319_django_csp3_settings": (
        "django-csp",
        [
            (
                "DJG319",
                "MIDDLEWARE",
                "prodsettings/djg319_django_csp3_settings.py",
                "CSP_SCRIPT_SRC =",
            )
        ],
    ),
    "djg320_django_csp4_report_only": (
        "django-csp",
        [
            (
                "DJG320",
                "CONTENT_SECURITY_POLICY_REPORT_ONLY",
                "prodsettings/djg320_django_csp4_report_only.py",
                "CONTENT_SECURITY_POLICY_REPORT_ONLY =",
            )
        ],
    ),
    "djg321_django_csp4_unsafe_inline": (
        "django-csp",
        [
            (
                "DJG321",
                "CONTENT_SECURITY_POLICY",
                "prodsettings/djg321_django_csp4_unsafe_inline.py",
                "CONTENT_SECURITY_POLICY =",
            )
        ],
    ),
    "djg321_django_csp4_wildcard": (
        "django-csp",
        [
            (
                "DJG321",
                "CONTENT_SECURITY_POLICY",
                "prodsettings/djg321_django_csp4_wildcard.py",
                "CONTENT_SECURITY_POLICY =",
            )
        ],
    ),
    "djg322_uploads_default": (
        "",
        [("DJG322", "STORAGES", "prodsettings/djg322_uploads_default.py", "STORAGES =")],
    ),
    "uploads_object_storage": ("", []),
    "djg322_uploads_field_storage": (
        "",
        [("DJG322", "avatars.Avatar.image", "avatars/models.py", "class Avatar")],
    ),
    "djg323_no_health": (
        "",
        [("DJG323", "ROOT_URLCONF", "prodsettings/djg323_no_health.py", "ROOT_URLCONF =")],
    ),
    "djg323_catch_all": (
        "",
        [("DJG323", "ROOT_URLCONF", "prodsettings/djg323_catch_all.py", "ROOT_URLCONF =")],
    ),
    "djg324_static_unserved": (
        "",
        [("DJG324", "STATIC_URL", "prodsettings/common.py", "STATIC_URL =")],
    ),
    "static_cdn": ("", []),
}

PRODUCTION_RULE_CODES = {code for _, case in CASES.values() for code, *_ in case}


def _needs(what: str) -> None:
    if what == "native" and django.VERSION < (6, 0):
        pytest.skip("Django's own CSP (SECURE_CSP) is Django 6.0+")
    if what == "django-csp" and not HAS_DJANGO_CSP:
        if os.environ.get("CI"):
            pytest.fail("django-csp 4 is required in CI: pip install -e .[test]")
        pytest.skip("django-csp is not installed (pip install -e .[test]); CI runs this")


@pytest.mark.parametrize("module", sorted(CASES))
def test_production_rule_reports_exactly_its_finding_at_the_line_that_set_it(module: str) -> None:
    needs, case = CASES[module]
    _needs(needs)
    result = run(f"prodsettings.{module}").result
    expected = {
        (code, obj, path, line_of(SETTINGSRULES / path, text) if text else None)
        for code, obj, path, text in case
    }
    assert located(result.findings) == expected, [
        (f.code, f.object, f.path, f.line, first_line(f.message)) for f in result.findings
    ]
    assert result.status == ("failed" if case else "passed")
    for finding in result.findings:
        assert finding.hint, f"{finding.code} has no fix"


def test_no_csp_says_what_it_looked_for_and_the_fix_for_this_django() -> None:
    (finding,) = run("prodsettings.djg319_no_csp").findings
    assert "ContentSecurityPolicyMiddleware with SECURE_CSP" in finding.message
    assert "django-csp's CSPMiddleware" in finding.message
    if django.VERSION >= (6, 0):
        assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in finding.hint
        assert "SECURE_CSP is set, but" in finding.message  # common.py sets it
    else:
        assert "csp.middleware.CSPMiddleware" in finding.hint
        assert "django-csp settings are set, but" in finding.message


@NATIVE
def test_native_settings_without_the_middleware_say_so() -> None:
    (finding,) = run("prodsettings.djg319_native_settings_without_middleware").findings
    assert (
        "SECURE_CSP is set, but django.middleware.csp.ContentSecurityPolicyMiddleware is not"
        in (finding.message)
    )


@pytest.mark.parametrize(
    ("module", "needs", "provider"),
    [
        ("djg320_native_report_only", "native", "Django's native CSP, SECURE_CSP_REPORT_ONLY"),
        (
            "djg320_django_csp4_report_only",
            "django-csp",
            "django-csp 4, CONTENT_SECURITY_POLICY_REPORT_ONLY",
        ),
        ("djg321_native_unsafe_inline", "native", "Django's native CSP, SECURE_CSP"),
        ("djg321_django_csp4_unsafe_inline", "django-csp", "django-csp 4, CONTENT_SECURITY_POLICY"),
    ],
)
def test_csp_findings_name_the_configuration_they_found(
    module: str, needs: str, provider: str
) -> None:
    _needs(needs)
    (finding,) = run(f"prodsettings.{module}").findings
    assert f"({provider})" in finding.message
    if module.startswith("djg321"):
        assert "'unsafe-inline' in script-src" in finding.message
    else:
        assert "report-only" in finding.message


def test_django_csp3_settings_are_ignored_by_django_csp4() -> None:
    _needs("django-csp")
    (finding,) = run("prodsettings.djg319_django_csp3_settings").findings
    assert "django-csp 4 ignores the django-csp 3 settings CSP_DEFAULT_SRC, CSP_SCRIPT_SRC" in (
        finding.message
    )


def test_django_csp3_settings_are_read_as_django_csp3_reads_them() -> None:
    # default-src 'self' is django-csp 3's default; CSP_REPORT_ONLY makes the policy report-only
    settings = SimpleNamespace(
        CSP_SCRIPT_SRC=("'self'", "'unsafe-inline'"), CSP_REPORT_ONLY=True, CSP_IMG_SRC="*"
    )
    (policy,), notes = _django_csp(settings, 3)
    assert notes == []
    assert (policy.provider, policy.report_only) == ("django-csp 3", True)
    assert policy.directives == {
        "default-src": ("'self'",),
        "script-src": ("'self'", "'unsafe-inline'"),
        "img-src": ("*",),
    }
    assert (policy.setting(), policy.setting("script-src")) == ("CSP_REPORT_ONLY", "CSP_SCRIPT_SRC")


def test_uploads_finding_names_the_fields_and_the_fix() -> None:
    (finding,) = run("prodsettings.djg322_uploads_default").findings
    assert "documents.Document.file" in finding.message
    assert "FileSystemStorage" in finding.message
    assert "django-storages" in finding.hint
    assert "allow DJG322" in finding.hint


def test_a_project_without_file_fields_is_not_told_about_uploads() -> None:
    # prodsettings.clean keeps FileSystemStorage as the default storage, with no FileField
    assert run("prodsettings.clean").findings == ()


def test_uploads_on_a_shared_volume_are_allowed_with_a_reason() -> None:
    result = run(
        "prodsettings.djg322_uploads_default",
        deploy__allow=[
            {"check": "DJG322", "reason": "MEDIA_ROOT is an NFS volume on every server"}
        ],
    ).result
    assert result.findings == ()
    assert "1 allowed (DJG322)" in result.summary


def test_health_hint_asks_for_database_and_cache_checks() -> None:
    (finding,) = run("prodsettings.djg323_no_health").findings
    assert "none of /health/, /healthz/" in finding.message
    assert "database" in finding.hint
    assert "cache" in finding.hint
    (catch_all,) = run("prodsettings.djg323_catch_all").findings
    assert "catch-all view" in catch_all.message


def test_health_paths_name_the_project_s_own_route() -> None:
    assert run("prodsettings.djg323_no_health", deploy__health_paths=["/status/"]).findings == ()
    (finding,) = run("prodsettings.clean", deploy__health_paths=["/status/"]).findings
    assert (finding.code, first_line(finding.message)[:40]) == (
        "DJG323",
        "no health-check route: none of /status/ ",
    )
    assert run("prodsettings.djg323_no_health", deploy__health_paths=[]).findings == ()


def test_health_paths_must_be_url_paths() -> None:
    with pytest.raises(ConfigError, match="every health path starts with '/'"):
        load_config({"deploy.health_paths": ["health/"]})


def test_static_finding_offers_whitenoise_and_a_cdn() -> None:
    (finding,) = run("prodsettings.djg324_static_unserved").findings
    assert "STATIC_URL is '/static/'" in finding.message
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in finding.hint
    assert "CDN" in finding.hint
