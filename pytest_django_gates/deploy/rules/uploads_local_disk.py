"""DJG322: user uploads are stored on the application server's own disk.

Only projects that store uploads are judged: a ``FileField`` (or ``ImageField``) on a
model of one of the project's own apps (an app under the project directory, not in
site-packages). A field's storage is its ``storage=`` argument, else the default
storage (``STORAGES["default"]``, or ``DEFAULT_FILE_STORAGE`` before Django 5.1, which
is ``FileSystemStorage`` when neither is set). Fields on ``FileSystemStorage`` (or a
subclass) through the default storage give one finding at that setting; a field
given its own ``FileSystemStorage`` gives one at its model.

The default storage is judged by its configured dotted path and never built (building
``storages.backends.s3.S3Storage`` needs boto3, which the job running the gate may not
install): Django's ``FileSystemStorage`` is on the disk, django-storages'
``storages.backends.…`` classes are not, and any other class is imported (not
instantiated) to see whether it subclasses ``FileSystemStorage``. When that import
fails here, the rule could not look (``DJG393``). A field's own storage was built by
the model's declaration when the models were imported: its class is read as it is.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_django_gates.deploy.rules._base import (
    CannotLook,
    Issue,
    SettingsContext,
    SettingsRule,
    load,
    storage_backend,
)

# Django's FileSystemStorage, by the dotted paths it is configured with.
_LOCAL = frozenset(
    {
        "django.core.files.storage.FileSystemStorage",
        "django.core.files.storage.filesystem.FileSystemStorage",
    }
)
# django-storages: S3, Google Cloud, Azure, SFTP, FTP, Dropbox. Judged by the path: its
# modules need the provider's SDK (boto3, google-cloud-storage ...) even to be imported.
_REMOTE_PREFIXES = ("storages.backends.",)

_WHY = (
    "each app server keeps its own copy: files uploaded through one are missing on the "
    "others, and they are lost when the server or container is replaced"
)


def _project_app(app_path: str, project_dir: Path) -> bool:
    path = Path(app_path).resolve()
    try:
        path.relative_to(project_dir)
    except ValueError:
        return False
    return not {"site-packages", "dist-packages"} & set(path.parts)


def _file_fields(project_dir: Path) -> Iterator[tuple[Any, Any]]:
    from django.apps import apps
    from django.db.models import FileField

    for model in apps.get_models():
        if not _project_app(model._meta.app_config.path, project_dir):
            continue
        for field in model._meta.get_fields():
            if isinstance(field, FileField) and field.model is model:
                yield model, field


def _setting(settings: Any) -> str:
    import django

    if django.VERSION < (5, 1) and settings.is_overridden("DEFAULT_FILE_STORAGE"):
        return "DEFAULT_FILE_STORAGE"
    return "STORAGES"


def _default_on_disk(backend: str, setting: str) -> bool:
    """The default storage configured as ``backend`` keeps files on the local disk."""
    from django.core.files.storage import FileSystemStorage

    if not backend:
        return False  # no default storage configured: Django fails on the first upload
    if backend in _LOCAL:
        return True
    if backend.startswith(_REMOTE_PREFIXES):
        return False
    cls = load(backend, what="the default storage", setting=setting)
    return isinstance(cls, type) and issubclass(cls, FileSystemStorage)


def _own_storage_class(storage: Any, name: str) -> type | None:
    """The class of a field's own storage, or ``None`` when it is the default storage."""
    from django.core.files.storage import DefaultStorage
    from django.utils.functional import LazyObject, empty

    kind = type(storage)  # type(), not isinstance(): a lazy storage must not be built
    if not issubclass(kind, LazyObject):
        return kind
    wrapped = storage._wrapped
    if wrapped is not empty:
        return type(wrapped)
    if issubclass(kind, DefaultStorage):
        return None
    raise CannotLook(
        name,
        f"its storage is a {kind.__name__}, a lazy object not built yet: judging it would build it",
    )


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.core.files.storage import FileSystemStorage, default_storage

    through_default: list[str] = []
    own: list[tuple[Any, str, str]] = []
    for model, field in _file_fields(ctx.project_dir):
        name = f"{model._meta.label}.{field.name}"
        storage = field.storage
        cls = None if storage is default_storage else _own_storage_class(storage, name)
        if cls is None:
            through_default.append(name)
        elif issubclass(cls, FileSystemStorage):
            own.append((model, name, cls.__name__))
    setting = _setting(ctx.settings)
    backend = storage_backend("default")
    if through_default and _default_on_disk(backend, setting):
        shown = ", ".join(through_default[:3]) + (
            f" and {len(through_default) - 3} more" if len(through_default) > 3 else ""
        )
        yield RULE.issue(
            f"uploads ({shown}) go to the default storage, {backend}, on the local disk "
            f"(MEDIA_ROOT): {_WHY}.",
            object=setting,
        )
    for model, name, storage_name in own:
        try:
            path: str | None = inspect.getsourcefile(model)
            line: int | None = inspect.getsourcelines(model)[1]
        except (OSError, TypeError):
            path, line = None, None
        yield RULE.issue(
            f"{name} stores uploads with its own {storage_name}, on the local disk: {_WHY}.",
            object=name,
            path=path,
            line=line,
        )


RULE = SettingsRule(
    code="DJG322",
    setting="STORAGES",
    level="warning",
    title="user uploads on the application server's disk",
    fix='object storage through django-storages: STORAGES["default"] = {"BACKEND": '
    '"storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": os.environ["MEDIA_BUCKET"]}} '
    "(or gcloud.GoogleCloudStorage, azure_storage.AzureStorage); if MEDIA_ROOT is a shared "
    "volume mounted on every server, allow DJG322 with that reason",
    check=check,
)
