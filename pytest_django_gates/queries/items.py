"""What the loop that repeats a query walks: rows of a query, or items of the input.

A statement repeated once per row of a table is an N+1 (``DJG101``): it grows with
the database. One repeated once per item of the *input* (the lines of an imported
file, the nested items of one request body, the recipients of one email, the answers
typed at a prompt) grows with the size of that one request or file instead: worth
batching, but not the N+1 a failing test announces (``DJG110``, a warning by default).

:func:`judge` looks at the frames of a query while it runs, from the query outwards
to the test runner (the test's own loops are never judged: the gate judges the code
under test): the code under test, and the libraries it called (a serializer library that
resolves each primary key of a request body; not the standard library, not Django
outside ``django.contrib`` and ``django.forms``, not asgiref). For each loop whose
iteration runs the frame's line (:func:`pytest_django_gates.queries.loops.enclosing`),
innermost first:

* the loop walks **rows** when it iterates a query written inline
  (``for book in Book.objects.filter(...)``) or a queryset or manager held in a name,
  or when the value bound per iteration is (or holds) a model instance read from the
  database, or a value a ``values()`` / ``values_list()`` query of this test fetched
  (``for pk in Book.objects.values_list("pk", flat=True)`` handed on as a list): that
  very object, not an equal one (:class:`FetchedValues`); a dict counts when it holds
  a row of a multi-row queryset (a context built per row), not any saved instance (a
  request body's nested items hold instances looked up one by one); so does a
  dataclass record, and either one holding an object reached from such a row by a
  relation loaded lazily or by ``select_related`` (a participant built per
  participation row, holding its user: ``REACHED_FLAG``);
* in the code under test (not a library's loop), the loop also walks **rows** when a
  name its body assigns holds, as the query runs, a row of a multi-row queryset: the
  loop walks keys (uuids, names) and looks each row up in a dict built from a query
  (``qualification = by_uuid[uuid]`` over the nodes of a graph of the table's rows).
  A row a get looked up per item (``tag = Tag.objects.get(name=line)``) is not one,
  and neither are a library's loops (a model formset saving ``obj = form.instance``
  per posted form walks the forms of the request);
* a ``while`` loop, and a ``for`` whose values are anything else (strings, numbers
  no query fetched, dicts, objects being built), walks **input**;
* a loop over a collection written in the code (``for kind in ("a", "b")``, not one
  written with unpacking: ``[*imported, *existing]``) is skipped: it repeats a fixed
  number of times; so is a loop over functions (``for
  checker in self.get_checkers(): checker(shift, participant)``): each iteration calls
  another function, so it walks code, not data, and does not repeat one call path (a
  method bound to a row walks that row).

Any loop of rows makes the whole repetition one per row (a loop over input inside a
loop over rows still grows with the rows). With no loop found on the way, the
innermost frame of the code under test is looked at: an argument holding a row (a
serializer method called per row by a library, ``get_author(self, obj)``) makes it
rows. An argument that is the very queryset being evaluated, in a function a library
called (a JSON encoder's ``default(self, o)`` meeting the ``added`` and ``removed``
querysets of a change log's data), makes it input: the library walks values the code
built, one evaluation per queryset, and no row is on the way. Otherwise nothing is
known, and the query is judged as before (``DJG101``).

Only called for a call path the recording has already seen (a repetition), a few
times per statement of that call path (one line can run several: two relations
read on one line): its first two repetitions, then the 4th, 8th, 16th...
until one finds rows (see ``capture._judged``): reading frame locals costs more than
the rest of a query's capture.
"""

from __future__ import annotations

import itertools
import os
import sys
import sysconfig
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from functools import lru_cache
from types import BuiltinFunctionType, CodeType, FrameType, FunctionType, MethodType
from typing import Any

from pytest_django_gates.queries import loops
from pytest_django_gates.queries.stack import LIBRARY, STOP, TEST, USER

