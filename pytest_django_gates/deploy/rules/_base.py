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
"""

from __future__ import annotations

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


def has_middleware(settings: Any, dotted: str) -> bool:
    """``MIDDLEWARE`` lists the class ``dotted``, or a subclass of it (when both import)."""
    from django.utils.module_loading import import_string

    entries = [str(e) for e in getattr(settings, "MIDDLEWARE", None) or []]
    if dotted in entries:
        return True
    try:
        target = import_string(dotted)
    except ImportError:
        return False
    for entry in entries:
        try:
            cls = import_string(entry)
        except ImportError:
            continue
        if isinstance(cls, type) and isinstance(target, type) and issubclass(cls, target):
            return True
    return False
