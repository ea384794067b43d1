"""Which code runs once per iteration of a loop: ``for`` / ``while`` bodies and comprehensions.

Used by the N+1 rules to tell a query a loop repeats (once per row) from one
that runs once. A line *repeats* when some enclosing loop runs it on every
iteration, which is not the case for:

* a statement of a block that leaves the loop unconditionally: the branch that
  ``return``\\s, ``raise``\\s or ``break``\\s out (``break`` only leaves the
  innermost loop, so an outer loop still repeats it);
* a loop over a collection written in the code (a literal tuple or list,
  ``range(3)``, an enumeration class such as ``Authenticator.Type`` or its members,
  ``Roles.choices``, a module constant ``STATES``): it repeats a number of times
  fixed by the code, not once
  per row (:func:`constant` tells such lines);
* the first iterable of a comprehension, evaluated once before it loops
  (``", ".join(b.title for b in author.books.all())``): on Python 3.11+ the
  column of the running instruction tells the iterable from the element; a
  comprehension's own frame (``<genexpr>``, and ``<listcomp>`` before 3.12)
  is always the repeated part.

Python 3.10 has no column positions: there a line holding a comprehension
counts as repeated, as it did before.
"""

from __future__ import annotations

import ast
import linecache
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from types import CodeType

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
COMPREHENSION_FRAMES = frozenset({"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"})

Span = tuple[int, int, int, int]  # (line, col, end_line, end_col), as in the ast


@dataclass(frozen=True)
class LoopHead:
    """One loop of the code, as :mod:`pytest_django_gates.queries.items` needs it to tell
    what the loop walks: its first line, its kind, the names its ``for`` binds and what it
    iterates, as far as the source tells."""

    line: int
    kind: str  # "for" (a for statement or a comprehension's generator) | "while"
    targets: tuple[str, ...] = ()  # the names bound per iteration (for): ``book``, ``i, row``
    iter_name: str = ""  # the iterable when it is a plain name: ``for b in books``
    # The iterable is a query written inline: ``Book.objects.filter(...)``,
    # ``author.books.all()``, ``qs.values_list("pk", flat=True)``.
    iter_query: bool = False
    fixed: bool = False  # a collection written in the code (not repeated per row or item)
    comprehension: bool = False  # a comprehension's generator, not a for statement
    # The plain names the loop's body assigns (``row = rows_by_key[key]``), outside the
    # functions and classes it defines: what each iteration looks up (a for statement).
    assigned: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoopMap:
    """The repeated lines of one file, and the spans of its comprehensions."""

    repeated: frozenset[int]  # lines some loop body runs on every iteration
    once: frozenset[int]  # lines in a loop body that run at most once per loop
    constant: frozenset[int]  # lines a loop over a collection written in the code repeats
    # Per comprehension: (whole span, spans of the parts that repeat, generators, and
    # whether every generator iterates a collection written in the code).
    comprehensions: tuple[tuple[Span, tuple[Span, ...], int, bool], ...]
    # Per loop: (first, last) line of what it runs per iteration, and its head.
    heads: tuple[tuple[int, int, LoopHead], ...] = ()


def _span(node: ast.AST) -> Span:
    line = getattr(node, "lineno", 0)
    return (
        line,
        getattr(node, "col_offset", 0),
        getattr(node, "end_lineno", None) or line,
        getattr(node, "end_col_offset", None) or 10**9,
    )


def _lines(node: ast.AST) -> range:
    start, _, end, _ = _span(node)
    return range(start, end + 1)


_FIXED_CALLS = frozenset({"range", "enumerate", "reversed", "sorted", "zip"})