MAX_FRAMES = 40  # frames looked at from the query outwards
# On ``instance._state``: the id of the multi-row queryset evaluation the instance came
# from (set by :mod:`pytest_django_gates.queries.capture`); absent or 0: not from one.
MULTI_FLAG = "_django_gates_multi"
# On ``instance._state``: the multi-row evaluation whose row the instance was reached
# from by a lazily loaded forward or one-to-one relation (``participation.user``).
REACHED_FLAG = "_django_gates_reached"
# Comprehensions have frames of their own (inlined from Python 3.12 on, PEP 709).
_OWN_FRAMES = sys.version_info < (3, 12)
WHILE_LOOP = "a while loop"
_SCALARS = frozenset({str, bytes, int, float})
_CODE = frozenset({FunctionType, MethodType, BuiltinFunctionType})


class FetchedValues:
    """The values ``values()`` / ``values_list()`` queries returned, kept by identity.

    A loop over the very objects a query returned (``pks = list(qs.values_list("pk",
    flat=True))`` handed on) walks rows; a loop over equal values that came from
    elsewhere (the codenames a form posted, which match the table's by construction)
    walks input. Holding each object keeps its ``id()`` unique while it is held. Small
    integers are shared objects in CPython, so for them identity is equality, as before.
    """

    __slots__ = ("_by_id",)

    def __init__(self) -> None:
        self._by_id: dict[int, object] = {}

    def add(self, value: object) -> None:
        self._by_id[id(value)] = value

    def __contains__(self, value: object) -> bool:
        return self._by_id.get(id(value), _ABSENT) is value

    def __len__(self) -> int:
        return len(self._by_id)

    def clear(self) -> None:
        self._by_id.clear()


_ABSENT = object()


@dataclass(frozen=True)
class LoopItems:
    """The verdict on one repetition's loop: rows or input, what it walked, and where."""

    rows: bool
    what: str  # "str values", "dict values", "a while loop", "Book rows"...
    path: str  # the file of the loop
    line: int  # its first line


# Django's packages whose loops are judged: django.contrib (the admin's change list walks
# its rows) and django.forms (a formset validates each posted form: its hidden id field
# looks each one up; a form cleans each of its fields).
_JUDGED_DJANGO = frozenset({"contrib", "forms"})


