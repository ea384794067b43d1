"""DJG101: an N+1 of a relation loaded once per row -> ``select_related(...)`` or
``prefetch_related(...)`` on the rows' queryset, where the finding says it was
evaluated (``rows: the Book queryset evaluated at shop/views.py:12``).

Offered when the finding's hint is exactly ``Model.objects.select_related('name')``
or ``Model.objects.prefetch_related('name')`` (a foreign key, a one-to-one, a reverse
foreign key, a many-to-many or a generic relation, read as it is), or an existence
check per row whose hint offers ``prefetch_related('name')`` (``exists()`` on a
prefetched relation reads its cache), and the queryset is
written in the code under test as ``Model.objects...``: on the line the finding
names, or in the one assignment ``name = Model.objects...`` of the function that
evaluates ``name`` on that line. The call goes right after ``Model.objects``
(``Book.objects.select_related('author').filter(...)``), where a manager always takes
it, whatever the chain does next.

When no queryset is written at the rows line (:class:`NoQuerysetThere`: a template, a
generic view, a form set or a serializer evaluated it, and the line is a middleware's
``get_response`` or the test's request), the command runs the finding's tests once more
to find the line of the code under test that built the queryset
(:mod:`pytest_django_gates.fix.locate`) and plans the same edit there
(:func:`built_at`). Rows a library read through a related manager (a template's
``{% for s in event.shifts.all %}``) are fixed on the owners' queryset, where the
locator saw the owner fetched: ``prefetch_related("shifts__<relation>")``.

Not offered: counts and existence checks per row (they need an annotation read in the
loop), a relation narrowed per row (``Prefetch`` with a queryset chosen by hand),
``only()`` / ``defer()`` querysets, rows built in a test file or by a library (a
form set's default queryset, the admin's changelist; a generic view of the project
that names only its ``model`` is fixed with a ``queryset``), rows found built at more
than three lines (at two or three, each line gets the call), and a queryset handed in
by a caller that did not build it (only the next frame of the call path is followed: a
parameter the rows line loops over is fixed at the call that passes it, when that call
builds the queryset).
"""

from __future__ import annotations

import ast
import dataclasses
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pytest_django_gates.fix.plan import Change, NotFixable, Read
from pytest_django_gates.fix.recipes._ops import argument, called_name
from pytest_django_gates.fix.source_edit import EditError, Splice, apply, check_parses, span

_HINT = re.compile(
    r"^(?P<model>\w+)\.objects\.(?P<method>select_related|prefetch_related)\('(?P<name>\w+)'\)"
    r"(?:; or, on Django 6\.1\+, .*)?$"
)
# An existence check per row (``obj.comments.exists()``): the hint's second way, a
# prefetch, answers it from the cache (``QuerySet.exists()`` reads a filled result cache)
# without touching the loop; the annotation, its first way, needs the loop rewritten.
_EXISTS_HINT = re.compile(
    r"^(?P<model>\w+)\.objects\.annotate\(has_\w+=Exists\(<\w+ subquery>\)\), "
    r"or prefetch_related\('(?P<name>\w+)'\) and test the cached list$"
)
_ROWS = re.compile(r"^rows: the (?P<model>\w+) queryset evaluated at (?P<path>\S+):(?P<line>\d+) ")
_CALL_PATH = re.compile(r"^call path: (?P<frames>.+)$")
_N = TypeVar("_N", ast.Attribute, ast.Call)


class NoQuerysetThere(NotFixable):
    """The rows line (or the caller that passed the rows in) writes no single queryset
    of the rows' model: where it was built is found by running the tests
    (:mod:`pytest_django_gates.fix.locate`, then :func:`built_at`)."""


