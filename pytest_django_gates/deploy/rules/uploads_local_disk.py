"""DJG322: user uploads are stored on the application server's own disk.

Only projects that store uploads are judged: a ``FileField`` (or ``ImageField``) on a
model of one of the project's own apps (an app under the project directory, not in
site-packages). A field's storage is its ``storage=`` argument, else the default
storage (``STORAGES["default"]``, or ``DEFAULT_FILE_STORAGE`` before Django 5.1, which
is ``FileSystemStorage`` when neither is set). Fields on ``FileSystemStorage`` (or a
subclass) through the default storage give one finding at that setting; a field
given its own ``FileSystemStorage`` gives one at its model.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule

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


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.core.files.storage import FileSystemStorage, default_storage

    through_default: list[str] = []
    own: list[tuple[Any, str, str]] = []
    for model, field in _file_fields(ctx.project_dir):
        storage = field.storage
        if not isinstance(storage, FileSystemStorage):
            continue
        name = f"{model._meta.label}.{field.name}"
        if storage is default_storage:
            through_default.append(name)
        else:
            own.append((model, name, type(storage).__name__))
    if through_default:
        cls = default_storage.__class__  # the wrapped storage's class, not the lazy proxy
        backend = f"{cls.__module__}.{cls.__qualname__}"
        setting = _setting(ctx.settings)
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