@lru_cache(maxsize=1)
def _skipped_roots() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the standard library's roots, the packages' roots) whose loops are never judged:
    Django outside ``django.contrib`` and ``django.forms``, asgiref and this plugin."""
    paths = sysconfig.get_paths()
    stdlib = tuple(
        os.path.realpath(paths[key]) + os.sep for key in ("stdlib", "platstdlib") if paths.get(key)
    )
    import pytest_django_gates

    packages = [os.path.dirname(os.path.realpath(pytest_django_gates.__file__)) + os.sep]
    try:
        import asgiref
        import django
    except ImportError:  # pragma: no cover - both are dependencies
        return stdlib, tuple(packages)
    packages.append(os.path.dirname(os.path.realpath(asgiref.__file__)) + os.sep)
    django_root = os.path.dirname(os.path.realpath(django.__file__)) + os.sep
    packages += [
        django_root + name for name in os.listdir(django_root) if name not in _JUDGED_DJANGO
    ]
    return stdlib, tuple(sorted(packages))


@lru_cache(maxsize=2048)
def _judged_library(filename: str) -> bool:
    """A library frame whose loops are judged: a third-party package, or
    ``django.contrib`` and ``django.forms`` (see :data:`_JUDGED_DJANGO`)."""
    if filename.startswith("<"):
        return False
    real = os.path.realpath(filename)
    stdlib, packages = _skipped_roots()
    if real.startswith(packages):
        return False
    packaged = f"{os.sep}site-packages{os.sep}" in real or f"{os.sep}dist-packages{os.sep}" in real
    return packaged or not real.startswith(stdlib)


def _model_base() -> tuple[type[Any], type[Any], type[Any]]:
    from django.db.models import Manager, Model, QuerySet

    return Model, QuerySet, Manager


def _value_rows(value: Any, fetched: Container[object], depth: int = 0) -> bool:
    """The value bound per iteration is, or holds, a row read from the database.

    Judged by ``type(value)`` only, never ``isinstance`` or ``==``: a lazy object
    (``request.user``) answers those by evaluating itself, which would run queries."""
    model, queryset, manager = _model_base()
    kind = type(value)
    if issubclass(kind, model):
        state = value.__dict__.get("_state")
        return state is not None and not getattr(state, "adding", True)
    if issubclass(kind, (queryset, manager)):
        return True
    if depth == 0 and kind in _SCALARS:
        # The very object a values() / values_list() query returned (FetchedValues:
        # by identity); not inside a tuple: the rows of a dataset or a CSV file hold
        # ids that rows of a table have too.
        return value in fetched
    if depth == 0 and kind in (tuple, list):
        return any(_value_rows(v, fetched, 1) for v in value[:4])
    if depth == 0 and (kind is dict or hasattr(kind, "__dataclass_fields__")):
        # A record built per row: a context dict (``{"submission": submission, "user":
        # user}`` for each submission of a queryset) or a dataclass (a participant built
        # per participation, holding its user) holding a row of a multi-row queryset,
        # or an object reached from one. Not any saved instance: a request body's
        # nested items hold instances a serializer looked up one by one, and those are
        # still input.
        fields = value if kind is dict else getattr(value, "__dict__", None) or {}
        return any(_multi_row(v, model, reached=True) for v in itertools.islice(fields.values(), 8))
    return False


def _multi_row(value: Any, model: type[Any], *, reached: bool = False) -> bool:
    """``value`` is a model instance that came from a multi-row queryset; ``reached``:
    or one reached from such a row by a relation (``REACHED_FLAG``)."""
    if not issubclass(type(value), model):
        return False
    state = value.__dict__.get("_state")
    return bool(getattr(state, MULTI_FLAG, 0) or (reached and getattr(state, REACHED_FLAG, 0)))


def _describe(value: Any) -> str:
    model, _, _ = _model_base()
    if issubclass(type(value), model):
        return f"unsaved {type(value).__name__} objects"
    return f"{type(value).__name__} values"


def _judge_head(
    head: loops.LoopHead, frame: FrameType, fetched: Container[object], user: bool = False
) -> str | None:
    """ "rows", an input description, or None (nothing bound that tells). ``user``: the
    frame is the code under test's, where a row its body looks up counts too."""
    if head.fixed:
        return None
    if head.kind == "while":
        return WHILE_LOOP
    if head.iter_query:
        return "rows"
    names = frame.f_locals
    _, queryset, manager = _model_base()
    if head.iter_name and issubclass(type(names.get(head.iter_name)), (queryset, manager)):
        return "rows"
    bound = [names[n] for n in head.targets if n in names]
    if user and head.assigned:
        # What the body looks up per iteration: ``qualification = by_uuid[uuid]`` in a
        # loop over the keys of a graph built from the rows. A row of a multi-row
        # queryset (not one looked up by a get per item: ``tag = Tag.objects.get(...)``).
        model, _, _ = _model_base()
        if any(_multi_row(names.get(n), model) for n in head.assigned):
            return "rows"
    if not bound:
        return None
    if any(_value_rows(v, fetched) for v in bound):
        return "rows"
    if all(type(v) in _CODE for v in bound):
        # A loop over functions (``for checker in self.get_checkers(): checker(...)``)
        # calls another function each time: it walks code, not data, and does not
        # repeat one call path. A method bound to a row walks that row.
        selves = [v.__self__ for v in bound if type(v) is MethodType]
        return "rows" if any(_value_rows(v, fetched) for v in selves) else None
    return _describe(bound[-1])


def _arguments(frame: FrameType) -> Iterator[tuple[str, Any]]:
    """The names and values of the arguments of the function ``frame`` runs."""
    code = frame.f_code
    names = frame.f_locals
    for name in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
        yield name, names.get(name)


def _arguments_hold_rows(frame: FrameType, fetched: Container[object]) -> bool:
    model, _, _ = _model_base()
    return any(
        name != "self" and issubclass(type(value), model) and _value_rows(value, fetched)
        for name, value in _arguments(frame)
    )


# The loops that repeat the instruction a frame runs, by (id(code), instruction): they
# depend on the code object and the instruction alone, and a suite runs the same frames
# of a library over and over. The code is kept in the value, so that its id stays its own.
_heads: dict[tuple[int, int], tuple[CodeType, tuple[loops.LoopHead, ...]]] = {}
MAX_HEADS = 50_000