@dataclass(frozen=True)
class Rows:
    """What the finding says of its rows and of the fix."""

    model: str
    path: str  # as the finding shows it (relative to the project)
    line: int
    method: str  # select_related / prefetch_related
    name: str  # the relation
    # The frames that called the function the rows line is in, innermost first, as the
    # finding's call path shows them ("path", line): where a queryset passed in as an
    # argument was built.
    callers: tuple[tuple[str, int], ...] = ()
    test_files: frozenset[str] = frozenset()  # the files of the findings' tests
    # The line is a generic view class's, whose ``model`` attribute Django's
    # get_queryset() turns into the rows: the fix gives the class a ``queryset``.
    view_class: bool = False
    # The rows were read through related managers of rows of ``model`` (a template's
    # ``{% for s in event.shifts.all %}``): (the model of the rows the finding names,
    # the lookup to them, "shifts"); ``name`` then starts with that lookup.
    through: tuple[str, str] | None = None

    @property
    def call(self) -> str:
        return f".{self.method}({self.name!r})"

    def joined(self, other: Rows) -> Rows:
        """These rows as one fix with ``other`` (the same place and call, reached by more
        findings): their callers and test files together."""
        return dataclasses.replace(
            self,
            callers=tuple(sorted({*self.callers, *other.callers})),
            test_files=self.test_files | other.test_files,
        )


def rows_of(message: str, hint: str) -> Rows:
    """The rows and the fix a DJG101 finding names; :class:`NotFixable` otherwise."""
    fix = _HINT.match(hint.strip())
    method = fix["method"] if fix is not None else "prefetch_related"
    fix = fix or _EXISTS_HINT.match(hint.strip())
    if fix is None:
        raise NotFixable(
            "the hint is not a plain select_related / prefetch_related of the rows' queryset "
            "(a count, an existence check, a narrowed relation, only()/defer(), a lookup per "
            "item): apply it by hand"
        )
    rows = next((m for line in message.splitlines() if (m := _ROWS.match(line))), None)
    if rows is None:
        raise NotFixable("the finding names no queryset its rows came from")
    if rows["model"] != fix["model"]:
        raise NotFixable(f"the rows are {rows['model']} rows, the hint is for {fix['model']}")
    where = (rows["path"], int(rows["line"]))
    return Rows(fix["model"], *where, method, fix["name"], callers=_callers(message, where))


def _callers(message: str, rows: tuple[str, int]) -> tuple[tuple[str, int], ...]:
    """The call path's frames after the rows line's (empty when it is not on the path)."""
    for line in message.splitlines():
        if match := _CALL_PATH.match(line):
            frames: list[tuple[str, int]] = []
            for text in match["frames"].split(" <- "):
                path, _, number = text.rpartition(":")
                if path and number.isdigit():
                    frames.append((path, int(number)))
            if rows in frames and frames.index(rows) + 1 < len(frames):
                return (frames[frames.index(rows) + 1],)
    return ()


def _objects_chains(node: ast.AST, model: str) -> list[ast.Attribute]:
    """Every ``Model.objects`` attribute in ``node``."""
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute)
        and n.attr == "objects"
        and isinstance(n.value, ast.Name)
        and n.value.id == model
    ]


def _statement_at(tree: ast.Module, line: int) -> tuple[ast.stmt, ast.AST | None]:
    """The innermost simple statement (or compound statement header) spanning ``line``,
    and the function around it (None: module level)."""
    best: tuple[ast.stmt, ast.AST | None] | None = None

    def visit(body: list[ast.stmt], function: ast.AST | None) -> None:
        nonlocal best
        for stmt in body:
            end = stmt.end_lineno or stmt.lineno
            if not stmt.lineno <= line <= end:
                continue
            inner = function
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = stmt
            best = (stmt, inner)
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(stmt, field, None)
                if isinstance(children, list) and children and isinstance(children[0], ast.stmt):
                    visit(children, inner)
                elif isinstance(children, list) and children:  # except handlers
                    for handler in children:
                        visit(getattr(handler, "body", []), inner)

    visit(tree.body, None)
    if best is None:
        raise NotFixable("no statement is at that line")
    return best


def _header(stmt: ast.stmt) -> list[ast.AST]:
    """The parts of a statement evaluated on its own line: a compound statement's header
    (a for loop's iterable, an if's test), a simple statement whole."""
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.iter]
    if isinstance(stmt, (ast.If, ast.While)):
        return [stmt.test]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in stmt.items]
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Try)):
        return []
    return [stmt]


