"""DJG307: static files are not stored with a hashed-manifest storage.

The ``staticfiles`` storage (``STORAGES["staticfiles"]``, or the older
``STATICFILES_STORAGE``) must subclass Django's ``ManifestFilesMixin``:
``ManifestStaticFilesStorage``, WhiteNoise's ``CompressedManifestStaticFilesStorage``,
django-storages' ``S3ManifestStaticStorage`` … Only checked when
``django.contrib.staticfiles`` is installed.

The storage is judged by its configured dotted path and never built. Django's,
WhiteNoise's and django-storages' classes are known by their paths (django-storages'
modules need the provider's SDK, boto3 …, even to be imported); any other class is
imported, not instantiated, to see what it subclasses. A path that names nothing in an
installed package is this rule's error (collectstatic fails); a class that cannot be
imported here for another reason (a package of the production extras not installed
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
    storage_backend,
)

# dotted path -> whether it hashes file names (a ManifestFilesMixin subclass)
KNOWN: dict[str, bool] = {
    "django.contrib.staticfiles.storage.StaticFilesStorage": False,
    "django.contrib.staticfiles.storage.ManifestStaticFilesStorage": True,
    "whitenoise.storage.CompressedStaticFilesStorage": False,
    "whitenoise.storage.CompressedManifestStaticFilesStorage": True,
}
_DJANGO_STORAGES = "storages.backends."  # its manifest classes: S3ManifestStaticStorage


def _hashes(backend: str, setting: str) -> bool:
    from django.contrib.staticfiles.storage import ManifestFilesMixin

    if backend in KNOWN:
        return KNOWN[backend]
    if backend.startswith(_DJANGO_STORAGES):
        return backend.rpartition(".")[2].endswith("ManifestStaticStorage")
    storage_class = load(backend, what="the staticfiles storage", setting=setting)
    return isinstance(storage_class, type) and issubclass(storage_class, ManifestFilesMixin)


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.apps import apps

    if not apps.is_installed("django.contrib.staticfiles"):
        return
    setting = (
        "STATICFILES_STORAGE" if ctx.settings.is_overridden("STATICFILES_STORAGE") else "STORAGES"
    )
    backend = storage_backend("staticfiles")
    try:
        hashed = _hashes(backend, setting)
    except CannotLook as exc:
        if not exc.wrong_path:
            raise  # not installed here: DJG393 says so
        yield RULE.issue(
            f"the staticfiles storage {backend!r} cannot be imported ({exc.error}): "
            "collectstatic and {% static %} will fail.",
            object=setting,
            level="error",
        )
        return
    if not hashed:
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
