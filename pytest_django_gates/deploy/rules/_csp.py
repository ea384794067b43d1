"""The Content Security Policies a project sends, read from its settings (DJG319-DJG321).

Two configurations are recognised, each only when its middleware is in ``MIDDLEWARE``
(the class by its dotted path, or a subclass of it; a subclass is looked for, by
importing the other entries without instantiating them, only when the settings that
configuration reads are set, since without them it sends nothing; an entry that cannot
be imported here then means the CSP rules could not look, ``DJG393``):

* Django 6.0+'s own: ``django.middleware.csp.ContentSecurityPolicyMiddleware`` with
  ``SECURE_CSP`` (enforced) and ``SECURE_CSP_REPORT_ONLY`` dicts; before Django 6.0
  neither the middleware nor the settings exist.
* django-csp's ``csp.middleware.CSPMiddleware``: 4.x reads
  ``CONTENT_SECURITY_POLICY`` / ``CONTENT_SECURITY_POLICY_REPORT_ONLY``
  (``{"DIRECTIVES": {...}}``, ``default-src 'self'`` filled in); 3.x read one
  ``CSP_<DIRECTIVE>`` setting per directive (``CSP_DEFAULT_SRC`` defaulting to
  ``'self'``), report-only when ``CSP_REPORT_ONLY``. The installed django-csp decides
  which settings count; when it is not installed, the settings' style does.

A policy is empty (sends no header) when its setting is empty, as both middlewares do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_django_gates.deploy.rules._base import has_middleware

NATIVE_MIDDLEWARE = "django.middleware.csp.ContentSecurityPolicyMiddleware"
DJANGO_CSP_MIDDLEWARE = "csp.middleware.CSPMiddleware"
NONCE = "'nonce-…'"  # what a nonce placeholder (Django's CSP.NONCE, django-csp's NONCE) becomes


@dataclass(frozen=True)
class Policy:
    """One policy the project sends: enforced or report-only, by one configuration."""

    provider: str
    """``Django's native CSP``, ``django-csp 4`` or ``django-csp 3``."""
    report_only: bool
    directives: Mapping[str, tuple[str, ...]]
    settings: Mapping[str, str] = field(default_factory=dict)
    """directive -> the setting that sets it; ``""`` -> the setting of the whole policy."""

    def setting(self, directive: str = "") -> str:
        return self.settings.get(directive) or self.settings[""]

    def describe(self) -> str:
        kind = "report-only" if self.report_only else "enforced"
        return f"the {kind} policy ({self.provider}, {self.setting()})"


@dataclass(frozen=True)
class Found:
    """The policies found, and why a configuration that looks meant to was not counted."""

    policies: tuple[Policy, ...]
    notes: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    """Settings set for a policy that no configured middleware reads."""


def _values(raw: Any) -> tuple[str, ...]:
    if raw is None or raw is False or raw is True:
        return ()
    items = sorted(raw, key=str) if isinstance(raw, set | frozenset) else raw
    if isinstance(items, str) or not isinstance(items, list | tuple):
        items = [items]
    out: list[str] = []
    for item in items:
        if type(item).__name__ == "Nonce" or str(item) == "<CSP_NONCE_SENTINEL>":
            out.append(NONCE)
        else:
            out.extend(str(item).split())
    return tuple(out)