def _constant_iter(node: ast.expr) -> bool:
    """The loop iterates over a collection written in the code, not over data."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        # Written item by item; ``[*imported, *existing]`` unpacks collections of any
        # length (unless they are constants themselves).
        return all(not isinstance(e, ast.Starred) or _constant_iter(e.value) for e in node.elts)
    if isinstance(node, ast.Dict):
        # ``{**defaults, **posted}`` likewise (a None key is a ``**`` unpacking).
        pairs = zip(node.keys, node.values, strict=True)
        return all(k is not None or _constant_iter(v) for k, v in pairs)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in _FIXED_CALLS and node.args and not node.keywords:
            return all(isinstance(a, ast.Constant) or _constant_iter(a) for a in node.args)
        return False
    if (
        isinstance(node, ast.Attribute)
        and node.attr in _ENUM_MEMBERS
        and _constant_iter(node.value)
    ):
        # The members of an enumeration: Django's MailRoles.choices, Color.__members__.
        return True
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    # A class (an enumeration: Authenticator.Type) or a module constant (STATES).
    return bool(name) and name[0].isupper()


# What an enumeration class lists (Django's Choices: choices, values, labels, names).
_ENUM_MEMBERS = frozenset({"choices", "values", "labels", "names", "__members__"})


# Methods only a manager or a queryset has (``values`` is also a dict's, ``filter`` a
# builtin, so neither alone names a query).
_QUERY_METHODS = frozenset(
    {
        "objects",
        "all",
        "filter",
        "exclude",
        "values_list",
        "order_by",
        "select_related",
        "prefetch_related",
        "iterator",
        "annotate",
        "only",
        "defer",
        "distinct",
        "using",
        "select_for_update",
    }
)


def _query_chain(node: ast.expr) -> bool:
    """The expression is a query written inline: a chain of attribute calls naming a
    manager or queryset method (``Book.objects.all()``, ``author.books.filter(...)``)."""
    while isinstance(node, (ast.Call, ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute) and node.attr in _QUERY_METHODS:
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _names(target: ast.expr) -> tuple[str, ...]:
    """The names a ``for`` target binds (``book``, ``i, (a, b)``, ``*rest``)."""
    return tuple(n.id for n in ast.walk(target) if isinstance(n, ast.Name))


def _for_head(
    line: int, target: ast.expr, iterable: ast.expr, fixed: bool, comprehension: bool = False
) -> LoopHead:
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id == "enumerate"
        and isinstance(target, ast.Tuple)
        and target.elts
    ):
        # ``for i, row in enumerate(rows)``: the counter says nothing of what is walked.
        target = ast.Tuple(elts=target.elts[1:], ctx=ast.Store())
    return LoopHead(
        line=line,
        kind="for",
        targets=_names(target),
        iter_name=iterable.id if isinstance(iterable, ast.Name) else "",
        iter_query=_query_chain(iterable),
        fixed=fixed,
        comprehension=comprehension,
    )


def _assigned(body: list[ast.stmt]) -> tuple[str, ...]:
    """The names ``body`` assigns with ``=`` / ``:=`` (``obj = ...``, ``a, b = ...``), in
    the order they are written, outside the functions and classes it defines."""
    names: dict[str, None] = {}
    pending: list[ast.AST] = list(reversed(body))
    while pending:
        node = pending.pop()
        if isinstance(node, _SCOPES):
            continue
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            targets = [node.target]
        for target in targets:
            if isinstance(target, (ast.Name, ast.Tuple, ast.List)):
                names.update(dict.fromkeys(_names(target)))
        pending.extend(reversed(list(ast.iter_child_nodes(node))))
    return tuple(names)


def _terminates(block: list[ast.stmt]) -> type[ast.stmt] | None:
    """The kind of statement that ends ``block`` unconditionally, if any."""
    for stmt in block:
        if isinstance(stmt, (ast.Return, ast.Raise, ast.Break)):
            return type(stmt)
    return None


class _Walker:
    def __init__(self) -> None:
        self.repeated: set[int] = set()
        self.once: set[int] = set()
        self.constant: set[int] = set()
        self.comprehensions: list[tuple[Span, tuple[Span, ...], int, bool]] = []
        self.heads: list[tuple[int, int, LoopHead]] = []

    def head(self, stmt: ast.For | ast.AsyncFor | ast.While) -> None:
        """Remember the loop: the lines it runs per iteration (a ``while``'s test too)."""
        if not stmt.body:
            return
        last = max(_span(s)[2] for s in stmt.body)
        if isinstance(stmt, ast.While):
            self.heads.append((stmt.lineno, last, LoopHead(line=stmt.lineno, kind="while")))
            return
        first = stmt.body[0].lineno
        fixed = _constant_iter(stmt.iter)
        head = _for_head(stmt.lineno, stmt.target, stmt.iter, fixed)
        assigned = tuple(n for n in _assigned(stmt.body) if n not in head.targets)
        if assigned:
            head = replace(head, assigned=assigned)
        self.heads.append((first, last, head))

    def visit_block(self, block: list[ast.stmt], depth: int, once_for: int) -> None:
        """``depth``: enclosing loops; ``once_for``: how many of the innermost of them a
        terminating statement of an enclosing block leaves (their repetition does not count).
        """
        ends = _terminates(block)
        if ends is not None and depth:
            leaves = depth if ends in (ast.Return, ast.Raise) else 1
            once_for = max(once_for, leaves)
        for stmt in block:
            self.visit_stmt(stmt, depth, once_for)

    def visit_stmt(self, stmt: ast.stmt, depth: int, once_for: int) -> None:
        if isinstance(stmt, _SCOPES):
            # A function defined in a loop runs when it is called, judged by its own frame.
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.expr):
                    self.visit_node(child)
            self.visit_block(getattr(stmt, "body", []), 0, 0)
            return
        if depth:
            target = self.repeated if once_for < depth else self.once
            if isinstance(stmt, _LOOPS):
                header = stmt.iter if isinstance(stmt, (ast.For, ast.AsyncFor)) else stmt.test
                target.update(_lines(header))
            elif not isinstance(stmt, (ast.If, ast.Try, ast.With, ast.AsyncWith)):
                target.update(_lines(stmt))
            else:
                head = getattr(stmt, "test", None)
                for item in getattr(stmt, "items", ()):
                    target.update(_lines(item.context_expr))
                if head is not None:
                    target.update(_lines(head))
        if isinstance(stmt, _LOOPS):
            self.head(stmt)
        if isinstance(stmt, (ast.For, ast.AsyncFor)) and _constant_iter(stmt.iter):
            for child in stmt.body:
                self.constant.update(_lines(child))
            self.visit_block(stmt.body, depth, once_for)
            self.visit_block(stmt.orelse, depth, once_for)
        elif isinstance(stmt, _LOOPS):
            self.visit_block(stmt.body, depth + 1, once_for)
            self.visit_block(stmt.orelse, depth, once_for)
        else:
            for field in ("body", "orelse", "finalbody"):
                block = getattr(stmt, field, None)
                if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                    self.visit_block(block, depth, once_for)
            for handler in getattr(stmt, "handlers", ()):
                self.visit_block(handler.body, depth, once_for)
            for case in getattr(stmt, "cases", ()):
                self.visit_block(case.body, depth, once_for)
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self.visit_node(child)

    def visit_node(self, node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, _COMPREHENSIONS):
                parts: list[ast.AST] = []
                if isinstance(sub, ast.DictComp):
                    parts += [sub.key, sub.value]
                else:
                    parts.append(sub.elt)
                for i, gen in enumerate(sub.generators):
                    if i:
                        parts.append(gen.iter)
                    parts.extend(gen.ifs)
                    parts.append(gen.target)
                spans = tuple(_span(p) for p in parts)
                fixed = all(_constant_iter(gen.iter) for gen in sub.generators)
                if fixed:
                    self.constant.update(_lines(sub))
                start, _, end, _ = _span(sub)
                for gen in sub.generators:
                    head = _for_head(
                        start, gen.target, gen.iter, _constant_iter(gen.iter), comprehension=True
                    )
                    self.heads.append((start, end, head))
                self.comprehensions.append((_span(sub), spans, len(sub.generators), fixed))