def plan(rows: Rows, path: Path, read: Read) -> Change:
    """The edit of ``path`` (the file the rows line is in)."""
    text = read(path)
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise NotFixable(f"{path.name} does not parse ({exc.msg}, line {exc.lineno})") from None
    if rows.view_class:
        return _plan_view_class(rows, path, read, text, tree)
    stmt, function = _statement_at(tree, rows.line)
    where = f"{rows.path}:{rows.line}"
    quote = _quote(text)
    call = f".{rows.method}({quote}{rows.name}{quote})"
    chains = _on_line(
        [c for part in _header(stmt) for c in _objects_chains(part, rows.model)], rows.line
    )
    if not chains:
        chains = [
            c
            for value in _assigned_values(stmt, function, rows.line)
            for c in _objects_chains(value, rows.model)
        ]
    if len(chains) == 1:
        splice = _splice(text, tree, chains[0], rows, quote)
        summary = f"{rows.model}.objects{call} at {where}"
    else:
        # No Model.objects written there: the one queryset method call that builds the
        # rows (a related manager's ``event.shifts.all()``, a helper's queryset
        # filtered in place), with the call added at its end.
        calls = _on_line(
            [c for part in _header(stmt) for c in _queryset_calls(part, rows.model)], rows.line
        )
        if not calls and not chains:
            values = _assigned_values(stmt, function, rows.line)
            calls = [c for value in values for c in _queryset_calls(value, rows.model)]
        if not calls and not chains:
            passed = _passed_in(stmt, function, rows.line)
            if passed is not None:
                return _plan_in_caller(rows, path, read, passed)
        if len(chains) > 1 or len(calls) != 1:
            raise NoQuerysetThere(
                f"no single {rows.model} queryset written at {where} or assigned to a name "
                f"it evaluates: add {rows.call} where the queryset is built"
            )
        splice = _at_chain_end(text, calls[0], rows, quote)
        summary = f"{call} on the {rows.model} queryset at {where}"
    try:
        new = apply(text, [splice])
        check_parses(new, path.name)
    except EditError as exc:
        raise NotFixable(str(exc)) from None
    return Change({path: new}, summary=summary)


def _on_line(nodes: list[_N], line: int) -> list[_N]:
    """``nodes``, or when there are several, those that span ``line`` if that leaves one
    (a list of URL patterns, one statement over many lines, each building a queryset)."""
    if len(nodes) < 2:
        return nodes
    there = [n for n in nodes if n.lineno <= line <= (n.end_lineno or n.lineno)]
    return there if len(there) == 1 else nodes


# Methods of a manager or queryset that return a queryset of the same rows.
QUERYSET_METHODS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "order_by",
        "distinct",
        "annotate",
        "alias",
        "select_related",
        "prefetch_related",
        "using",
        "select_for_update",
        "reverse",
    }
)


def _queryset_calls(node: ast.AST, model: str) -> list[ast.Call]:
    """The outermost calls of a queryset method in ``node`` (``a.b.filter(x).order_by(y)``
    once, as the whole chain), but those of a chain that starts at another model's
    manager (``Author.objects.order_by(...)`` is no queryset of Book rows)."""
    calls = [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in QUERYSET_METHODS
    ]
    inner = {id(c.func.value) for c in calls if isinstance(c.func, ast.Attribute)}
    return [c for c in calls if id(c) not in inner and _chain_model(c) in (None, model)]


def _chain_model(call: ast.Call) -> str | None:
    """``X`` when the chain of ``call`` starts at ``X.objects`` (None otherwise)."""
    node: ast.AST = call
    while isinstance(node, (ast.Call, ast.Attribute)):
        if isinstance(node, ast.Call):
            node = node.func
            continue
        if node.attr == "objects" and isinstance(node.value, ast.Name):
            return node.value.id
        node = node.value
    return None


def _quote(text: str) -> str:
    """The quote the file writes its strings with, mostly (double when it is a tie)."""
    counts = {'"': 0, "'": 0}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING:
                body = token.string.lstrip("rRbBuUfF")
                if body[:1] in counts and body[:3] != body[0] * 3:
                    counts[body[0]] += 1
    except (tokenize.TokenError, SyntaxError):
        pass
    return "'" if counts["'"] > counts['"'] else '"'


