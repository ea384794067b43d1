"""Where a query came from: the frames of *user* code that led to it.

User code is everything outside the standard library, ``site-packages`` /
``dist-packages``, Django and this plugin. User code is either *test code*
(files matching pytest's ``python_files`` patterns, ``conftest.py``, and every
file under a directory named ``tests`` or ``test`` inside the project) or the
*code under test* (the rest): the N+1 rules judge the code under test, so a
loop in a test is never what makes a query per row. Frames of modules listed in
``queries.ignore_callers`` (test-data builders such as factory_boy) mark the
query as *ignored* for N+1 purposes: building test data in a loop is not an
N+1 in the code under test. Nor do ``ContentType.objects.get_for_model()`` /
``get_for_models()`` / ``get_for_id()`` lookups: Django caches them per process,
so they run once per model type, not once per row.

Each write also says which call of the test it belongs to (:attr:`Site.call`):
the frame the innermost test frame called (the code under test, or the library
in between) is numbered the first time it is seen, so a test line in a loop
makes a new call on every iteration (``DJG108`` counts each call as one unit of
work). The last few such frames are kept alive while a recorder is active, so
that a finished call's frame id cannot be reused by the next one.

For async code, a query runs in asgiref's thread pool where no user frame
exists; the user frames captured when ``sync_to_async`` was called are used
instead (see :mod:`pytest_django_gates.queries.capture`).
"""

from __future__ import annotations

import fnmatch
import os
import sys
import sysconfig
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from types import CodeType, FrameType, ModuleType
from typing import Any

USER = 0
LIBRARY = 1
STOP = 2
IGNORED = 3  # a library frame of a module in ``queries.ignore_callers``
TEST = 4  # user code that is test code (a test module, conftest.py, a tests/ directory)
MAX_USER_FRAMES = 8
RECENT_CALLS = 8  # callee frames remembered to number the test's calls (see Site.call)
MAX_CODES = 100_000  # code objects whose walk facts are cached (see Classifier._code_info)

# The walk's facts of one code object, as bits of an int: its kind (the low bits), and
# for library code which special case of the walk it is.
_KIND_BITS = 0b111
_F_PLUMBING = 1 << 3  # this plugin's wrappers, or Django's manager_method: not a caller
_F_ORM = 1 << 4  # inside django.db
_F_DJANGO = 1 << 5  # inside Django
_F_THREAD = 1 << 6  # asgiref's thread_handler (the sync half of sync_to_async)
_F_CACHED = 1 << 7  # a ContentType lookup answered from Django's per-process cache
_F_RENDER_NODE = 1 << 8  # a function named render_annotated (a template node)
_F_RENDER = 1 << 9  # a function named render
_F_TEMPLATE = _F_RENDER_NODE | _F_RENDER

Frame = tuple[str, int, str]  # (filename, line, function)


# Set on a Site by queries.capture: the number of its call path in the running recordings.
PATH_ID = "_path_id"
_PROCESS_LOCAL = frozenset({"_hash", PATH_ID})


