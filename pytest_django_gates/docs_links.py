"""Where each finding code is explained: the documentation site and its code pages.

Every code a gate reports has a heading on its gate's code page
(``docs/codes/<page>.md``), and the heading is the code itself, so the anchor is
predictable: the code lower-cased, with each run of other characters turned into
one ``-`` (``DJG201`` -> ``codes/migrations/#djg201``, ``tests:failed`` ->
``codes/tests/#tests-failed``, ``security.W018`` -> ``codes/deploy/#security-w018``).

The ``DJG12x`` codes of the indexes gate have a page of their own, beside the
other ``DJG1xx`` codes of the query gate. Codes that are one family share one
section: every ``gitleaks:<rule id>``, every ``pip-audit:<advisory id>``, every
``mypy:<error code>`` but ``misc`` and ``note``, and Django's system check ids
other than ``security.*``. ruff's rule codes (``ruff:F401``) have no page here:
ruff gives each finding the URL of its rule, which the finding's hint carries
(``see https://docs.astral.sh/ruff/rules/...``).
"""

from __future__ import annotations

import re

DOCS_URL = "https://pytest-django-gates.github.io/pytest-django-gates/"

# DJG codes by prefix; the longest matching prefix wins.
_DJG_PAGES: dict[str, str] = {
    "DJG1": "queries",
    "DJG12": "indexes",
    "DJG2": "migrations",
    "DJG3": "deploy",
    "DJG4": "coverage",
}
_DJG = re.compile(r"^DJG\d{3}$")
# A Django system check id: ``security.W004``, ``models.W042``, ``caches.E001``.
_DJANGO_CHECK = re.compile(r"^[a-z_]+\.[CEWI]\d{3}$")
# ``<tool>:<name>`` codes: the names with a section of their own, and the section
# shared by the rest of the family (None: the rest has no page). Every ``tests:`` code
# has its own section.
_OWN: dict[str, frozenset[str]] = {
    "ruff": frozenset({"invalid-syntax"}),
    "mypy": frozenset({"misc", "note"}),
    "gitleaks": frozenset(),
    "pip-audit": frozenset({"unaudited", "unused-ignore"}),
}
_FAMILY: dict[str, str | None] = {
    "ruff": None,
    "mypy": "mypy-error-code",
    "gitleaks": "gitleaks-rule-id",
    "pip-audit": "pip-audit-advisory-id",
}
DJANGO_CHECKS_ANCHOR = "django-check-ids"


def anchor(code: str) -> str:
    """The anchor of ``code``'s heading: ``tests:failed`` -> ``tests-failed``."""
    return re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")


def locate(code: str) -> tuple[str, str] | None:
    """``(page, anchor)`` of the section that explains ``code``, or None when there is none.

    ``page`` is the page's path under ``docs/`` without ``.md`` (``codes/migrations``).
    """
    if _DJG.match(code):
        prefixes = [p for p in _DJG_PAGES if code.startswith(p)]
        if not prefixes:
            return None
        return f"codes/{_DJG_PAGES[max(prefixes, key=len)]}", anchor(code)
    if _DJANGO_CHECK.match(code):
        own = code.startswith("security.")
        return "codes/deploy", anchor(code) if own else DJANGO_CHECKS_ANCHOR
    tool, colon, name = code.partition(":")
    if not colon or not name:
        return None
    if tool == "tests":
        return "codes/tests", anchor(code)
    if tool not in _OWN:
        return None
    if name in _OWN[tool]:
        return f"codes/{tool}", anchor(code)
    family = _FAMILY[tool]
    return (f"codes/{tool}", family) if family else None


def code_url(code: str) -> str | None:
    """The URL of the documentation of ``code`` (page and anchor), or None if it has none."""
    where = locate(code)
    if where is None:
        return None
    page, fragment = where
    return f"{DOCS_URL}{page}/#{fragment}"
