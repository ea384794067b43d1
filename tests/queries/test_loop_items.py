"""What a loop walks (queries/items.py) and the cheap test before parsing a file
(queries/loops.py), as units."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import FrameType

from pytest_django_gates.queries import loops

SOURCE = textwrap.dedent(
    """
    def no_loop():
        x = 1
        return x


    def comprehension(items):
        return [
            q(x)
            for x in items
        ]


    for y in range(3):
        q(y)


    class C:
        def method(self):
            while True:
                q()

        def numbered(self, lines):
            for number, line in enumerate(lines, 1):
                q(line)


    def roles(form):
        for role, label in form.fields["role"].choices:
            q(role)
        for role, label in Roles.choices:
            q(role)
        for value in Color.__members__:
            q(value)
    """
)


def test_a_function_without_for_or_while_is_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text(SOURCE)
    name = str(path)
    assert not loops._function_may_loop(name, 3)
    assert loops.enclosing(name, 3) == ()
    assert loops._function_may_loop(name, 9)  # a comprehension over several lines
    assert loops._function_may_loop(name, 15)  # module-level code: the parser decides
    assert loops._function_may_loop(name, 21)
    (head,) = loops.enclosing(name, 21)
    assert head.kind == "while"
    (comp,) = loops.enclosing(name, 9)
    assert (comp.kind, comp.targets, comp.iter_name) == ("for", ("x",), "items")
    # enumerate's counter is not what the loop walks
    (numbered,) = loops.enclosing(name, 25)
    assert numbered.targets == ("line",)


def test_a_loop_over_an_enumeration_s_members_is_fixed(tmp_path: Path) -> None:
    """``Roles.choices`` (Django's Choices) and ``Color.__members__`` list what the code
    defines; a form field's ``choices`` may be rows of a query (a ModelChoiceField)."""
    path = tmp_path / "mod.py"
    path.write_text(SOURCE)
    name = str(path)
    by_line = {line: loops.enclosing(name, line) for line in (30, 32, 34)}
    assert [head.fixed for (head,) in by_line.values()] == [False, True, True]


def test_a_collection_written_with_unpacking_is_not_fixed(tmp_path: Path) -> None:
    """``(a, b)`` repeats twice whatever the data; ``[*imported, *existing]`` and
    ``{**defaults, **posted}`` repeat once per item of what they unpack."""
    path = tmp_path / "mod.py"
    path.write_text(
        textwrap.dedent(
            """
            def f(imported, existing, defaults, posted):
                for a in (imported, existing):
                    q(a)
                for b in [*imported, *existing]:
                    q(b)
                for c in {**defaults, **posted}:
                    q(c)
                for d in {"x": 1, **DEFAULTS}:
                    q(d)
                for e in (*KINDS, "other"):
                    q(e)
            """
        )
    )
    name = str(path)
    fixed = [head.fixed for line in (4, 6, 8, 10, 12) for head in loops.enclosing(name, line)]
    assert fixed == [True, False, False, True, True]


def test_a_function_parsed_alone_gives_what_the_whole_file_gives() -> None:
    """The loops of the function around a line are parsed from its own lines (methods
    too, indented), and every line answers as it would from the whole file's parse:
    checked on every line of real modules of this package and of Django."""
    import django.db.models.query as django_query

    from pytest_django_gates.queries import detect

    for module in (detect, loops, django_query):
        name = str(module.__file__)
        whole = loops.loop_map(name)
        total = len(linecache_lines(name))
        for line in range(1, total + 1):
            part = loops._map_of(name, line)
            assert (line in part.repeated) == (line in whole.repeated), (name, line)
            assert (line in part.once) == (line in whole.once), (name, line)
            assert (line in part.constant) == (line in whole.constant), (name, line)
            assert [h for f, la, h in part.heads if f <= line <= la] == [
                h for f, la, h in whole.heads if f <= line <= la
            ], (name, line)


def test_a_function_that_does_not_parse_alone_falls_back_to_the_file(tmp_path: Path) -> None:
    # A string whose lines start at column 0 ends the function for the indentation
    # scan, so the loop's line seems to lie past it: the whole file is parsed instead.
    path = tmp_path / "mod.py"
    path.write_text(
        "def f(rows):\n    text = '''\nno indent\n'''\n    for row in rows:\n        q(row)\n"
    )
    (head,) = loops.enclosing(str(path), 6)
    assert head.targets == ("row",)


def linecache_lines(name: str) -> list[str]:
    import linecache

    return linecache.getlines(name)


LOOP_OVER_INPUT = textwrap.dedent(
    """
    import sys


    def run(items, judge):
        verdicts = []
        for item in items:
            verdicts.append(judge(sys._getframe()))
        return verdicts
    """
)


def test_a_frame_s_loops_are_remembered_by_its_code_and_instruction(tmp_path: Path) -> None:
    import importlib.util

    from pytest_django_gates.queries import items
    from pytest_django_gates.queries.stack import Classifier

    path = tmp_path / "jobs.py"
    path.write_text(LOOP_OVER_INPUT, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("djg_jobs_loop", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classifier = Classifier()

    def judge(frame: FrameType) -> items.LoopItems | None:
        return items.judge(frame, classifier.kind, set())

    first = module.run(["a", "b"], judge)
    expected = items.LoopItems(False, "str values", str(path), 7)
    assert first == [expected, expected]
    remembered = [v for v in items._heads.values() if v[0] is module.run.__code__]
    assert len(remembered) == 1  # one instruction of run: the judge call in the loop
    assert [head.line for head in remembered[0][1]] == [7]
    items._heads.clear()  # judged afresh: the same verdicts
    assert module.run(["c"], judge) == [expected]


def test_a_for_loop_knows_the_names_its_body_assigns(tmp_path: Path) -> None:
    """What each iteration looks up (``row = by_key[key]``), for the rule that a row of a
    multi-row queryset looked up in the body makes the loop one of rows: plain names,
    unpacked names and ``:=``, not the loop's own targets, not the names a function or a
    class defined in the body assigns."""
    path = tmp_path / "mod.py"
    path.write_text(
        textwrap.dedent(
            """
            def walk(graph, by_key):
                for key, children in graph.items():
                    row = by_key[key]
                    first, *rest = children or [None]
                    if (size := len(children)) > 1:
                        total: int = size

                    def helper():
                        hidden = 1
                        return hidden

                    class Local:
                        inside = 2

                    q(row)
            """
        )
    )
    (head,) = loops.enclosing(str(path), 15)
    assert head.targets == ("key", "children")
    assert head.assigned == ("row", "first", "rest", "size", "total")
