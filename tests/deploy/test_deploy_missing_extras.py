"""Rules judge configuration, they do not build it: the deploy gate in a job that does not
install every production extra (issue 24, section 1).

Each scenario is a real settings module of ``projects/lintjob`` run through the gate's
real subprocess probe. ``lintsettings/base.py`` breaks six rules and one Django deploy
check on purpose (:data:`BASE`): every scenario must still report all of them, whatever
else could not look. What could not look is one ``DJG393`` error finding per cause,
naming the rules or checks it stopped and the module that is missing; the gate's status
is then ``error`` (it never passes), and no allow, ``SILENCED_SYSTEM_CHECKS`` or fail
level hides it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from pytest_django_gates.deploy import runner
from pytest_django_gates.deploy.rules import CannotLook, Issue, SourceContext, SourceRule
from pytest_django_gates.deploy.rules._base import load
from pytest_django_gates.report import Finding
from tests.deploy.deploy_support import PROJECTS, codes, line_of, run_settings

LINTJOB = PROJECTS / "lintjob"
SETTINGS = LINTJOB / "lintsettings"
BASE = ["DJG302", "DJG303", "DJG305", "DJG308", "DJG315", "DJG318", "security.W004"]


def _run(module: str, **cli: object) -> runner.DeployRun:
    return run_settings(f"lintsettings.{module}", LINTJOB, **cli)


def _missing_here(*modules: str) -> None:
    """The scenario needs ``modules`` not to be installed (the gate's Python is this one)."""
    installed = [m for m in modules if importlib.util.find_spec(m) is not None]
    if installed:
        pytest.skip(f"{', '.join(installed)} installed here: the scenario needs it missing")


def _blind(findings: tuple[Finding, ...]) -> Finding:
    (finding,) = [f for f in findings if f.code == "DJG393"]
    assert finding.severity == "error"
    return finding


def test_the_base_settings_break_exactly_what_the_scenarios_expect() -> None:
    result = _run("base").result
    assert codes(result.findings) == sorted(BASE)
    assert result.status == "failed"
    assert "could not look" not in result.summary


def test_storages_s3_without_boto3_does_not_crash_the_gate() -> None:
    """The crash of issue 24: STORAGES["default"] is S3Storage, boto3 is not installed.

    DJG322 judges ``storages.backends.s3.S3Storage`` by its path (object storage: no
    finding) instead of building it. The staticfiles storage is the project's own
    subclass of ``S3ManifestStaticStorage``: DJG307 must import it, cannot, and says so.
    """
    _missing_here("boto3")
    result = _run("storages_s3").result
    assert codes(result.findings) == sorted([*BASE, "DJG393"])  # no DJG322, no DJG307
    assert result.status == "error"
    blind = _blind(result.findings)
    assert (blind.object, blind.path, blind.line) == (
        "STORAGES",
        "lintsettings/storages_s3.py",
        line_of(SETTINGS / "storages_s3.py", "STORAGES ="),
    )
    assert blind.message.startswith(
        "DJG307 could not look at STORAGES: importing the staticfiles storage "
        "media.storage.StaticStorage failed here with ImproperlyConfigured: Could not load "
        "Boto3's S3 bindings. No module named 'boto3' (boto3 is not installed where the "
        "gate runs). It is not judged, so the deploy gate cannot pass."
    )
    assert blind.hint.startswith("install boto3 where the deploy gate runs")
    assert result.summary.endswith("; could not look: DJG307 (DJG393): the gate cannot pass")


def test_a_cache_whose_client_library_is_missing_does_not_crash_the_gate() -> None:
    """DJG313 judges both caches by their paths; Django's own cache checks build the
    caches (``caches[alias]``) and raise on django-redis: they could not look."""
    _missing_here("django_redis")
    result = _run("caches_client_missing").result
    assert codes(result.findings) == sorted([*BASE, "DJG313", "DJG393"])
    assert result.status == "error"
    (locmem,) = [f for f in result.findings if f.code == "DJG313"]
    assert locmem.message.startswith("CACHES['throttle'] uses ")
    blind = _blind(result.findings)
    assert (blind.object, blind.path, blind.line) == (
        "CACHES",
        "lintsettings/caches_client_missing.py",
        line_of(SETTINGS / "caches_client_missing.py", "CACHES ="),
    )
    assert blind.message.startswith(
        "Django's checks caches.check_cache_location_not_exposed and "
        "caches.check_file_based_cache_is_absolute could not look at CACHES: they raised "
    )
    assert (
        "InvalidCacheBackendError: Could not find backend 'django_redis.cache.RedisCache': "
        "No module named 'django_redis' (django_redis is not installed where the gate runs)"
    ) in blind.message
    assert "could not look: Django's checks caches.check_cache_location_not_exposed" in (
        result.summary
    )


def test_a_providers_email_backend_is_judged_by_its_path_never_imported() -> None:
    """Nothing builds or imports EMAIL_BACKEND: nothing is missing, nothing is blind."""
    _missing_here("anymail")
    result = _run("email_provider_missing").result
    assert codes(result.findings) == sorted(BASE)  # no DJG317: a provider's backend delivers
    assert result.status == "failed"
    assert "could not look" not in result.summary


def test_a_csp_middleware_whose_package_is_missing_does_not_crash_the_gate() -> None:
    """The policy settings are set and the only middleware that may send them cannot be
    imported here: the three CSP rules could not look (one finding); WhiteNoise, listed by
    its path, still settles DJG324 without importing anything."""
    _missing_here("csp_nonce")
    result = _run("csp_middleware_missing").result
    assert codes(result.findings) == sorted([*BASE, "DJG393"])  # no DJG319, DJG324
    assert result.status == "error"
    blind = _blind(result.findings)
    assert (blind.object, blind.path, blind.line) == (
        "MIDDLEWARE",
        "lintsettings/csp_middleware_missing.py",
        line_of(SETTINGS / "csp_middleware_missing.py", "MIDDLEWARE ="),
    )
    assert blind.message == (
        "DJG319, DJG320 and DJG321 could not look at MIDDLEWARE: importing the MIDDLEWARE "
        "entry csp_nonce.middleware.NonceCSPMiddleware failed here with ModuleNotFoundError: "
        "No module named 'csp_nonce' (csp_nonce is not installed where the gate runs). "
        "They are not judged, so the deploy gate cannot pass."
    )
    assert result.summary.endswith(
        "; could not look: DJG319, DJG320 and DJG321 (DJG393): the gate cannot pass"
    )


def test_what_could_not_look_is_never_allowed_silenced_or_downgraded() -> None:
    _missing_here("csp_nonce")
    allow = {"check": "DJG393", "reason": "the CSP middleware is a production extra"}
    result = _run("csp_middleware_missing", deploy__allow=[allow], deploy__fail_level="error")
    assert _blind(result.findings).object == "MIDDLEWARE"
    assert result.result.status == "error"
    assert "DJG390" in codes(result.findings)  # the allow matched nothing
    silenced = _run("csp_middleware_missing_silenced").result
    blind = _blind(silenced.findings)
    assert not blind.message.startswith("silenced")
    assert silenced.status == "error"


def test_a_source_rule_that_raises_stops_no_other_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: SourceContext) -> list[Issue]:
        raise ValueError("a bug in a rule")

    rule = SourceRule(
        code="DJG301", setting="SECRET_KEY", level="error", title="t", fix="f", check=broken
    )
    real = runner.source_rules
    monkeypatch.setattr(
        runner, "source_rules", lambda: [rule, *(r for r in real() if r.code != "DJG301")]
    )
    result = _run("base").result
    assert codes(result.findings) == sorted([*BASE, "DJG393"])  # DJG315, a source rule, too
    blind = _blind(result.findings)
    assert blind.object == "SECRET_KEY"
    assert blind.message.startswith(
        "DJG301 could not look at SECRET_KEY: it raised ValueError: a bug in a rule (at "
    )
    assert result.status == "error"


