"""What a deploy rule is, and the raw issue it reports.

A rule is a small module in :mod:`pytest_django_gates.deploy.rules` that
defines ``RULE``: a :class:`SettingsRule` (runs inside the probe subprocess,
against the loaded production settings) or a :class:`SourceRule` (runs in the
gate's own process, over the project's source with :mod:`ast`).

Rules report :class:`Issue` objects: a code, a *level* (``error``,
``warning`` or ``info``), a message and the ``object`` it is about (the setting
name, or the dotted code object for source rules). The gate turns issues into
report :class:`~pytest_django_gates.report.Finding` objects: it applies allows
and the fail level, and fills ``path``/``line`` from the settings source when
the rule did not.

Rules judge configuration, they do not build it: they read setting values (backend
dotted paths, field declarations) and never instantiate a storage, cache, e-mail
backend or middleware to look at it. A rule that must import a class to judge it (to
see what it subclasses) goes through :func:`load`, which never instantiates; when the
import fails in this environment (a production dependency the job running the gate
does not install) it raises :class:`CannotLook`, and the gate reports that this rule
could not look (``DJG393``) while every other rule still runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    from pytest_django_gates.deploy.settings_source import SettingsSource
    from pytest_django_gates.deploy.sources import ProjectSources

Level = Literal["error", "warning", "info"]
# Gate options the probe hands to settings rules (SettingsContext.options), by option key.
PROBE_OPTIONS: tuple[str, ...] = ("deploy.health_paths",)
LEVELS: tuple[Level, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Issue:
    """One problem a rule (or Django's check framework) found, before allows and fail level.

    ``path`` is absolute when set; ``None`` means "locate ``object`` as a
    setting in the production settings source". ``related`` names other settings
    the problem is about (an inconsistency between several): the finding then
    points at whichever of them was set last, the line most likely just changed.
    """

    code: str
    level: Level
    message: str
    object: str
    hint: str = ""
    path: str | None = None
    line: int | None = None
    related: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    """Codes merged into this one (:mod:`..overlaps`): an allow for any of them matches."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "message": self.message,
            "object": self.object,
            "hint": self.hint,
            "path": self.path,
            "line": self.line,
            "related": list(self.related),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Issue:
        level = data["level"]
        if level not in LEVELS:
            raise ValueError(f"issue level {level!r} is not one of {LEVELS}")
        line = data.get("line")
        return cls(
            code=str(data["code"]),
            level=cast(Level, level),
            message=str(data["message"]),
            object=str(data["object"]),
            hint=str(data.get("hint") or ""),
            path=None if data.get("path") is None else str(data["path"]),
            line=line if isinstance(line, int) and not isinstance(line, bool) else None,
            related=tuple(str(r) for r in data.get("related") or ()),
        )


@dataclass(frozen=True)
class SettingsContext:
    """What a settings rule gets inside the probe: Django is set up with the production settings.

    ``options`` holds the gate options rules read (:data:`PROBE_OPTIONS`), as JSON values.
    """

    settings: Any
    project_dir: Path
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceContext:
    """What a source rule gets in the gate's process."""

    settings_source: SettingsSource
    sources: ProjectSources
    project_dir: Path


@dataclass(frozen=True)
class Rule:
    """Metadata every rule declares; ``code`` never changes meaning once released."""

    code: str
    setting: str
    level: Level
    title: str
    fix: str

    def issue(
        self,
        message: str,
        *,
        object: str | None = None,
        level: Level | None = None,
        path: str | Path | None = None,
        line: int | None = None,
        hint: str | None = None,
        related: tuple[str, ...] = (),
    ) -> Issue:
        return Issue(
            code=self.code,
            level=self.level if level is None else level,
            message=message,
            object=self.setting if object is None else object,
            hint=self.fix if hint is None else hint,
            path=None if path is None else str(path),
            line=line,
            related=related,
        )


@dataclass(frozen=True)
class SettingsRule(Rule):
    """A rule that reads the loaded settings (runs in the probe subprocess)."""

    check: Callable[[SettingsContext], Iterable[Issue]]


@dataclass(frozen=True)
class SourceRule(Rule):
    """A rule that reads source code with :mod:`ast` (runs in the gate's process)."""

    check: Callable[[SourceContext], Iterable[Issue]]


class CannotLook(Exception):
    """A rule cannot judge ``setting`` here: judging it needs something this environment
    cannot give (an import that fails here).

    ``reason`` says what failed (``importing the staticfiles storage a.b.C failed here
    with ImproperlyConfigured: …``), ``error`` is the error alone (``ImproperlyConfigured:
    …``, when there is one), ``missing`` names the module that is not installed
    when the error's chain names one, and ``wrong_path`` says whether the dotted path
    itself names nothing in an installed package (a module or attribute that does not
    exist): a configuration error a rule may report as its own finding, not a
    production dependency missing here.
    """

    def __init__(
        self,
        setting: str,
        reason: str,
        *,
        error: str = "",
        missing: str | None = None,
        wrong_path: bool = False,
    ) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason
        self.error = error
        self.missing = missing
        self.wrong_path = wrong_path


def missing_module(exc: BaseException) -> str | None:
    """The module a ``ModuleNotFoundError`` in ``exc``'s chain (cause or context) names."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ModuleNotFoundError) and current.name:
            return current.name
        current = current.__cause__ or current.__context__
    return None


def _wrong_path(dotted: str, exc: ImportError) -> bool:
    """The import failed because ``dotted`` names nothing in an installed package."""
    module_path = dotted.rpartition(".")[0]
    if isinstance(exc.__cause__, ValueError):  # import_string: not a dotted path at all
        return True
    if isinstance(exc.__cause__, AttributeError):  # the module imported, the name is not in it
        return module_path in sys.modules
    name = exc.name if isinstance(exc, ModuleNotFoundError) else None
    # A module of the path itself is missing, below a top-level package that is installed.
    return bool(
        name
        and "." in name
        and (module_path == name or module_path.startswith(name + "."))
        and name.partition(".")[0] in sys.modules
    )


def load(dotted: str, *, what: str, setting: str) -> Any:
    """Import the class (or object) at ``dotted``: imported only, never instantiated.

    Raises :class:`CannotLook` when the import fails here, whatever the error
    (``ImportError``, or ``ImproperlyConfigured`` from a package whose own
    dependency is missing); ``what`` says what it is (``the staticfiles storage``).
    """
    from django.utils.module_loading import import_string

    try:
        return import_string(dotted)
    except (Exception, SystemExit) as exc:
        error = f"{type(exc).__name__}: {exc}".strip()
        raise CannotLook(
            setting,
            f"importing {what} {dotted} failed here with {error}",
            error=error,
            missing=missing_module(exc),
            wrong_path=isinstance(exc, ImportError) and _wrong_path(dotted, exc),
        ) from exc


def storage_backend(alias: str) -> str:
    """The ``BACKEND`` dotted path of storage ``alias`` (``STORAGES``, or before Django 5.1
    the older ``DEFAULT_FILE_STORAGE`` / ``STATICFILES_STORAGE``): read, not built."""
    from django.core.files.storage import storages

    backends = cast(dict[str, Any], storages.backends)
    config = backends.get(alias)
    return str(config.get("BACKEND") or "") if isinstance(config, Mapping) else ""


def has_middleware(settings: Any, dotted: str) -> bool:
    """``MIDDLEWARE`` lists the class ``dotted``, or a subclass of it.

    Listed by its own dotted path, nothing is imported. Otherwise the other entries
    (Django's own excepted) are imported, never instantiated, to see whether one
    subclasses ``dotted``. An entry that cannot be imported here might be one: unless
    another entry settles it, that is :class:`CannotLook` (an entry whose path names
    nothing in an installed package is not a subclass of anything, and is skipped).
    """
    entries = [str(e) for e in getattr(settings, "MIDDLEWARE", None) or []]
    if dotted in entries:
        return True
    try:
        target: Any = load(dotted, what="the middleware", setting="MIDDLEWARE")
    except CannotLook:
        target = None  # then no entry that imports can subclass it
    unknown: CannotLook | None = None
    for entry in entries:
        if entry.startswith("django."):
            continue  # Django's own middleware subclasses no third-party one
        try:
            cls = load(entry, what="the MIDDLEWARE entry", setting="MIDDLEWARE")
        except CannotLook as exc:
            if not exc.wrong_path and unknown is None:
                unknown = exc
            continue
        if isinstance(cls, type) and isinstance(target, type) and issubclass(cls, target):
            return True
    if unknown is not None:
        raise unknown
    return False
