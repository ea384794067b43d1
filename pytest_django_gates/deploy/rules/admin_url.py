"""DJG308: the Django admin is mounted at ``admin/``.

Walks the resolved URL configuration (``ROOT_URLCONF``, includes followed,
``i18n_patterns`` language prefixes ignored) for the admin site's URLs
(``app_name == "admin"``) and reports them when they live at ``admin/``. The
finding points at the ``"admin/"`` string in the module that includes the admin.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule


def _piece(pattern: Any) -> str:
    if type(pattern).__name__ == "LocalePrefixPattern":
        return ""
    text = str(pattern)
    if type(pattern).__name__ == "RegexPattern":
        text = text.removeprefix("^").removesuffix("$").replace("\\/", "/")
    return text


def _admin_mounts(
    patterns: Sequence[Any], prefix: str, urlconf: Any
) -> Iterator[tuple[str, str, Any]]:
    from django.urls import URLResolver

    for entry in patterns:
        if not isinstance(entry, URLResolver):
            continue
        route = prefix + _piece(entry.pattern)
        if entry.app_name == "admin":
            yield route, str(entry.pattern), urlconf
            continue
        try:
            inner = entry.url_patterns
        except Exception:  # a broken include is for Django's own URL checks to report
            continue
        conf = entry.urlconf_name
        # include([...]) and i18n_patterns() keep their patterns in the including module.
        inner_conf = conf if isinstance(conf, str) or hasattr(conf, "__file__") else urlconf
        yield from _admin_mounts(inner, route, inner_conf)


def _locate(urlconf: Any, text: str) -> tuple[Path | None, int | None]:
    module = importlib.import_module(urlconf) if isinstance(urlconf, str) else urlconf
    filename = getattr(module, "__file__", None)
    if not filename:
        return None, None
    path = Path(filename)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return path, None
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value == text:
            return path, node.lineno
    return path, None


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.urls import get_resolver

    root = ctx.settings.ROOT_URLCONF
    for route, text, urlconf in _admin_mounts(get_resolver().url_patterns, "", root):
        if re.sub(r"/+", "/", route).strip("/").lower() != "admin":
            continue
        path, line = _locate(urlconf, text)
        yield RULE.issue(
            f"the admin site is mounted at /{route.lstrip('/')}: the first URL every "
            "scanner and password-guessing bot tries.",
            path=path,
            line=line,
        )


RULE = SettingsRule(
    code="DJG308",
    setting="ROOT_URLCONF",
    level="warning",
    title="admin mounted at admin/",
    fix="mount it at an unpredictable path from the environment: "
    'path(settings.ADMIN_URL, admin.site.urls) with ADMIN_URL = os.environ["DJANGO_ADMIN_URL"]',
    check=check,
)