def test_a_staticfiles_storage_path_with_a_typo_is_still_djg307s_own_error() -> None:
    result = run_settings("prodsettings.djg307_static_unimportable", deploy__fail_level="error")
    (finding,) = result.findings
    assert (finding.code, finding.severity) == ("DJG307", "error")
    assert "cannot be imported (ImportError: Module " in finding.message
    assert result.result.status == "failed"


def test_load_imports_without_building_and_tells_a_typo_from_a_missing_package() -> None:
    from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

    dotted = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    assert load(dotted, what="the storage", setting="STORAGES") is ManifestStaticFilesStorage
    for typo in (
        "django.contrib.staticfiles.storage.ManifestStaticFileStorage",  # no such class
        "django.contrib.staticfiles.storages.ManifestStaticFilesStorage",  # no such module
        "NoDots",
    ):
        with pytest.raises(CannotLook) as wrong:
            load(typo, what="the storage", setting="STORAGES")
        assert wrong.value.wrong_path, typo
    with pytest.raises(CannotLook) as missing:
        load("djg_not_installed_here.backends.Storage", what="the storage", setting="STORAGES")
    assert not missing.value.wrong_path
    assert missing.value.missing == "djg_not_installed_here"
    assert missing.value.reason == (
        "importing the storage djg_not_installed_here.backends.Storage failed here with "
        "ModuleNotFoundError: No module named 'djg_not_installed_here'"
    )


def test_a_baseline_is_not_written_when_a_rule_could_not_look(tmp_path: Path) -> None:
    """--update-baselines while a rule is blind: an error, and no file (it would hold the
    wrong thing: what the blind rule would have found is missing from it)."""
    _missing_here("boto3")
    target = tmp_path / "deploy-baseline.json"
    result = _run("storages_s3", run__update_baselines=True, deploy__baseline=str(target)).result
    assert result.status == "error"
    assert "baseline not written: some rules could not look (DJG393)" in result.summary
    assert codes(result.findings) == ["DJG393"]
    assert not target.exists()
    written = _run("base", run__update_baselines=True, deploy__baseline=str(target)).result
    assert written.status == "passed"
    assert target.is_file()
