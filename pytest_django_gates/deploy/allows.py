"""Scoped allows for the deploy gate: ``[[tool.django-gates.deploy.allow]]``.

Each entry allows one check, for a reason, optionally until a date::

    [[tool.django-gates.deploy.allow]]
    check = "security.W004"          # required: a Django check id or a DJG3xx code, exact
    reason = "HSTS is set by the CDN" # required, non-empty
    until = "2025-12-31"             # optional: allows through that day, then stops
    object = "DATABASES"             # optional fnmatch glob on the finding's object
    path = "apps/reports/*"          # optional fnmatch glob on the finding's path
    line = "DEBUG = env.bool(*)"     # optional fnmatch glob on the text of its line

An allow hides the findings it matches (they are counted in the gate summary).

``line`` pins an allow to the source line it was written for: the text of the
finding's line, stripped, runs of white space as one space (``"*"`` accepts any
line). An allow without ``line`` never covers a finding on a line that the change
under review added or edited (``--since``, a pull request's or merge group's base):
that finding is reported, naming the allow, so that a new ``DEBUG = True`` a few
lines below an allowed one cannot pass unseen. Without a git base it covers the
finding wherever it is, as before. To accept today's findings wholesale, use the
deploy baseline instead (:mod:`pytest_django_gates.deploy.baseline`).
After ``until`` it stops allowing: the findings come back, their message says
the allow expired, and a ``DJG391`` warning points at the entry. An allow that
matches nothing is reported as ``DJG390`` (a warning that never fails the gate).
``until`` may be a TOML date (``until = 2025-12-31``) or a string.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pytest_django_gates.config import ConfigError

ALLOW_KEYS = ("check", "reason", "until", "object", "path", "line")


@dataclass(frozen=True)
class Allow:
    index: int
    check: str
    reason: str
    until: dt.date | None = None
    object: str | None = None
    path: str | None = None
    line: str | None = None

    def expired(self, today: dt.date) -> bool:
        return self.until is not None and today > self.until

    def matches(self, code: str, obj: str, path: str | None, text: str | None = None) -> bool:
        """Whether this allow covers a finding; ``text`` is its line's source text (None:
        the finding has no line). ``line`` is only compared when it is set."""
        if code != self.check:
            return False
        if self.object is not None and not fnmatch.fnmatchcase(obj, self.object):
            return False
        if self.path is not None and (path is None or not fnmatch.fnmatchcase(path, self.path)):
            return False
        return self.line is None or fnmatch.fnmatchcase(fold(text or ""), fold(self.line))

    def describe(self) -> str:
        scope = [f"check {self.check!r}"]
        if self.object is not None:
            scope.append(f"object {self.object!r}")
        if self.path is not None:
            scope.append(f"path {self.path!r}")
        if self.line is not None:
            scope.append(f"line {self.line!r}")
        return ", ".join(scope)


def fold(text: str) -> str:
    """A line's text as ``line`` globs compare it: stripped, white space runs as one."""
    return " ".join(text.split())


def _date(raw: Any, where: str) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where}: 'until' must be a date YYYY-MM-DD, got {raw!r}")


def validate_allow_entries(value: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """Validate ``deploy.allow`` entries; ``until`` is normalised to ``YYYY-MM-DD``."""
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(value):
        here = f"{where}[{i}]"
        unknown = set(entry) - set(ALLOW_KEYS)
        if unknown:
            raise ConfigError(
                f"{here}: unknown key(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(ALLOW_KEYS)}"
            )
        check = entry.get("check")
        if not isinstance(check, str) or not check.strip():
            raise ConfigError(
                f"{here}: every allow entry needs 'check', the check id to allow "
                '(e.g. "security.W004" or "DJG306")'
            )
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{here}: every allow entry needs a non-empty 'reason'")
        normalised: dict[str, Any] = {"check": check.strip(), "reason": reason.strip()}
        if "until" in entry:
            normalised["until"] = _date(entry["until"], here).isoformat()
        for key in ("object", "path", "line"):
            if key in entry:
                if not isinstance(entry[key], str) or not entry[key]:
                    raise ConfigError(f"{here}.{key}: expected a non-empty string (a glob)")
                normalised[key] = entry[key]
        out.append(normalised)
    return out


def parse_allows(entries: Sequence[dict[str, Any]]) -> list[Allow]:
    """:class:`Allow` objects from validated entries."""
    validated = validate_allow_entries(list(entries), "deploy.allow")
    return [
        Allow(
            index=i,
            check=e["check"],
            reason=e["reason"],
            until=dt.date.fromisoformat(e["until"]) if "until" in e else None,
            object=e.get("object"),
            path=e.get("path"),
            line=e.get("line"),
        )
        for i, e in enumerate(validated)
    ]
