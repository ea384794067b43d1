"""What a loop walks (queries/items.py) and the cheap test before parsing a file
(queries/loops.py), as units."""

from __future__ import annotations

import textwrap
from pathlib import Path

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
