"""Where the rows of an N+1 were *built*, when the finding can only say where they were
*evaluated*.

The query gate names the rows of a finding by the innermost frame of the code under
test that was running when their queryset was evaluated (``rows: the Shift queryset
evaluated at ephios/modellogging/middleware.py:20``). When a template, a generic view,
a form set or a serializer evaluates the queryset, that frame is a middleware's
``get_response`` line or the view line that rendered: no queryset is written there.
Finding where the queryset was built costs a walk of the stack at every queryset
clone, which the gate does not pay on every test (issue 21's budget); ``django-gates
fix`` pays it here, once, on the few tests a fix names.

:func:`locate` runs those tests (without the gate) in a fresh pytest process with this
module loaded as a plugin (``-p pytest_django_gates.fix.locate``). The plugin wraps,
for that process only:

* ``QuerySet.__init__`` — a queryset made by a call written in the code under test
  (``Shift.objects.filter(...)``, ``qs.order_by(...)`` in a view) remembers that
  line: the first frame outside Django's ORM on the way out, when it is the project's.
  A method of the project's own manager or queryset class (``self`` is one) is part of
  the queryset's API, not its builder: its caller is taken instead. When the first frame
  outside the ORM is a library's, the queryset has no such line, bar two cases: Django's
  ``SingleObjectMixin`` / ``MultipleObjectMixin.get_queryset()`` of a project view
  class that names only its ``model`` (the class is where the fix goes); and a related
  manager a library read (a template's ``{% for s in event.shifts.all %}``), whose
  instance was fetched by a queryset a project line built: the line is that one, and
  the relation is noted (``via Event.shifts``: the fix prefetches through it there);
* ``QuerySet._clone`` — a clone made by a library (a generic view's ``order_by``, a
  form set's ``order_by(pk)``) keeps the line of the queryset it was cloned from;
* ``QuerySet._fetch_all`` — at each evaluation of a queryset of a target's model, its
  evaluation site as the gate computes it (:class:`~pytest_django_gates.queries.stack.
  Classifier`, with the gate's ``ignore_callers``, test patterns and root) is compared
  with the target's ``rows:`` line, and the line the queryset was built at recorded;
  every model instance it fetched remembers that line (for the related-manager case).

Django versions: ``QuerySet.__init__(model, query, using, hints)``, ``_clone()`` and
``_fetch_all()`` are the same in Django 4.2, 5.2, 6.0 and 6.1; the three are wrapped
together or not at all (a missing one ends the run with a usage error, and :func:`locate`
says the rows could not be located).

Each process (an xdist worker included) writes its own JSON file next to the one
asked for; :func:`locate` merges them. The answer, for each test and target: every
distinct build line seen for it while that test ran (``None`` for a queryset no
project line built: a form set's default queryset, the admin's changelist).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

ENV = "DJANGO_GATES_LOCATE"
SITE_ATTR = "_django_gates_built_at"

Target = tuple[str, str, int]  # (model object name, path relative to the root, line)
Seen = tuple[str, Target]  # (the test's node id, the target)
# (path, line, in a test file, what): what is "" for a line of code that built the queryset,
# "model" for a generic view class whose ``model`` attribute Django's get_queryset() turned
# into it (the line is the class's); either followed by " via Owner.accessor" for each
# related manager a library read on the way, outermost first (the line then built the
# owners' queryset); None: no project line.
Built = tuple[str, int, bool, str] | None


def locate(
    root: Path, targets: Sequence[Target], tests: Sequence[str], ignore_callers: Sequence[str]
) -> dict[Seen, set[Built]] | str:
    """For each test and target, the lines the target's rows were built at while that
    test ran (a pair not seen is missing: never evaluated there); a sentence when the
    tests could not run. By test: one rows line (a middleware's) stands for different
    querysets in different tests."""
    with tempfile.TemporaryDirectory(prefix="djg-locate-") as tmp:
        request = Path(tmp) / "request.json"
        out = Path(tmp) / "located"
        request.write_text(
            json.dumps(
                {
                    "root": str(root),
                    "ignore_callers": list(ignore_callers),
                    "targets": [list(t) for t in targets],
                    "out": str(out),
                }
            ),
            encoding="utf-8",
        )
        from pytest_django_gates.fix.queries import run_pytest

        env = {**os.environ, ENV: str(request)}
        proc = run_pytest(root, ["-p", __name__, "-q", *tests], env)
        files = sorted(Path(tmp).glob("located.*.json"))
        if proc.returncode not in (0, 1) or not files:
            tail = " ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
            return f"pytest exited with {proc.returncode}: {tail}"
        found: dict[Seen, set[Built]] = {}
        for file in files:
            for entry in json.loads(file.read_text(encoding="utf-8")):
                target = (str(entry["model"]), str(entry["path"]), int(entry["line"]))
                built = entry["built"]
                found.setdefault((str(entry["test"]), target), set()).add(
                    None
                    if built is None
                    else (str(built[0]), int(built[1]), bool(built[2]), str(built[3]))
                )
        return found


# --------------------------------------------------------------------- the plugin


class _Locator:
    def __init__(self, request: dict[str, Any], test_files: Sequence[str]) -> None:
        from pytest_django_gates.queries.stack import Classifier

        self.root = Path(request["root"])
        self.out = Path(request["out"])
        self.targets: dict[str, set[tuple[str, int]]] = {}
        for model, path, line in request["targets"]:
            self.targets.setdefault(str(model), set()).add((str(path), int(line)))
        self.classifier = Classifier(tuple(request["ignore_callers"]), test_files, self.root)
        self.seen: set[tuple[str, str, str, int, Built]] = set()
        self.test = ""  # the node id of the test running

    def built_at(self, frame: Any) -> Built:
        """The line of the code under test that made this queryset (see the module
        docstring); None when a library made it."""
        from django.db.models import Manager, QuerySet

        from pytest_django_gates.queries import stack

        classifier = self.classifier
        f = frame
        manager: Any = None  # the related manager that made it, if one did
        through: str | None = None  # its "Owner.accessor"
        while f is not None:
            kind = classifier.kind(f)
            filename = f.f_code.co_filename
            if kind in (stack.USER, stack.TEST):
                owner = f.f_locals.get("self")
                if not isinstance(owner, (QuerySet, Manager)):
                    rel = stack.relative(filename, self.root)
                    return (rel, f.f_lineno, kind == stack.TEST, "")
            elif kind == stack.STOP:
                return None
            elif not classifier.in_orm(f):
                # A library made it: a form set, a field, the admin, a template reading
                # a related manager; or a generic view of the project's from its ``model``.
                return self.view_model(f) if through is None else self.through(manager, through)
            elif through is None and filename.endswith("related_descriptors.py"):
                manager = f.f_locals.get("self")
                through = _related_manager(manager)
            f = f.f_back
        return None

    def through(self, manager: Any, through: str) -> Built:
        """A queryset a library (a template's ``{% for s in event.shifts.all %}``) got from
        a related manager: where the manager's instance was fetched, and the relation
        (``what`` gains `` via Event.shifts``), so that the fix prefetches through it on
        the instance's queryset; None when the instance was not fetched by a queryset a
        project line built."""
        built = manager.instance.__dict__.get(SITE_ATTR)
        if built is None:
            return None
        path, line, in_test, what = built
        return (path, line, in_test, f"{what} via {through}")

    def tag(self, queryset: Any) -> None:
        """Each model instance ``queryset`` fetched remembers where it was built (a
        related manager of it, read by a template, is then traced back there)."""
        from django.db.models import Model

        built = getattr(queryset, SITE_ATTR, None)
        if built is None:
            return
        for obj in queryset._result_cache or ():
            if isinstance(obj, Model):
                obj.__dict__.setdefault(SITE_ATTR, built)

    def view_model(self, frame: Any) -> Built:
        """The project's generic view class whose ``model`` attribute Django's
        ``get_queryset()`` (``SingleObjectMixin``, ``MultipleObjectMixin``) is turning into
        a queryset in ``frame``, when that model's default manager is ``objects`` (so
        that ``queryset = Model.objects...`` is the same rows); else None."""
        import inspect

        from django.views.generic.detail import SingleObjectMixin
        from django.views.generic.list import MultipleObjectMixin

        from pytest_django_gates.queries import stack

        view = frame.f_locals.get("self")
        if frame.f_code.co_name != "get_queryset" or not isinstance(
            view, (SingleObjectMixin, MultipleObjectMixin)
        ):
            return None
        if view.queryset is not None or view.model is None:
            return None
        if getattr(view.model._default_manager, "name", None) != "objects":
            return None
        owner = next((c for c in type(view).__mro__ if "model" in vars(c)), None)
        module = sys.modules.get(owner.__module__) if owner is not None else None
        filename = getattr(module, "__file__", None)
        if owner is None or filename is None:
            return None
        kind = self.classifier.file_kind(filename)
        if kind not in (stack.USER, stack.TEST):
            return None
        try:
            line = inspect.getsourcelines(owner)[1]
        except (OSError, TypeError):
            return None
        return (stack.relative(filename, self.root), line, kind == stack.TEST, "model")

    def evaluated(self, queryset: Any, frame: Any) -> None:
        from pytest_django_gates.queries import stack

        lines = self.targets.get(queryset.model._meta.object_name)
        if not lines:
            return
        shown = self.classifier.site(frame).shown
        if shown is None:
            return
        where = (stack.relative(shown[0], self.root), shown[1])
        if where in lines:
            built: Built = getattr(queryset, SITE_ATTR, None)
            self.seen.add((self.test, queryset.model._meta.object_name, *where, built))

    def write(self) -> None:
        entries = [
            {"test": test, "model": model, "path": path, "line": line, "built": built}
            for test, model, path, line, built in sorted(self.seen, key=repr)
        ]
        target = self.out.with_name(f"{self.out.name}.{os.getpid()}.json")
        target.write_text(json.dumps(entries), encoding="utf-8")


def _related_manager(manager: Any) -> str | None:
    """``Owner.accessor`` of a related manager (``event.shifts``: a reverse foreign key's
    or a many-to-many's, either side), found by the descriptor that made its class;
    None for anything else. Django 4.2 to 6.1: the descriptors are
    ``ReverseManyToOneDescriptor`` and its subclass ``ManyToManyDescriptor``, each with
    ``related_manager_cls``, and the manager keeps its ``instance``."""
    from django.db.models import Model
    from django.db.models.fields.related_descriptors import ReverseManyToOneDescriptor

    instance = getattr(manager, "instance", None)
    if not isinstance(instance, Model):
        return None
    for klass in type(instance).__mro__:
        for name, attr in vars(klass).items():
            if isinstance(attr, ReverseManyToOneDescriptor) and attr.__dict__.get(
                "related_manager_cls"
            ) is type(manager):
                return f"{type(instance)._meta.object_name}.{name}"
    return None


def _install(locator: _Locator) -> None:
    """Wrap the three methods (Django 4.2 to 6.1), all or none."""
    from django.db.models.query import QuerySet

    originals: dict[str, Callable[..., Any]] = {}
    for name in ("__init__", "_clone", "_fetch_all"):
        method = QuerySet.__dict__.get(name)
        if not callable(method):
            raise pytest.UsageError(
                f"django-gates fix: QuerySet.{name} is not there in this Django; the rows "
                "cannot be located"
            )
        originals[name] = method
    init, clone, fetch_all = originals["__init__"], originals["_clone"], originals["_fetch_all"]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        setattr(self, SITE_ATTR, locator.built_at(sys._getframe(1)))

    def _clone(self: Any) -> Any:
        made = clone(self)
        if getattr(made, SITE_ATTR, None) is None:
            setattr(made, SITE_ATTR, getattr(self, SITE_ATTR, None))
        return made

    def _fetch_all(self: Any) -> None:
        fresh = self._result_cache is None
        if fresh:
            locator.evaluated(self, sys._getframe(1))
        fetch_all(self)
        if fresh:
            locator.tag(self)

    for name, wrapper in (("__init__", __init__), ("_clone", _clone), ("_fetch_all", _fetch_all)):
        setattr(QuerySet, name, wrapper)


_locator: _Locator | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _locator
    request_path = os.environ.get(ENV)
    if not request_path:
        return
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    _locator = _Locator(request, list(config.getini("python_files")))
    _install(_locator)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Any:
    if _locator is not None:
        _locator.test = item.nodeid
    try:
        return (yield)
    finally:
        if _locator is not None:
            _locator.test = ""


def pytest_unconfigure(config: pytest.Config) -> None:
    if _locator is not None:
        _locator.write()