def _splice(text: str, tree: ast.Module, chain: ast.Attribute, rows: Rows, quote: str) -> Splice:
    """The edit after ``Model.objects``: a name added to the same call right there
    (``select_related("a")`` -> ``select_related("a", "b")``); a bare ``.all()``
    replaced by the call; else the call inserted."""
    name = f"{quote}{rows.name}{quote}"
    call = f".{rows.method}({name})"
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    _start, end = span(text, chain)
    after = parents.get(id(chain))
    caller = parents.get(id(after)) if after is not None else None
    if (
        isinstance(after, ast.Attribute)
        and isinstance(caller, ast.Call)
        and caller.func is after
        and not caller.keywords
    ):
        _call_start, call_end = span(text, caller)
        if after.attr == "all" and not caller.args:
            return Splice(end, call_end, call)
        joined = _join_call(text, caller, rows, name)
        if joined is not None:
            return joined
    return Splice(end, end, call)


def _join_call(text: str, call: ast.Call, rows: Rows, name: str) -> Splice | None:
    """When ``call`` is already the fix's method with names only (``select_related("a")``),
    the edit adding ``name`` to it (``select_related("a", "b")``); None otherwise;
    :class:`NotFixable` when it has the name already."""
    literal = [a.value for a in call.args if isinstance(a, ast.Constant)]
    if not (
        isinstance(call.func, ast.Attribute)
        and call.func.attr == rows.method
        and not call.keywords
        and literal
        and len(literal) == len(call.args)
    ):
        return None
    if rows.name in literal:
        raise NotFixable(f"the queryset already has {rows.method}({name})")
    _last_start, last_end = span(text, call.args[-1])
    return Splice(last_end, last_end, f", {name}")


def _plan_view_class(rows: Rows, path: Path, read: Read, text: str, tree: ast.Module) -> Change:
    """A generic view class that names its ``model`` only: Django's ``get_queryset()``
    fetches ``model._default_manager.all()`` (the locator checked that manager is
    ``objects``), so ``queryset = Model.objects.<call>`` right after ``model = Model``
    is the same rows with the relation fetched. When the class has a ``queryset``
    already (a fix of another relation of the same view), the call goes there."""
    where = f"{rows.path}:{rows.line}"
    classes = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and min([node.lineno, *(d.lineno for d in node.decorator_list)]) == rows.line
    ]
    if len(classes) != 1:
        raise NotFixable(f"no single view class starts at {where}")
    view = classes[0]

    def assigned(name: str) -> list[ast.Assign]:
        return [
            stmt
            for stmt in view.body
            if isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)
        ]

    if queryset := assigned("queryset"):
        moved = dataclasses.replace(rows, line=queryset[-1].lineno, view_class=False)
        return plan(moved, path, read)
    models = assigned("model")
    value = models[-1].value if models else None
    if not (isinstance(value, ast.Name) and value.id == rows.model):
        raise NotFixable(
            f"the view class {view.name} at {where} does not set model = {rows.model} in its "
            f"body: give it queryset = {rows.model}.objects{rows.call}"
        )
    quote = _quote(text)
    lines = text.splitlines(keepends=True)
    last = models[-1].end_lineno or models[-1].lineno
    indent = lines[models[-1].lineno - 1][: models[-1].col_offset]
    newline = "\r\n" if lines[last - 1].endswith("\r\n") else "\n"
    added = (
        f"{indent}queryset = {rows.model}.objects.{rows.method}({quote}{rows.name}{quote}){newline}"
    )
    new = "".join([*lines[:last], added, *lines[last:]])
    try:
        check_parses(new, path.name)
    except EditError as exc:
        raise NotFixable(str(exc)) from None
    summary = (
        f"queryset = {rows.model}.objects.{rows.method}({quote}{rows.name}{quote}) in the view "
        f"{view.name} at {where} (it named model = {rows.model} only)"
    )
    return Change({path: new}, summary=summary)