@lru_cache(maxsize=1024)
def loop_map(filename: str) -> LoopMap:
    """The loops of ``filename``. Unreadable or unparsable files have none."""
    source = "".join(linecache.getlines(filename))
    tree: ast.Module | None = None
    if source:
        try:
            tree = ast.parse(source, filename)
        except (SyntaxError, ValueError):
            tree = None
    return _build(tree)


def _build(tree: ast.Module | None) -> LoopMap:
    walker = _Walker()
    if tree is not None:
        walker.visit_block(tree.body, 0, 0)
    return LoopMap(
        repeated=frozenset(walker.repeated - walker.once),
        once=frozenset(walker.once),
        constant=frozenset(walker.constant - walker.repeated),
        comprehensions=tuple(walker.comprehensions),
        heads=tuple(walker.heads),
    )


_LOOP_WORD = re.compile(r"\b(for|while)\b")
_DEF = re.compile(r"\s*(async\s+)?def\s")


@lru_cache(maxsize=8192)
def _function_span(filename: str, line: int) -> tuple[int, int] | None:
    """The lines (1-based, first and last) of the innermost function around ``line``:
    from its ``def`` line to its last line, found from the indentation; None for
    module-level code or a line it cannot place."""
    lines = linecache.getlines(filename)
    if not 0 < line <= len(lines):
        return None
    text = lines[line - 1]
    indent = len(text) - len(text.lstrip())
    start = None
    for i in range(line - 1, -1, -1):
        candidate = lines[i]
        if _DEF.match(candidate) and len(candidate) - len(candidate.lstrip()) < max(indent, 1):
            start = i
            break
    if start is None:
        return None
    def_indent = len(lines[start]) - len(lines[start].lstrip())
    for i in range(start + 1, len(lines)):
        body = lines[i]
        stripped = body.strip()
        if (
            stripped
            and not stripped.startswith(("#", ")", "]", "}", "@"))
            and len(body) - len(body.lstrip()) <= def_indent
        ):
            # The function ended; a line past its end is not in it (module-level code
            # after a function).
            return (start + 1, i) if i >= line else None
    return start + 1, len(lines)