@dataclass(frozen=True)
class Site:
    """The user-code call path of one query, innermost frame first."""

    frames: tuple[Frame, ...]
    entry: tuple[str, str] | None = None  # (module, function) the innermost user frame called
    template: tuple[str, int] | None = None  # (template name, line) being rendered
    template_loop: bool = False  # inside a {% for %} of that template
    ignored: bool = False
    # Parallel to ``frames``: True for test code (see the module docstring).
    tests: tuple[bool, ...] = ()
    # Parallel to ``frames``: (code object, last instruction) to find the column later.
    spots: tuple[tuple[CodeType, int], ...] = ()
    # User frames between the query and the template being rendered (0: the template
    # itself ran the query; 1: a model method it called, ``{{ shop }}`` -> ``__str__``).
    template_depth: int = 0
    # The first frame outside Django on the way out is test code: the test's own line
    # ran the query (``book.author`` written in the test), not the code under test.
    direct_test: bool = False
    # Which call the innermost test frame made (0: no test frame on the path, or not
    # asked for: only writes are numbered): the frame it called (the code under test,
    # or the library in between) numbered in the order first seen. Three calls from
    # one test line in a loop are three calls.
    call: int = 0
    # The first frame outside Django's ORM (``django.db``) on the way out, when it is a
    # library's (file, line): which call ran the query when no code under test stands
    # between (the auth middleware loading ``request.user`` and a generic view's
    # ``get_object()``, both under one middleware line). None when the innermost user
    # frame ran the query itself.
    caller: tuple[str, int] | None = None

    def __hash__(self) -> int:
        # Computed once: a Site is a dict key on the hot path (the judged statements,
        # the shared objects) and hashing its spots hashes code objects.
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash(tuple(getattr(self, f.name) for f in fields(self)))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __getstate__(self) -> dict[str, object]:
        # String hashes differ between processes: a copy computes its own. The number
        # of its call path (PATH_ID, see queries.capture) is the recording process's.
        return {k: v for k, v in self.__dict__.items() if k not in _PROCESS_LOCAL}

    @property
    def key(self) -> tuple[object, ...]:
        """The call path as findings group it: the user frames (file and line), the
        template line, and the library call that ran the query (:attr:`caller`): two
        library calls under one user line are two statements, as two lines are."""
        return (tuple((f[0], f[1]) for f in self.frames), self.template, self.caller)

    @property
    def innermost(self) -> Frame | None:
        return self.frames[0] if self.frames else None

    @property
    def innermost_code(self) -> Frame | None:
        """The innermost frame of the code under test (not test code), if any."""
        for f, t in self._pairs():
            if not t:
                return f
        return None

    @property
    def shown(self) -> Frame | None:
        """The frame a finding points at: the innermost of the code under test, else the
        innermost user frame (a test's own line)."""
        return self.innermost_code or self.innermost

    def _pairs(self) -> Iterator[tuple[Frame, bool]]:
        tests = self.tests or (False,) * len(self.frames)
        return zip(self.frames, tests, strict=True)

    def all_spots(self) -> Iterator[tuple[Frame, bool, CodeType | None, int]]:
        """Each user frame: is it test code, its code object and its last instruction."""
        no_spot: tuple[CodeType | None, int] = (None, -1)
        spots: tuple[tuple[CodeType | None, int], ...] = self.spots or (no_spot,) * len(self.frames)
        for (frame, is_test), (code, lasti) in zip(self._pairs(), spots, strict=True):
            yield frame, is_test, code, lasti

    def code_spots(self) -> Iterator[tuple[Frame, CodeType | None, int]]:
        """Each frame of the code under test with its code object and instruction."""
        for frame, is_test, code, lasti in self.all_spots():
            if not is_test:
                yield frame, code, lasti


UNKNOWN_SITE = Site(frames=())
# Where ``spots`` stands among Site's fields: the one field a walk's key replaces by
# code ids (see Classifier._shared_site).
_SPOTS_AT = [f.name for f in fields(Site)].index("spots")