def _at_chain_end(text: str, last: ast.Call, rows: Rows, quote: str) -> Splice:
    """The edit at the end of a queryset chain whose last call is ``last``: the name added
    to it when it is already the same call with names only (``.select_related("a")`` ->
    ``.select_related("a", "b")``, as two fixes of one line make it), else the call
    appended."""
    name = f"{quote}{rows.name}{quote}"
    joined = _join_call(text, last, rows, name)
    if joined is not None:
        return joined
    _start, end = span(text, last)
    return Splice(end, end, f".{rows.method}({name})")


def _assigned_values(stmt: ast.stmt, function: ast.AST | None, line: int) -> list[ast.expr]:
    """The values of the one assignment each, in the same function and before ``line``,
    of the names the statement's header reads (``books = Book.objects.filter(...)`` ...
    ``for b in books``)."""
    if function is None:
        return []
    names = {n.id for part in _header(stmt) for n in ast.walk(part) if isinstance(n, ast.Name)}
    found: list[ast.expr] = []
    for name in sorted(names):
        assigns = [
            node
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ]
        if len(assigns) == 1 and assigns[0].lineno < line:
            found.append(assigns[0].value)
    return found


def _passed_in(stmt: ast.stmt, function: ast.AST | None, line: int) -> tuple[str, int, str] | None:
    """(function name, position, parameter) when the statement evaluates a parameter of
    the function it is in that nothing reassigns before ``line``: the queryset was
    passed in."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if params[:1] in (["self"], ["cls"]):  # called as obj.method(...): not passed
        params = params[1:]
    names = _evaluated_names(stmt)
    used = [p for p in params if p in names]
    if len(used) != 1:
        return None
    param = used[0]
    reassigned = any(
        isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
        and node.lineno < line
        and any(
            isinstance(t, ast.Name) and t.id == param
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
        for node in ast.walk(function)
    )
    if reassigned:
        return None
    return function.name, params.index(param), param


_EVALUATING = frozenset({"list", "tuple", "sorted", "set", "len", "iter", "enumerate"})


def _evaluated_names(stmt: ast.stmt) -> set[str]:
    """The names whose rows the statement evaluates itself: the iterable of its ``for``
    or of a comprehension, the argument of ``list()`` and its kin, or the start of a
    queryset method chain (``qs.filter(...)``), given as a bare name. A name only passed
    on to another call (``self.get_response(request)``) is not one."""
    candidates: list[ast.expr] = []
    for part in _header(stmt):
        for node in ast.walk(part):
            if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                candidates.append(node.iter)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in _EVALUATING
                and node.args
            ):
                candidates.append(node.args[0])
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        candidates.append(stmt.iter)
    names: set[str] = set()
    for expr in candidates:
        while (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr in QUERYSET_METHODS
        ):
            expr = expr.func.value
        if isinstance(expr, ast.Name):
            names.add(expr.id)
    return names


def _plan_in_caller(rows: Rows, path: Path, read: Read, passed: tuple[str, int, str]) -> Change:
    """The fix at each caller that passed the rows' queryset in (the next frame of the
    findings' call paths), when it builds it there: ``helper(Book.objects.filter(...))``."""
    name, _position, param = passed
    if not rows.callers:
        raise NoQuerysetThere(
            f"the {rows.model} rows come in as the argument {param!r} of {name}(), and the "
            f"finding names no caller: add {rows.call} where the queryset is built"
        )
    for caller_rel, _line in rows.callers:
        if caller_rel in rows.test_files:
            raise NotFixable(
                f"the rows are built in the test file {caller_rel} (passed to {name}() as "
                f"{param!r})"
            )
    root = Path(str(path)[: -len(rows.path)]) if str(path).endswith(rows.path) else path.parent
    files: dict[Path, str] = {}
    for caller_rel, caller_line in rows.callers:
        caller_path = root / caller_rel
        if not caller_path.is_file():
            raise NotFixable(f"the caller {caller_rel} is not a file of the project")
        text = files[caller_path] if caller_path in files else read(caller_path)
        files[caller_path] = _edit_caller(rows, text, caller_rel, caller_line, passed)
    places = ", ".join(f"{rel}:{line}" for rel, line in rows.callers)
    quote = _quote(next(iter(files.values())))
    call = f".{rows.method}({quote}{rows.name}{quote})"
    return Change(
        files, summary=f"{call} on the {rows.model} queryset passed to {name}() at {places}"
    )