@lru_cache(maxsize=8192)
def _function_may_loop(filename: str, line: int) -> bool:
    """A cheap test before parsing: does the function around ``line`` have the word
    ``for`` or ``while`` at all? Conservative: module-level code, or a line it cannot
    place, answers yes (the parser decides)."""
    span = _function_span(filename, line)
    if span is None:
        return True
    lines = linecache.getlines(filename)[span[0] - 1 : span[1]]
    return any(_LOOP_WORD.search(body.split("#", 1)[0]) for body in lines)


def _map_of(filename: str, line: int) -> LoopMap:
    """The loops of the function around ``line`` (parsed alone: the source a query's
    call path names, not its whole file), or of the whole file for module-level code
    or a function whose lines do not parse on their own."""
    span = _function_span(filename, line)
    if span is None:
        return loop_map(filename)
    return _function_loop_map(filename, *span)


@lru_cache(maxsize=4096)
def _function_loop_map(filename: str, first: int, last: int) -> LoopMap:
    lines = linecache.getlines(filename)[first - 1 : last]
    source = "".join(lines)
    offset = first - 1
    if lines and lines[0][:1].isspace():
        # A method or a nested function: indented, so parsed inside a block that keeps
        # its columns (the comprehension spans compare columns).
        source = "if 1:\n" + source
        offset -= 1
    # Blank lines before it give the nodes their line numbers in the file: cheaper than
    # renumbering the tree (ast.increment_lineno visits every node).
    try:
        tree = ast.parse("\n" * max(offset, 0) + source, filename)
    except (SyntaxError, ValueError):
        return loop_map(filename)
    if offset < 0:
        ast.increment_lineno(tree, offset)
    return _build(tree)


@lru_cache(maxsize=4096)
def enclosing(filename: str, line: int) -> tuple[LoopHead, ...]:
    """The loops of ``filename`` whose iteration runs ``line``, innermost first (a
    comprehension counts as a loop over its whole span). A function with no ``for``
    or ``while`` in it is not parsed."""
    if not _function_may_loop(filename, line):
        return ()
    heads = _map_of(filename, line).heads
    found = [(last - first, head) for first, last, head in heads if first <= line <= last]
    found.sort(key=lambda pair: (pair[0], -pair[1].line))
    return tuple(head for _size, head in found)


def _inside(span: Span, line: int, col: int) -> bool:
    start, start_col, end, end_col = span
    if line < start or line > end:
        return False
    if line == start and col < start_col:
        return False
    return not (line == end and col >= end_col)


@lru_cache(maxsize=4096)
def _position(code: CodeType | None, lasti: int) -> tuple[int, int] | None:
    """(line, column) of the instruction at ``lasti`` (Python 3.11+), else None."""
    if code is None or lasti < 0:
        return None
    positions = getattr(code, "co_positions", None)
    if positions is None:
        return None
    for i, (line, _end, col, _end_col) in enumerate(positions()):
        if i == lasti // 2:
            if line is None or col is None:
                return None
            return line, col
    return None


def repeats(filename: str, line: int, code: CodeType | None = None, lasti: int = -1) -> bool:
    """Whether the code running at ``filename:line`` (instruction ``lasti`` of ``code``)
    runs once per iteration of some loop."""
    comprehension_frame = code is not None and code.co_name in COMPREHENSION_FRAMES
    loops = _map_of(filename, line)
    on_line = [c for c in loops.comprehensions if c[0][0] <= line <= c[0][2]]
    position = _position(code, lasti) if on_line else None
    # Innermost first: a comprehension nested in another one's element decides.
    on_line.sort(key=lambda c: (c[0][2] - c[0][0], c[0][3] - c[0][1]))
    if position is not None and on_line:
        at_line, col = position
        for whole, parts, generators, fixed in on_line:
            if _inside(whole, at_line, col):
                if any(_inside(part, at_line, col) for part in parts):
                    return not fixed
                if comprehension_frame:
                    # Iterating the first iterable (once). Python 3.11 also places a
                    # nested generator's iteration here: with several, count it.
                    return generators > 1 and not fixed
                # Evaluating the first iterable, in the frame around the comprehension.
                return line in loops.repeated
    if on_line and all(c[3] for c in on_line):
        return line in loops.repeated  # comprehensions over fixed collections only
    if comprehension_frame:
        return True
    if on_line and position is None and line not in loops.once:
        return True  # Python 3.10: no columns, a comprehension's line counts as repeated
    return line in loops.repeated


def constant(filename: str, line: int) -> bool:
    """Whether only a loop over a collection written in the code repeats this line."""
    return line in _map_of(filename, line).constant