# ContentTypeManager methods that answer from a per-process cache after one query.
_CACHED_LOOKUPS = frozenset({"get_for_model", "get_for_models", "get_for_id"})

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

    def __init__(
        self,
        ignore_callers: Sequence[str] = (),
        test_files: Sequence[str] = ("test_*.py", "*_test.py"),
        root: Path | None = None,
    ) -> None:
        self._test_files = (*test_files, "conftest.py")
        self._project_root = os.path.realpath(root) + os.sep if root is not None else None
        self._roots = _library_roots()
        self._stop_roots = tuple(
            os.path.realpath(os.path.dirname(m.__file__ or "")) + os.sep for m in _stop_modules()
        )
        import pytest_django_gates

        self._own_root = os.path.realpath(os.path.dirname(pytest_django_gates.__file__)) + os.sep
        self._django_root = _django_root()
        self._orm_root = self._django_root + "db" + os.sep
        self._ignore = tuple(ignore_callers)
        self._kinds: dict[str, int] = {}
        # The test's latest callees, most recent first, with their call numbers: a frame
        # is kept (alive) here so that a new call cannot reuse its id (see call_of).
        self._callees: list[tuple[FrameType, int]] = []
        self._calls = 0
        # By id(): hashing a code object hashes its constants, nested code included
        # (18 us for a module's); the list keeps each code alive, so its id stays its own.
        self._codes: dict[int, int] = {}
        self._code_refs: list[CodeType] = []
        # The call paths seen since forget_sites(), by their field values with each code
        # object's id for the object (the Site keeps the code alive; see walk()).
        self._sites: dict[tuple[Any, ...], Site] = {}

    def call_of(self, callee: FrameType) -> int:
        """The number of the call whose frame is ``callee``: the same while that call
        runs (also when a generator is resumed), a new one for each new call."""
        recent = self._callees
        for i, (frame, number) in enumerate(recent):
            if frame is callee:
                if i:
                    recent.insert(0, recent.pop(i))
                return number
        self._calls += 1
        recent.insert(0, (callee, self._calls))
        del recent[RECENT_CALLS:]
        return self._calls

    def forget_calls(self) -> None:
        """Let the remembered callee frames go (when no recorder is active)."""
        self._callees.clear()

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
        return TEST if self._is_test_file(real) else USER

    def _is_test_file(self, real: str) -> bool:
        name = os.path.basename(real)
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in self._test_files):
            return True
        inside = real
        if self._project_root is not None and real.startswith(self._project_root):
            inside = real[len(self._project_root) :]
        parts = inside.split(os.sep)[:-1]
        return "tests" in parts or "test" in parts

    def _code_info(self, frame: FrameType) -> int:
        """What the walk needs to know of a frame's code object, as bits (see ``_F_*``):
        its kind, and for library code which of the walk's special cases it is. Cached
        per code object: a function's file, name and module do not change."""
        code = frame.f_code
        kind = self.kind(frame)
        info = kind
        if kind not in (USER, TEST, STOP):
            filename = code.co_filename
            name = code.co_name
            module = str(frame.f_globals.get("__name__", ""))
            if name == "manager_method" or filename.startswith(self._own_root):
                info |= _F_PLUMBING
            if filename.startswith(self._orm_root):
                info |= _F_ORM
            if filename.startswith(self._django_root):
                info |= _F_DJANGO
            if name == "thread_handler" and module.startswith("asgiref"):
                info |= _F_THREAD
            if name in _CACHED_LOOKUPS and module == "django.contrib.contenttypes.models":
                info |= _F_CACHED
            if name == "render_annotated":
                info |= _F_RENDER_NODE
            elif name == "render":
                info |= _F_RENDER
        if len(self._codes) >= MAX_CODES:
            self._codes.clear()
            self._code_refs.clear()
        self._codes[id(code)] = info
        self._code_refs.append(code)
        return info

    def file_kind(self, filename: str) -> int:
        """The kind of a file's code (USER, TEST, LIBRARY, STOP), by its name alone."""
        kind = self._kinds.get(filename)
        return kind if kind is not None else self._classify(filename)

    def in_orm(self, frame: FrameType) -> bool:
        """``frame`` runs Django's ORM (``django.db``) or plumbing (this plugin's wrappers,
        a manager's proxy method): not the caller of a query or queryset by itself."""
        info = self._codes.get(id(frame.f_code))
        if info is None:
            info = self._code_info(frame)
        return bool(info & (_F_ORM | _F_PLUMBING))

    def forget_sites(self) -> None:
        """Let the call paths seen so far go (when no recorder is active)."""
        self._sites.clear()

    def _shared_site(self, values: tuple[Any, ...], ids: tuple[Any, ...]) -> tuple[Site, bool]:
        """The one :class:`Site` of these field values (in Site's field order) since
        :meth:`forget_sites`, and whether this call made it. ``ids``: the (id(code),
        instruction) pairs of its spots, which stand for them in the key."""
        key = (*values[:_SPOTS_AT], ids, *values[_SPOTS_AT + 1 :])
        site = self._sites.get(key)
        if site is not None:
            return site, False
        site = Site(*values)
        return self._sites.setdefault(key, site), True

    def site(self, frame: FrameType | None, *, calls: bool = False) -> Site:
        """The call path of a query run in ``frame`` (see :meth:`walk`)."""
        return self.walk(frame, calls=calls)[0]

    def walk(self, frame: FrameType | None, *, calls: bool = False) -> tuple[Site, bool]:
        """Walk from ``frame`` outwards and collect the user frames; ``calls``: number
        the test's call too (:attr:`Site.call`, for writes: the only rule that uses it).

        Equal call paths give the same :class:`Site` object until :meth:`forget_sites`,
        and the second value says whether this walk was the first to see it: the
        recorder keeps one object per path, not one per query."""
        frames: list[Frame] = []
        tests: list[bool] = []
        spots: list[tuple[CodeType, int]] = []
        spot_ids: list[tuple[int, int]] = []
        entry: tuple[str, str] | None = None
        last_library: FrameType | None = None
        template: tuple[str, int] | None = None
        template_depth = 0
        template_loop = False
        ignored = False
        direct_test = False
        foreign = False  # a library frame other than Django's (or this plugin's) was seen
        call = 0
        caller: tuple[str, int] | None = None
        codes = self._codes
        code_info = self._code_info
        f = frame
        inner: FrameType | None = None  # the frame visited before ``f`` (called by it)
        while f is not None:
            code = f.f_code
            info = codes.get(id(code))
            if info is None:
                info = code_info(f)
            kind = info & _KIND_BITS
            if kind in (USER, TEST):
                if calls and kind == TEST and not call and inner is not None:
                    call = self.call_of(inner)
                if not frames:
                    direct_test = kind == TEST and not foreign
                    if last_library is not None:
                        entry = (
                            str(last_library.f_globals.get("__name__", "")),
                            last_library.f_code.co_name,
                        )
                name = code.co_name
                if name.startswith("<") and f.f_back is not None and name != "<module>":
                    name = f"{f.f_back.f_code.co_name} ({name[1:-1]})"
                frames.append((code.co_filename, f.f_lineno, name))
                tests.append(kind == TEST)
                lasti = f.f_lasti
                spots.append((code, lasti))
                spot_ids.append((id(code), lasti))
                if len(frames) >= MAX_USER_FRAMES:
                    break
            elif kind == STOP:
                break
            elif tests and tests[-1]:
                # Out of the test's own frames into its runner (unittest, pytest-django):
                # nothing beyond says more about the query.
                break
            else:
                if not frames:
                    if info & _F_THREAD and async_origin.get() is not None:
                        # The sync half of sync_to_async: what lies beyond is the
                        # thread's own (blocked) caller, not the code that awaited.
                        break
                    if not info & _F_PLUMBING:
                        last_library = f
                        if caller is None and not info & _F_ORM:
                            caller = (code.co_filename, f.f_lineno)
                        if not info & _F_DJANGO:
                            foreign = True
                    if kind == IGNORED or info & _F_CACHED:
                        # ContentType lookups are cached per process and model: a
                        # query per model type on a cold cache, never one per row.
                        ignored = True
                # Template rendering, also beyond a model method it called per row
                # ({{ shop }} -> Shop.__str__ reading self.owner).
                if info & _F_TEMPLATE and not template_loop:
                    if info & _F_RENDER_NODE:
                        if template is None:
                            template = _template_position(f)
                            template_depth = len(frames)
                    elif template is not None:
                        template_loop = type(f.f_locals.get("self")).__name__ == "ForNode"
            inner = f
            f = f.f_back
        if not frames:
            origin = async_origin.get()
            if origin is not None:
                return self._shared_site(
                    (
                        origin.frames,
                        entry or origin.entry,
                        template,
                        template_loop,
                        ignored or origin.ignored,
                        origin.tests,
                        origin.spots,
                        template_depth,
                        origin.direct_test,
                        origin.call,
                        None,
                    ),
                    tuple((id(code), lasti) for code, lasti in origin.spots),
                )
        return self._shared_site(
            (
                tuple(frames),
                entry,
                template,
                template_loop,
                ignored,
                tuple(tests),
                tuple(spots),
                template_depth,
                direct_test,
                call,
                caller,
            ),
            tuple(spot_ids),
        )


def _django_root() -> str:
    try:
        import django
    except ImportError:  # pragma: no cover - Django is a dependency
        return "\0"
    return os.path.dirname(django.__file__) + os.sep


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


@lru_cache(maxsize=4096)
def relative(filename: str, root: Path) -> str:
    """``filename`` relative to ``root`` (posix), or as given when outside it. Cached:
    resolving asks the file system for every component of the path, and every finding
    and written statement names the few files of its call path again."""
    try:
        return Path(filename).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(filename).as_posix()
