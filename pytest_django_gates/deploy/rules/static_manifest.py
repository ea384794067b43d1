"""DJG307: static files are not stored with a hashed-manifest storage.

The ``staticfiles`` storage (``STORAGES["staticfiles"]``, or the older
``STATICFILES_STORAGE``) must subclass Django's ``ManifestFilesMixin``:
``ManifestStaticFilesStorage``, WhiteNoise's ``CompressedManifestStaticFilesStorage``,
django-storages' ``S3ManifestStaticStorage`` … Only checked when
``django.contrib.staticfiles`` is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.apps import apps
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.files.storage import storages
    from django.utils.module_loading import import_string

    if not apps.is_installed("django.contrib.staticfiles"):
        return
    setting = (
        "STATICFILES_STORAGE" if ctx.settings.is_overridden("STATICFILES_STORAGE") else "STORAGES"
    )
    backends = cast(dict[str, Any], storages.backends)
    backend = str((backends.get("staticfiles") or {}).get("BACKEND") or "")
    try:
        storage_class = import_string(backend)
    except ImportError as exc:
        yield RULE.issue(
            f"the staticfiles storage {backend!r} cannot be imported ({exc}): "
            "collectstatic and {% static %} will fail.",
            object=setting,
            level="error",
        )
        return
    if not (isinstance(storage_class, type) and issubclass(storage_class, ManifestFilesMixin)):
        yield RULE.issue(
            f"static files use {backend}, which does not hash file names: after a deploy, "
            "browsers and CDNs keep serving the old CSS and JavaScript.",
            object=setting,
        )


RULE = SettingsRule(
    code="DJG307",
    setting="STORAGES",
    level="warning",
    title="static files without a hashed-manifest storage",
    fix='STORAGES["staticfiles"] = {"BACKEND": '
    '"django.contrib.staticfiles.storage.ManifestStaticFilesStorage"} '
    "(or whitenoise.storage.CompressedManifestStaticFilesStorage)",
    check=check,
)
