"""Where a query came from: the frames of *user* code that led to it.

User code is everything outside the standard library, ``site-packages`` /
``dist-packages``, Django and this plugin. Frames of modules listed in
``queries.ignore_callers`` (test-data builders such as factory_boy) mark the
query as *ignored* for N+1 purposes: building test data in a loop is not an
N+1 in the code under test.

For async code, a query runs in asgiref's thread pool where no user frame
exists; the user frames captured when ``sync_to_async`` was called are used
instead (see :mod:`pytest_django_gates.queries.capture`).
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType

USER = 0
LIBRARY = 1
STOP = 2
IGNORED = 3  # a library frame of a module in ``queries.ignore_callers``
MAX_USER_FRAMES = 8

Frame = tuple[str, int, str]  # (filename, line, function)


@dataclass(frozen=True)
class Site:
    """The user-code call path of one query, innermost frame first."""

    frames: tuple[Frame, ...]
    entry: tuple[str, str] | None = None  # (module, function) the innermost user frame called
    template: tuple[str, int] | None = None  # (template name, line) being rendered
    template_loop: bool = False  # inside a {% for %} of that template
    ignored: bool = False

    @property
    def key(self) -> tuple[object, ...]:
        return (tuple((f[0], f[1]) for f in self.frames), self.template)

    @property
    def innermost(self) -> Frame | None:
        return self.frames[0] if self.frames else None


UNKNOWN_SITE = Site(frames=())

# Set by the sync_to_async wrapper: the caller's user frames, for queries that
# run in a thread-pool thread.
async_origin: ContextVar[Site | None] = ContextVar("django_gates_async_origin", default=None)


def _library_roots() -> tuple[str, ...]:
    roots: set[str] = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            roots.add(os.path.realpath(paths[key]))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        roots.add(os.path.realpath(os.path.join(prefix, "lib")))
    import pytest_django_gates

    roots.add(os.path.realpath(os.path.dirname(pytest_django_gates.__file__)))
    try:
        import django

        roots.add(os.path.realpath(os.path.dirname(django.__file__)))
    except ImportError:  # pragma: no cover - Django is a dependency
        pass
    return tuple(sorted(r + os.sep for r in roots))


class Classifier:
    """Classifies frames by file name, with a cache (the hot path of capture)."""

    def __init__(self, ignore_callers: Sequence[str] = ()) -> None:
        self._roots = _library_roots()
        self._stop_roots = tuple(
            os.path.realpath(os.path.dirname(m.__file__ or "")) + os.sep for m in _stop_modules()
        )
        import pytest_django_gates

        self._own_root = os.path.realpath(os.path.dirname(pytest_django_gates.__file__)) + os.sep
        self._ignore = tuple(ignore_callers)
        self._kinds: dict[str, int] = {}

    def kind(self, frame: FrameType) -> int:
        filename = frame.f_code.co_filename
        kind = self._kinds.get(filename)
        if kind is None:
            kind = self._classify(filename)
            if kind != STOP and self._ignore:
                module = str(frame.f_globals.get("__name__", ""))
                if any(module == p or module.startswith(p + ".") for p in self._ignore):
                    kind = IGNORED
            self._kinds[filename] = kind
        return kind

    def _classify(self, filename: str) -> int:
        if filename.startswith("<"):
            return LIBRARY
        real = os.path.realpath(filename)
        if real.startswith(self._stop_roots):
            return STOP
        if (
            real.startswith(self._roots)
            or f"{os.sep}site-packages{os.sep}" in real
            or f"{os.sep}dist-packages{os.sep}" in real
        ):
            return LIBRARY
        return USER

    def site(self, frame: FrameType | None) -> Site:
        """Walk from ``frame`` outwards and collect the user frames."""
        frames: list[Frame] = []
        entry: tuple[str, str] | None = None
        last_library: FrameType | None = None
        template: tuple[str, int] | None = None
        template_loop = False
        ignored = False
        kinds = self._kinds
        kind_of = self.kind
        f = frame
        while f is not None:
            code = f.f_code
            kind = kinds.get(code.co_filename)
            if kind is None:
                kind = kind_of(f)
            if kind == USER:
                if not frames and last_library is not None:
                    entry = (
                        str(last_library.f_globals.get("__name__", "")),
                        last_library.f_code.co_name,
                    )
                name = code.co_name
                if name.startswith("<") and f.f_back is not None and name != "<module>":
                    name = f"{f.f_back.f_code.co_name} ({name[1:-1]})"
                frames.append((code.co_filename, f.f_lineno, name))
                if len(frames) >= MAX_USER_FRAMES:
                    break
            elif kind == STOP:
                break
            elif not frames:
                if code.co_name == "thread_handler" and str(
                    f.f_globals.get("__name__", "")
                ).startswith("asgiref"):
                    # The sync half of sync_to_async: what lies beyond is the
                    # thread's own (blocked) caller, not the code that awaited.
                    origin = async_origin.get()
                    if origin is not None:
                        break
                if code.co_name != "manager_method" and not code.co_filename.startswith(
                    self._own_root
                ):
                    last_library = f
                if kind == IGNORED:
                    ignored = True
                name = code.co_name
                if name[0] == "r":
                    if name == "render_annotated" and template is None:
                        template = _template_position(f)
                    elif name == "render" and not template_loop:
                        template_loop = type(f.f_locals.get("self")).__name__ == "ForNode"
            f = f.f_back
        if not frames:
            origin = async_origin.get()
            if origin is not None:
                return Site(
                    frames=origin.frames,
                    entry=entry or origin.entry,
                    template=template,
                    template_loop=template_loop,
                    ignored=ignored or origin.ignored,
                )
        return Site(
            frames=tuple(frames),
            entry=entry,
            template=template,
            template_loop=template_loop,
            ignored=ignored,
        )


def _template_position(frame: FrameType) -> tuple[str, int] | None:
    """(template file, line) of the template node being rendered in ``frame``."""
    node = frame.f_locals.get("self")
    origin = getattr(node, "origin", None)
    token = getattr(node, "token", None)
    name = getattr(origin, "name", None) or getattr(origin, "template_name", None)
    line = getattr(token, "lineno", None)
    if name and isinstance(line, int):
        return (str(name), line)
    return None


def _stop_modules() -> list[ModuleType]:
    import _pytest
    import pluggy

    return [_pytest, pluggy]


def relative(filename: str, root: Path) -> str:
    """``filename`` relative to ``root`` (posix), or as given when outside it."""
    try:
        return Path(filename).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(filename).as_posix()
