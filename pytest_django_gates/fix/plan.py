"""What a fix recipe is given and gives back: the finding, the project, the change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class NotFixable(Exception):
    """Why a finding is not fixed automatically (a sentence; the hint still applies)."""


@dataclass(frozen=True)
class Target:
    """The finding to fix, and the operation it names as it read before any edit."""

    code: str
    object: str  # app_label.migration_name
    message: str
    path: Path  # absolute
    line: int
    segment: str  # the operation's source text


@dataclass(frozen=True)
class Context:
    root: Path
    django_version: tuple[int, int]
    # The migration files this run of the command has created (planned, with --dry-run):
    # a new migration goes after them, and they do not make the one fixed "depended on".
    created: set[Path] = field(default_factory=set)


@dataclass(frozen=True)
class Change:
    files: dict[Path, str]  # absolute path -> its new text
    created: frozenset[Path] = field(default_factory=frozenset)
    summary: str = ""


Read = Callable[[Path], str]
Plan = Callable[[Target, Context, Read], Change]
