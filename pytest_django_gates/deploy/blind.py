"""What the deploy gate could not look at: ``DJG393``, one rule's problem, never the gate's.

Each rule (and each of Django's check functions) runs on its own. One that cannot
look — a :class:`~.rules._base.CannotLook` (it needs to import a class that cannot be
imported here, typically a production dependency the job running the gate does not
install) or any other exception — is recorded as a :class:`Blind`, and every other
rule still runs and reports. The gate then reports a ``DJG393`` error finding per
cause (several rules stopped by the same missing module, or the same broken URLconf,
are one finding naming them all) and its status is ``error``: a gate that could not
look never passes. ``DJG393`` is not matched by allows, ``SILENCED_SYSTEM_CHECKS`` or
the fail level, and is never recorded in a baseline.

Nothing here imports Django: the probe (settings rules, Django's checks) and the gate's
own process (source rules) both use it.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_django_gates.deploy.rules._base import CannotLook, Issue, missing_module

CANNOT_LOOK = "DJG393"
DJANGO_CHECK = "Django's check "


@dataclass(frozen=True)
class Blind:
    """One rule or check that could not look, and why."""

    who: str
    """``DJG322``, or ``Django's check caches.check_…`` (:data:`DJANGO_CHECK` + its name)."""
    object: str
    """The setting it could not look at (or what else it is about)."""
    reason: str
    """``importing … failed here with …``, or ``raised …`` when ``crash``."""
    missing: str | None = None
    crash: bool = False
    path: str | None = None
    line: int | None = None

    def key(self) -> tuple[str, str, str | None, int | None]:
        """Blinds with the same key have one cause: one finding names them all."""
        cause = f"module {self.missing}" if self.missing else self.reason
        return (self.object, cause, self.path, self.line)


def cannot_look(who: str, exc: CannotLook) -> Blind:
    return Blind(who=who, object=exc.setting, reason=exc.reason, missing=exc.missing)


def _outside_packages(filename: str, project_dir: Path) -> bool:
    path = Path(filename).resolve()
    try:
        path.relative_to(project_dir)
    except ValueError:
        return False
    return not {"site-packages", "dist-packages"} & set(path.parts)


def crashed(who: str, setting: str, exc: BaseException, project_dir: Path) -> Blind:
    """``who`` raised ``exc``: located at the innermost frame of the project's own code."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    own = [f for f in frames if _outside_packages(f.filename, project_dir.resolve())]
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    missing = missing_module(exc)
    reason = f"raised {error}"
    if not own and not missing and frames:
        last = frames[-1]
        reason += f" (at {last.filename}:{last.lineno} in {last.name})"
    return Blind(
        who=who,
        object=setting,
        reason=reason,
        missing=missing,
        crash=True,
        path=own[-1].filename if own else None,
        line=own[-1].lineno if own else None,
    )


def run_rule(
    who: str,
    setting: str,
    check: Callable[[], Iterable[Issue]],
    project_dir: Path,
    blinds: list[Blind],
) -> list[Issue]:
    """The issues ``check`` yields; when it cannot look or raises, those it yielded before,
    and a :class:`Blind` appended to ``blinds``."""
    found: list[Issue] = []
    try:
        for issue in check():
            found.append(issue)
    except CannotLook as exc:
        blinds.append(cannot_look(who, exc))
    except (Exception, SystemExit) as exc:
        blinds.append(crashed(who, setting, exc, project_dir))
    return found


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _order(who: str) -> tuple[bool, str]:
    """Rules first (in code order), then Django's checks by name: Django runs its checks
    in no fixed order, and messages (baseline fingerprints) must not change between runs."""
    return (who.startswith(DJANGO_CHECK), who)


def describe(whos: Iterable[str]) -> str:
    """``DJG308, DJG323 and Django's checks urls.check_url_config and urls.…``."""
    unique = sorted(dict.fromkeys(whos), key=_order)
    rules = [w for w in unique if not w.startswith(DJANGO_CHECK)]
    checks = [w.removeprefix(DJANGO_CHECK) for w in unique if w.startswith(DJANGO_CHECK)]
    if checks:
        rules.append(f"Django's check{'s' if len(checks) > 1 else ''} {_join(checks)}")
    return _join(rules)


def _hint(first: Blind) -> str:
    if first.missing:
        return (
            f"install {first.missing} where the deploy gate runs (the production "
            "dependencies; the gate reads the classes the settings name and never builds "
            "them, but must import this one to judge it), or fix the dotted path if "
            f"{first.missing!r} is a typo"
        )
    if first.crash:
        return (
            "fix what raises (it raises in production too, unless a dependency missing here "
            "causes it); if the settings are right and a DJG3xx rule raised, report it to "
            "pytest-django-gates with this message"
        )
    return (
        "make it importable where the deploy gate runs (install the production "
        "dependencies there), or fix what makes the import fail"
    )


def issues(blinds: Sequence[Blind]) -> list[Issue]:
    """One ``DJG393`` error issue per cause, naming every rule or check it stopped."""
    groups: dict[tuple[str, str, str | None, int | None], list[Blind]] = {}
    for item in blinds:
        groups.setdefault(item.key(), []).append(item)
    out: list[Issue] = []
    for group in groups.values():
        group.sort(key=lambda b: _order(b.who))
        first = group[0]
        several = len({b.who for b in group}) > 1
        reason = first.reason
        if first.crash:
            reason = f"{'they' if several else 'it'} {reason}"
        if first.missing:
            reason += f" ({first.missing} is not installed where the gate runs)"
        judged = "They are" if several else "It is"
        out.append(
            Issue(
                code=CANNOT_LOOK,
                level="error",
                message=f"{describe(b.who for b in group)} could not look at {first.object}: "
                f"{reason}. "
                f"{judged} not judged, so the deploy gate cannot pass.",
                object=first.object,
                hint=_hint(first),
                path=first.path,
                line=first.line,
            )
        )
    return out
