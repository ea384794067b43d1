"""``--gates-report PATH`` with a space: a value pytest also read as a test path.

pytest finds its rootdir and configuration file (pytest.ini, pyproject.toml, ...)
*before* it loads plugins, so at that moment it does not know that an option of
this plugin takes a value: in ``pytest --django-gates --gates-report
/tmp/out/report.json`` it takes ``/tmp/out/report.json`` for a test path. A path
that does not exist is ignored, so the first run is fine; on the next run the
report exists, the search for the configuration starts from the common ancestor
of the "test paths" (``/tmp/out``) instead of the project, and the project's
configuration is silently not used: no ``DJANGO_SETTINGS_MODULE``, no
``[tool.django-gates]``, gates that error for reasons that have nothing to do
with the cause. Later, with the options known, the value is parsed as the
option's value again; it is never collected as a test. ``--gates-report=PATH``
(one word) never has the problem.

:func:`misread_value` finds that case so that ``pytest --django-gates`` stops with
a usage error naming the option and the ``=`` form: a value option of this plugin
written as two words on the command line or in ``PYTEST_ADDOPTS`` (the ini file's
``addopts`` are read after the configuration was found) whose value exists and
moved the search to a directory whose nearest configuration file is not the one
the search would have found without it. With ``-c FILE`` or ``--rootdir`` the
search does not depend on test paths, and nothing is checked.
"""

from __future__ import annotations

import itertools
import os
import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from pytest_django_gates.options import OPTIONS

# The files pytest's configuration search looks at (and the pyproject.toml this
# plugin reads its configuration from).
CONFIG_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


def misread_value(config: pytest.Config) -> str:
    """The usage error for a value that moved pytest's configuration search, or ""."""
    namespace = config.known_args_namespace
    if getattr(namespace, "inifilename", None) or getattr(namespace, "rootdir", None):
        return ""
    words = [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *config.invocation_params.args]
    invocation = Path(config.invocation_params.dir)
    given = [str(a) for a in getattr(namespace, "file_or_dir", None) or () if str(a) in words]
    start = _common_ancestor(invocation, given)
    expected = _nearest_config(start)
    if expected is None:
        return ""
    valued = {opt.cli for opt in OPTIONS.values() if opt.cli and opt.kind != "bool"}
    for option, value in itertools.pairwise(words):
        if option not in valued or not _existing(invocation, value):
            continue
        searched = _common_ancestor(invocation, [*given, value])
        if _nearest_config(searched) == expected:
            continue
        return (
            f"pytest took the value of '{option} {value}' for a test path too, while it "
            "looked for its configuration (it does that before it knows this plugin's "
            f"options): it looked from {searched} instead of {start}, and {expected} was not "
            f"used. Write the value in one word: {option}={shlex.quote(value)}"
        )
    return ""


def _existing(invocation: Path, arg: str) -> Path | None:
    """``arg`` as pytest's search sees it: a path that exists, without ``::test``."""
    if arg.startswith("-"):
        return None
    path = invocation / arg.split("::", 1)[0]
    try:
        return path.resolve() if path.exists() else None
    except OSError:
        return None


def _common_ancestor(invocation: Path, args: Sequence[str]) -> Path:
    """Where pytest starts the search: the common directory of the existing paths in
    ``args``, else the invocation directory."""
    paths = [p for p in (_existing(invocation, a) for a in args) if p is not None]
    if not paths:
        return invocation.resolve()
    dirs = [p if p.is_dir() else p.parent for p in paths]
    return Path(os.path.commonpath([str(d) for d in dirs]))


def _nearest_config(start: Path) -> Path | None:
    """The first configuration file in ``start`` or the nearest directory above it."""
    for directory in _upwards(start):
        for name in CONFIG_FILES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def _upwards(start: Path) -> Iterable[Path]:
    yield start
    yield from start.parents