def _heads_at(frame: FrameType, kind: int) -> tuple[loops.LoopHead, ...]:
    """The loops whose iteration runs the instruction ``frame`` is at, innermost first:
    none for a library whose loops are not judged (see :func:`_judged_library`)."""
    code = frame.f_code
    filename = code.co_filename
    heads: tuple[loops.LoopHead, ...] = ()
    if kind == USER or _judged_library(filename):
        line = frame.f_lineno
        heads = loops.enclosing(filename, line)
        if heads and not loops.repeats(filename, line, code, frame.f_lasti):
            # The running instruction is not one a loop repeats: a comprehension's first
            # iterable being evaluated (``{str(o.pk) for o in qs}`` runs qs's query once),
            # a ``for`` header fetching its rows.
            heads = ()
        elif heads and _OWN_FRAMES and code.co_name not in loops.COMPREHENSION_FRAMES:
            # Before Python 3.12 a comprehension runs its elements in a frame of its own:
            # the frame around it only evaluates its first iterable (3.10 has no columns
            # to tell that from).
            heads = tuple(head for head in heads if not head.comprehension)
    if len(_heads) >= MAX_HEADS:
        _heads.clear()
    _heads[id(code), frame.f_lasti] = (code, heads)
    return heads


def judge(
    frame: FrameType | None,
    kind_of: Callable[[FrameType], int],
    fetched: Container[object],
    query: object = None,
) -> LoopItems | None:
    """What the loops around ``frame`` (a query running) walk; see the module docstring.
    ``kind_of`` classifies a frame (:meth:`pytest_django_gates.queries.stack.Classifier.kind`);
    ``fetched`` holds the values ``values()`` / ``values_list()`` queries returned;
    ``query`` is the ORM ``Query`` being executed (None: a raw statement)."""
    found: LoopItems | None = None  # the innermost loop of input of the code under test
    library: LoopItems | None = None  # else, of a library
    innermost_code: FrameType | None = None
    f = frame
    for _ in range(MAX_FRAMES):
        if f is None:
            break
        kind = kind_of(f)
        if kind == STOP:
            break
        if kind == TEST:
            # The test's own loops are never judged; a test function a library calls
            # per item (an override of a serializer's hook) sits inside the library's.
            f = f.f_back
            continue
        if kind == USER and innermost_code is None:
            innermost_code = f
        if kind in (USER, LIBRARY):
            code = f.f_code
            known = _heads.get((id(code), f.f_lasti))
            heads = known[1] if known is not None else _heads_at(f, kind)
            filename = code.co_filename
            for head in heads:
                verdict = _judge_head(head, f, fetched, kind == USER)
                if verdict == "rows":
                    return LoopItems(True, "rows", filename, head.line)
                if verdict is None:
                    continue
                if kind == USER and found is None:
                    found = LoopItems(False, verdict, filename, head.line)
                elif library is None:
                    library = LoopItems(False, verdict, filename, head.line)
        f = f.f_back
    if found is not None or library is not None:
        return found or library
    if innermost_code is not None and _arguments_hold_rows(innermost_code, fetched):
        code = innermost_code.f_code
        return LoopItems(True, "rows", code.co_filename, code.co_firstlineno)
    if innermost_code is not None and query is not None:
        return _querysets_handed_in(innermost_code, kind_of, query)
    return None


def _querysets_handed_in(
    frame: FrameType, kind_of: Callable[[FrameType], int], query: object
) -> LoopItems | None:
    """A library called the code with a queryset the code evaluates, the query running
    now (a JSON encoder's ``default(self, o)`` iterating each queryset it meets in the
    data): what repeats is the library's walk over values the code built (a dict of
    ``added`` / ``removed`` querysets), one evaluation per queryset, not a query per
    row of a table. Input (``DJG110``): no row is on the way."""
    caller = frame.f_back
    if caller is None or kind_of(caller) != LIBRARY:
        return None
    _model, queryset, _manager = _model_base()
    for _name, value in _arguments(frame):
        if issubclass(type(value), queryset) and value.query is query:
            return LoopItems(False, "QuerySet values", caller.f_code.co_filename, caller.f_lineno)
    return None