def _directives(raw: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    merged = {**defaults, **raw}
    return {
        str(name).lower(): _values(value)
        for name, value in merged.items()
        if value is not None and value is not False
    }


def _native(settings: Any) -> Iterator[Policy]:
    for name, report_only in (("SECURE_CSP", False), ("SECURE_CSP_REPORT_ONLY", True)):
        value = getattr(settings, name, None)
        if isinstance(value, Mapping) and value:
            yield Policy("Django's native CSP", report_only, _directives(value, {}), {"": name})


def _django_csp_major() -> int | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version("django-csp")
    except PackageNotFoundError:
        return None
    head = text.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _legacy_names(settings: Any) -> list[str]:
    return sorted(
        name
        for name in dir(getattr(settings, "_wrapped", settings))
        if name.startswith("CSP_") and name.isupper()
    )


_MODERN = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")


def _django_csp(settings: Any, major: int | None) -> tuple[list[Policy], list[str]]:
    modern = [name for name in _MODERN if hasattr(settings, name)]
    legacy = _legacy_names(settings)
    policies: list[Policy] = []
    notes: list[str] = []
    if (major is not None and major >= 4) or (major is None and (modern or not legacy)):
        for name in modern:
            value = getattr(settings, name)
            if isinstance(value, Mapping) and value:
                directives = value.get("DIRECTIVES") or {}
                policies.append(
                    Policy(
                        "django-csp 4",
                        name.endswith("_REPORT_ONLY"),
                        _directives(directives, {"default-src": ["'self'"]}),
                        {"": name},
                    )
                )
        if legacy and major is not None:
            notes.append(
                f"django-csp {major} ignores the django-csp 3 settings {', '.join(legacy)}: "
                "it reads CONTENT_SECURITY_POLICY"
            )
        return policies, notes
    # django-csp 3.x: one setting per directive, default-src 'self' by default.
    directive_settings = [n for n in legacy if n not in _LEGACY_OPTIONS]
    raw = {
        name.removeprefix("CSP_").replace("_", "-").lower(): getattr(settings, name)
        for name in directive_settings
    }
    report_only = bool(getattr(settings, "CSP_REPORT_ONLY", False))
    names = {
        name.removeprefix("CSP_").replace("_", "-").lower(): name for name in directive_settings
    }
    names[""] = "CSP_REPORT_ONLY" if report_only else "CSP_DEFAULT_SRC"
    policies.append(
        Policy(
            "django-csp 3",
            report_only,
            _directives(raw, {"default-src": ["'self'"]}),
            names,
        )
    )
    if modern:
        notes.append(f"django-csp 3 ignores {', '.join(modern)} (django-csp 4 settings)")
    return policies, notes


_LEGACY_OPTIONS = frozenset(
    {
        "CSP_REPORT_ONLY",
        "CSP_EXCLUDE_URL_PREFIXES",
        "CSP_REPORT_PERCENTAGE",
        "CSP_INCLUDE_NONCE_IN",
    }
)


def _uses(settings: Any, middleware: str, settings_set: bool) -> bool:
    """``middleware`` is in ``MIDDLEWARE``: by its dotted path, or (only when
    ``settings_set``, the settings it reads are set) as a subclass (see ``has_middleware``)."""
    if settings_set:
        return has_middleware(settings, middleware)
    return middleware in [str(e) for e in getattr(settings, "MIDDLEWARE", None) or []]


def find_policies(settings: Any) -> Found:
    """Every policy the configured middlewares send with these settings.

    Raises :class:`~._base.CannotLook` when a ``MIDDLEWARE`` entry that could be one of
    the middlewares cannot be imported here.
    """
    import django

    policies: list[Policy] = []
    notes: list[str] = []
    ignored: list[str] = []
    native_settings = [
        n for n in ("SECURE_CSP", "SECURE_CSP_REPORT_ONLY") if getattr(settings, n, None)
    ]
    if django.VERSION >= (6, 0):
        if _uses(settings, NATIVE_MIDDLEWARE, bool(native_settings)):
            policies.extend(_native(settings))
            if not policies:
                notes.append(
                    f"{NATIVE_MIDDLEWARE} is in MIDDLEWARE, but SECURE_CSP and "
                    "SECURE_CSP_REPORT_ONLY are empty: it sends no header"
                )
        elif native_settings:
            ignored.extend(native_settings)
            notes.append(
                f"{' and '.join(native_settings)} {'is' if len(native_settings) == 1 else 'are'} "
                f"set, but {NATIVE_MIDDLEWARE} is not in MIDDLEWARE"
            )
    elif native_settings:
        ignored.extend(native_settings)
        notes.append(
            f"{' and '.join(native_settings)} only take effect from Django 6.0 on "
            f"(this is Django {django.get_version()})"
        )
    major = _django_csp_major()
    django_csp_set = (
        any(hasattr(settings, n) for n in _MODERN) or bool(_legacy_names(settings)) or major == 3
    )  # django-csp 3 sends default-src 'self' with no settings at all
    if _uses(settings, DJANGO_CSP_MIDDLEWARE, django_csp_set):
        found, why = _django_csp(settings, major)
        policies.extend(found)
        notes.extend(why)
        if not found and not why:
            notes.append(
                f"{DJANGO_CSP_MIDDLEWARE} is in MIDDLEWARE, but CONTENT_SECURITY_POLICY and "
                "CONTENT_SECURITY_POLICY_REPORT_ONLY are empty: it sends no header"
            )
        if not found:
            ignored.extend(_legacy_names(settings))
    elif hasattr(settings, "CONTENT_SECURITY_POLICY") or _legacy_names(settings):
        ignored.extend(
            name
            for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
            if hasattr(settings, name)
        )
        ignored.extend(_legacy_names(settings))
        notes.append(
            f"django-csp settings are set, but {DJANGO_CSP_MIDDLEWARE} is not in MIDDLEWARE"
        )
    return Found(tuple(policies), tuple(notes), tuple(ignored))


def enforced(found: Found) -> list[Policy]:
    return [p for p in found.policies if not p.report_only]