def _edit_caller(
    rows: Rows, text: str, caller_rel: str, caller_line: int, passed: tuple[str, int, str]
) -> str:
    """``text`` of the caller with the call added to the queryset it passes in."""
    name, position, param = passed
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise NotFixable(f"{caller_rel} does not parse ({exc.msg}, line {exc.lineno})") from None
    stmt, _function = _statement_at(tree, caller_line)
    arguments = [
        value
        for node in ast.walk(stmt)
        if isinstance(node, ast.Call) and called_name(node) == name
        for value in [argument(node, position, param)]
        if value is not None
    ]
    where = f"{caller_rel}:{caller_line}"
    if len(arguments) != 1:
        raise NoQuerysetThere(
            f"the {rows.model} rows come in as {param!r} of {name}(), and {where} does not "
            f"pass it in one call written there: add {rows.call} where the queryset is built"
        )
    passed_in = arguments[0]
    quote = _quote(text)
    chains = _objects_chains(passed_in, rows.model)
    if len(chains) == 1:
        splice = _splice(text, tree, chains[0], rows, quote)
    else:
        calls = _queryset_calls(passed_in, rows.model)
        if chains or len(calls) != 1:
            raise NoQuerysetThere(
                f"the {rows.model} rows come in as {param!r} of {name}(), and {where} passes "
                f"no single queryset written there: add {rows.call} where it is built"
            )
        splice = _at_chain_end(text, calls[0], rows, quote)
    try:
        new = apply(text, [splice])
        check_parses(new, caller_rel)
    except EditError as exc:
        raise NotFixable(str(exc)) from None
    return new


def built_at(rows: Rows, built: set[tuple[str, int, bool, str] | None]) -> list[Rows]:
    """``rows`` moved to each line of the code under test that built their queryset
    (``built``: what :func:`pytest_django_gates.fix.locate.locate` saw for them; the
    rows of one evaluation site, a middleware's line, may come from querysets built at
    several lines, each of which then gets the call), in line order;
    :class:`NotFixable` when there is none, or a library or a test built some."""
    where = f"{rows.path}:{rows.line}"
    if not built:
        raise NotFixable(
            f"the {rows.model} rows evaluated at {where} were not evaluated there again when "
            f"their tests ran alone: add {rows.call} where the queryset is built"
        )
    if None in built:
        also = " (and elsewhere)" if len(built) > 1 else ""
        raise NotFixable(
            f"the {rows.model} queryset evaluated at {where} is built by a library{also} (a "
            f"generic view's model, a form set's or a field's default): give it a queryset "
            f"with {rows.call}"
        )
    if len(built) > MAX_PLACES:
        raise NotFixable(
            f"the {rows.model} rows evaluated at {where} come from querysets built at "
            f"{len(built)} places: add {rows.call} where they are built"
        )
    return [_moved_to(rows, one) for one in sorted(b for b in built if b is not None)]


# Rows built at more places than this are not fixed automatically (one edit each).
MAX_PLACES = 3


def _moved_to(rows: Rows, built: tuple[str, int, bool, str]) -> Rows:
    path, line, in_test, what = built
    if in_test or path in rows.test_files:
        raise NotFixable(f"the rows are built in the test file {path} (at line {line})")
    kind, *through = what.split(" via ")
    moved = dataclasses.replace(rows, path=path, line=line, callers=(), view_class=kind == "model")
    if not through:
        return moved
    # Read through related managers (``event.shifts.all`` in a template): prefetch through
    # them on the queryset that fetched the first owner, ``Event...prefetch_related(
    # "shifts__type")``.
    owner = through[0].split(".", 1)[0]
    lookup = "__".join(step.split(".", 1)[1] for step in through)
    return dataclasses.replace(
        moved,
        model=owner,
        method="prefetch_related",
        name=f"{lookup}__{rows.name}",
        through=(rows.model, lookup),
    )
