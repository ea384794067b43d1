"""The deploy gate's probe: runs in a clean subprocess against the production settings.

``python -m pytest_django_gates.deploy.probe --settings MODULE --project-dir DIR --output FILE
[--options JSON]``

puts ``DIR`` first on ``sys.path``, imports ``MODULE``, calls ``django.setup()``,
runs Django's system checks with the deployment checks on (what
``manage.py check --deploy`` runs; checks that need a database connection are
not run) and every settings rule of :mod:`pytest_django_gates.deploy.rules`
(given ``--options``, a JSON object of the gate options they read), then writes
one JSON object to ``FILE``::

    {"protocol": 1, "status": "ok" | "import-error" | "setup-error" | "crash",
     "error": str, "where": "file:line" | null, "traceback": str,
     "django": version, "settings_file": path, "silenced": [ids],
     "checks": [{"id", "level", "msg", "hint", "obj", "path", "line", "silenced"}],
     "issues": [Issue.to_dict()], "blind": [who]}

Each of Django's check functions and each settings rule runs on its own: one that
raises, or cannot look (:class:`~.rules._base.CannotLook`), stops nothing else. It
becomes a ``DJG393`` issue in ``issues`` (:mod:`.blind`), and ``blind`` names it
(``DJG322``, ``Django's check caches.check_…``); the issues it
yielded before stopping are kept.

The probe exits 0 whenever it wrote that file, whatever it found; the gate
treats a missing or unreadable file as a crash. Nothing is printed on purpose:
output from the settings themselves goes to the captured stdout/stderr.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_django_gates.deploy.blind import Blind

PROTOCOL = 1
# Django's check tags -> the setting a check of that tag is about (where DJG393 points).
CHECK_TAG_SETTINGS: Mapping[str, str] = {
    "caches": "CACHES",
    "urls": "ROOT_URLCONF",
    "templates": "TEMPLATES",
    "database": "DATABASES",
}


def _where(exc: BaseException, project_dir: Path) -> str | None:
    """``file:line`` of the innermost traceback frame inside the project."""
    found: str | None = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<"):
            continue  # <frozen importlib._bootstrap>, <string>
        try:
            Path(frame.filename).resolve().relative_to(project_dir)
        except ValueError:
            continue
        found = f"{frame.filename}:{frame.lineno}"
    if found is None and isinstance(exc, SyntaxError) and exc.filename:
        found = f"{exc.filename}:{exc.lineno}"
    return found


def _failure(status: str, exc: BaseException, project_dir: Path) -> dict[str, Any]:
    return {
        "protocol": PROTOCOL,
        "status": status,
        "error": "".join(traceback.format_exception_only(type(exc), exc)).strip(),
        "where": _where(exc, project_dir),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


def _source_of(obj: Any) -> tuple[str | None, int | None]:
    try:
        path = inspect.getsourcefile(obj)
        _, line = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        return None, None
    return path, line


def _check_message(message: Any) -> dict[str, Any]:
    obj = message.obj
    name = ""
    path: str | None = None
    line: int | None = None
    if obj is not None:
        meta = getattr(obj, "_meta", None)
        model = getattr(obj, "model", None)
        if isinstance(obj, type) and meta is not None:
            name = str(meta.label)
            path, line = _source_of(obj)
        elif isinstance(model, type) and getattr(model, "_meta", None) is not None:
            name = f"{model._meta.label}.{getattr(obj, 'name', obj)}"  # type: ignore[attr-defined]
            path, line = _source_of(model)
        else:
            name = str(obj)
    return {
        "id": message.id or "",
        "level": int(message.level),
        "msg": str(message.msg),
        "hint": str(message.hint or ""),
        "obj": name,
        "path": path,
        "line": line,
        "silenced": bool(message.is_silenced()),
    }


def _check_name(check: Any) -> str:
    module = getattr(check, "__module__", None) or ""
    name = getattr(check, "__qualname__", None) or getattr(check, "__name__", None) or repr(check)
    return f"{module}.{name}" if module else str(name)


def _run_checks(project_dir: Path, blinds: list[Blind]) -> list[dict[str, Any]]:
    """Django's system checks with the deployment checks on (``run_checks``), one check
    function at a time: one that raises is a :class:`~.blind.Blind`, the others still run."""
    from django.core.checks.registry import registry

    from pytest_django_gates.deploy.blind import DJANGO_CHECK, crashed

    found: list[dict[str, Any]] = []
    for check in registry.get_checks(include_deployment_checks=True):
        try:
            messages = check(app_configs=None, databases=None)
            if not isinstance(messages, Iterable):
                raise TypeError(
                    f"the function {check!r} did not return a list. All functions "
                    "registered with the checks registry must return a list."
                )
            messages = list(messages)
        except (Exception, SystemExit) as exc:
            tags = [str(t) for t in getattr(check, "tags", ()) or ()]
            setting = next((CHECK_TAG_SETTINGS[t] for t in tags if t in CHECK_TAG_SETTINGS), "")
            name = _check_name(check)
            who = DJANGO_CHECK + name.removeprefix("django.core.checks.")
            blinds.append(crashed(who, setting or name, exc, project_dir))
            continue
        found.extend(_check_message(m) for m in messages)
    return found


def probe(
    settings_module: str, project_dir: Path, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Everything the gate needs from the production settings, as a JSON-able dict."""
    project_dir = project_dir.resolve()
    sys.path.insert(0, str(project_dir))
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    try:
        module = importlib.import_module(settings_module)
    except (Exception, SystemExit) as exc:
        return _failure("import-error", exc, project_dir)
    try:
        import django

        django.setup()
    except (Exception, SystemExit) as exc:
        return _failure("setup-error", exc, project_dir)

    from django.conf import settings

    from pytest_django_gates.deploy import blind
    from pytest_django_gates.deploy.rules import SettingsContext, settings_rules

    blinds: list[blind.Blind] = []
    found = _run_checks(project_dir, blinds)
    issues: list[dict[str, Any]] = []
    ctx = SettingsContext(settings=settings, project_dir=project_dir, options=dict(options or {}))
    for rule in settings_rules():
        check = partial(rule.check, ctx)
        yielded = blind.run_rule(rule.code, rule.setting, check, project_dir, blinds)
        issues.extend(issue.to_dict() for issue in yielded)
    issues.extend(issue.to_dict() for issue in blind.issues(blinds))
    return {
        "protocol": PROTOCOL,
        "status": "ok",
        "django": django.get_version(),
        "settings_file": getattr(module, "__file__", None),
        "silenced": [str(s) for s in settings.SILENCED_SYSTEM_CHECKS],
        "checks": found,
        "issues": issues,
        "blind": list(dict.fromkeys(b.who for b in blinds)),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_django_gates.deploy.probe")
    parser.add_argument("--settings", required=True)
    parser.add_argument("--project-dir", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--options", default="{}", type=json.loads)
    args = parser.parse_args(argv)
    result = probe(args.settings, args.project_dir, args.options)
    text = json.dumps(result, default=str)
    from pytest_django_gates.report import atomic_write_text

    atomic_write_text(args.output, text)
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through subprocesses
    raise SystemExit(main())
