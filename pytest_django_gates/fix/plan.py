"""What a fix recipe is given and gives back: the finding, the project, the change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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


SqlOf = Callable[[str, str], tuple[str, list[dict[str, Any]]]]


@dataclass(frozen=True)
class Context:
    root: Path
    django_version: tuple[int, int]
    # The migration files this run of the command has created (planned, with --dry-run):
    # a new migration goes after them, and they do not make the one fixed "depended on".
    created: set[Path] = field(default_factory=set)
    # (app, migration) -> (vendor, Django's SQL of each of its operations), from a new
    # database of the project's alias (:mod:`pytest_django_gates.fix.sql_worker`); raises
    # NotFixable when it cannot be read. None: not available (a recipe that needs it
    # refuses).
    sql_of: SqlOf | None = None
    # The migration files the command may edit (new since the base, or uncommitted):
    # a later migration is rewired to depend on a new one only when it is one of them.
    # None: any.
    editable: frozenset[Path] | None = None


@dataclass(frozen=True)
class Change:
    files: dict[Path, str]  # absolute path -> its new text
    created: frozenset[Path] = field(default_factory=frozenset)
    summary: str = ""
    # Column properties the migrations may leave otherwise after the fix ("default":
    # db_default); everything else the proof requires to be the same.
    schema_may_differ: frozenset[str] = frozenset()


Read = Callable[[Path], str]
Plan = Callable[[Target, Context, Read], Change]
