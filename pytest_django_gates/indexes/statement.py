"""What one SQL statement filters, joins and orders on: a conservative reading of Django's SQL.

:func:`parse` reads the SQL that Django's compilers write (``SELECT ... FROM "t"
[INNER | LEFT OUTER] JOIN "u" [AS] "T3" ON (...) WHERE ... ORDER BY ... LIMIT n``,
``UPDATE "t" SET ... WHERE ...``, ``DELETE FROM "t" WHERE ...``) and returns
a :class:`Statement`, or ``None`` for anything it does not fully understand
(subqueries, unions, CTEs, comma joins, raw SQL of other shapes): when unsure,
nothing is judged.

Only predicates an ordinary B-tree index on the column itself serves are kept
(``"t"."c" = %s``, ``<``, ``<=``, ``>``, ``>=``, ``IN (...)``, ``BETWEEN``), and
only those on the AND path from the top of the WHERE clause (a predicate under
``OR`` or ``NOT`` needs more than one index, or none). ``LIKE`` (``contains``,
``icontains``, ``startswith``: a plain index serves none of them on PostgreSQL's
default collation), ``IS NULL``, functions of a column (``UPPER("c")``,
full-text search), ``<>`` and bare boolean columns are never predicates here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<qident>"(?:[^"]|"")+")
      | (?P<string>'(?:[^']|'')*')
      | (?P<param>%s|%\(\w+\)s|\?|\$\d+)
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<word>[A-Za-z_][\w$]*)
      | (?P<op><=|>=|<>|!=|::|\|\||[=<>(),.*+\-/%;\[\]:@~&|^#!])
    )""",
    re.VERBOSE,
)

RANGE_OPS = frozenset({"<", "<=", ">", ">="})
CMP_OPS = frozenset({"=", *RANGE_OPS})
# Words that end the FROM clause, or start a clause this reader does not look into.
_CLAUSES = ("WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "FOR", "WINDOW", "RETURNING")
_JOIN_WORDS = frozenset({"INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "JOIN", "NATURAL"})


@dataclass(frozen=True)
class Token:
    kind: str  # qident | string | param | number | word | op
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text


@dataclass(frozen=True)
class Column:
    alias: str  # the table alias (the table name when not aliased)
    column: str


@dataclass(frozen=True)
class Predicate:
    column: Column
    op: str  # "=", "<", ..., "IN", "BETWEEN"

    @property
    def equality(self) -> bool:
        return self.op in ("=", "IN")


@dataclass(frozen=True)
class Join:
    left: Column
    right: Column


@dataclass(frozen=True)
class Order:
    column: Column
    descending: bool


@dataclass(frozen=True)
class Statement:
    kind: str  # SELECT | UPDATE | DELETE
    tables: dict[str, str]  # alias -> table name, in FROM / JOIN order
    predicates: tuple[Predicate, ...] = ()
    joins: tuple[Join, ...] = ()
    order: tuple[Order, ...] = ()  # empty also when ORDER BY is not plain columns
    limit: bool = False
    inner: frozenset[str] = field(default_factory=frozenset)  # aliases joined with INNER JOIN

    def predicates_of(self, alias: str) -> tuple[Predicate, ...]:
        return tuple(p for p in self.predicates if p.column.alias == alias)

    def join_columns_of(self, alias: str) -> tuple[str, ...]:
        cols: list[str] = []
        for join in self.joins:
            for side in (join.left, join.right):
                if side.alias == alias and side.column not in cols:
                    cols.append(side.column)
        return tuple(cols)


class _Unsure(Exception):
    """The statement is not one this reader understands: judge nothing."""


def tokenize(sql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = sql.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise _Unsure(f"cannot read {text[pos : pos + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append(Token(kind, match.group(kind)))
        pos = match.end()
    return tokens


def _name(token: Token) -> str | None:
    if token.kind == "qident":
        return token.text[1:-1].replace('""', '"')
    if token.kind == "word":
        return token.text
    return None


@lru_cache(maxsize=4096)
def parse(sql: str) -> Statement | None:
    """The statement's tables, predicates, joins and order, or ``None`` when unsure."""
    try:
        tokens = tokenize(sql)
        return _Parser(tokens).statement()
    except (_Unsure, IndexError):
        return None


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.tables: dict[str, str] = {}
        self.inner: set[str] = set()
        self.joins: list[Join] = []

    # ---------------------------------------------------------------- structure

    def statement(self) -> Statement | None:
        toks = self.tokens
        if not toks:
            return None
        if sum(1 for t in toks if t.upper in ("SELECT", "UNION", "INTERSECT", "EXCEPT")) > (
            1 if toks[0].upper == "SELECT" else 0
        ):
            return None  # a subquery or a compound statement
        first = toks[0].upper
        if first == "SELECT":
            return self._select()
        if first == "UPDATE":
            return self._update()
        if first == "DELETE":
            return self._delete()
        return None

    def _clauses(self, start: int) -> dict[str, list[Token]]:
        """Split ``tokens[start:]`` (from FROM on) into top-level clauses by keyword."""
        parts: dict[str, list[Token]] = {}
        current = "FROM"
        depth = 0
        toks = self.tokens
        i = start
        while i < len(toks):
            tok = toks[i]
            if tok.text == "(":
                depth += 1
            elif tok.text == ")":
                depth -= 1
            elif depth == 0 and tok.upper in _CLAUSES:
                word = tok.upper
                if word in ("GROUP", "ORDER"):
                    if i + 1 >= len(toks) or toks[i + 1].upper != "BY":
                        raise _Unsure(word)
                    i += 1
                if word in parts:
                    raise _Unsure(f"two {word} clauses")
                current = word
                parts[current] = []
                i += 1
                continue
            parts.setdefault(current, []).append(tok)
            i += 1
        return parts

    def _select(self) -> Statement | None:
        depth = 0
        for i, tok in enumerate(self.tokens):
            if tok.text == "(":
                depth += 1
            elif tok.text == ")":
                depth -= 1
            elif depth == 0 and tok.upper == "FROM":
                clauses = self._clauses(i + 1)
                break
        else:
            return None  # SELECT without FROM
        self._from(clauses.get("FROM", []))
        predicates = self._where(clauses.get("WHERE", []))
        order = self._order(clauses.get("ORDER", []))
        return Statement(
            kind="SELECT",
            tables=dict(self.tables),
            predicates=predicates,
            joins=tuple(self.joins),
            order=order,
            limit="LIMIT" in clauses,
            inner=frozenset(self.inner),
        )

    def _update(self) -> Statement | None:
        toks = self.tokens
        table = _name(toks[1])
        if table is None or toks[1].kind != "qident":
            return None
        self.tables[table] = table
        depth = 0
        for i, tok in enumerate(toks):
            if tok.text == "(":
                depth += 1
            elif tok.text == ")":
                depth -= 1
            elif depth == 0 and tok.upper == "WHERE":
                where = toks[i + 1 :]
                break
        else:
            where = []
        return Statement(kind="UPDATE", tables=dict(self.tables), predicates=self._where(where))

    def _delete(self) -> Statement | None:
        if len(self.tokens) < 3 or self.tokens[1].upper != "FROM":
            return None
        clauses = self._clauses(2)
        if set(clauses) - {"FROM", "WHERE"}:
            return None
        source = clauses.get("FROM", [])
        if len(source) != 1 or source[0].kind != "qident":
            return None
        table = _name(source[0])
        assert table is not None
        self.tables[table] = table
        return Statement(
            kind="DELETE",
            tables=dict(self.tables),
            predicates=self._where(clauses.get("WHERE", [])),
        )

    # --------------------------------------------------------------- FROM / JOIN

    def _from(self, toks: list[Token]) -> None:
        i = self._table(toks, 0)
        while i < len(toks):
            words: list[str] = []
            while i < len(toks) and toks[i].upper in _JOIN_WORDS:
                words.append(toks[i].upper)
                i += 1
            if not words or words[-1] != "JOIN" or words[0] not in ("INNER", "LEFT", "JOIN"):
                raise _Unsure("not an INNER / LEFT OUTER join")
            start = i
            i = self._table(toks, i)
            alias = list(self.tables)[-1]
            if words[0] in ("INNER", "JOIN"):
                self.inner.add(alias)
            if i >= len(toks) or toks[i].upper != "ON" or toks[i + 1].text != "(":
                raise _Unsure("JOIN without ON (...)")
            end = _matching(toks, i + 1)
            tree = _condition(toks[i + 2 : end])
            for atom in _and_atoms(tree):
                join = self._join_atom(atom)
                if join is not None:
                    self.joins.append(join)
            i = end + 1
            del start

    def _table(self, toks: list[Token], i: int) -> int:
        if i >= len(toks) or toks[i].kind != "qident":
            raise _Unsure("FROM item is not a table")
        table = _name(toks[i])
        assert table is not None
        i += 1
        alias = table
        if i < len(toks) and toks[i].upper == "AS":
            i += 1
        if (
            i < len(toks)
            and toks[i].kind in ("qident", "word")
            and toks[i].upper
            not in (
                *_JOIN_WORDS,
                "ON",
            )
        ):
            alias = _name(toks[i]) or table
            i += 1
        if alias in self.tables:
            raise _Unsure(f"alias {alias} twice")
        self.tables[alias] = table
        return i

    # --------------------------------------------------------------- conditions

    def _column(self, toks: list[Token]) -> Column | None:
        """``"alias"."col"`` (or ``"col"`` with a single table), else None."""
        if len(toks) == 3 and toks[1].text == "." and toks[0].kind in ("qident", "word"):
            alias, column = _name(toks[0]), _name(toks[2])
            if alias in self.tables and column and toks[2].kind == "qident":
                return Column(alias, column)
            return None
        if len(toks) == 1 and toks[0].kind == "qident" and len(self.tables) == 1:
            name = _name(toks[0])
            assert name is not None
            return Column(next(iter(self.tables)), name)
        return None

    def _join_atom(self, atom: list[Token]) -> Join | None:
        op = _top_op(atom)
        if op is None or atom[op].text != "=":
            return None
        left, right = self._column(atom[:op]), self._column(atom[op + 1 :])
        if left is None or right is None or left.alias == right.alias:
            return None
        return Join(left, right)

    def _where(self, toks: list[Token]) -> tuple[Predicate, ...]:
        if not toks:
            return ()
        predicates: list[Predicate] = []
        for atom in _and_atoms(_condition(toks)):
            pred = self._predicate(atom)
            if isinstance(pred, Predicate):
                predicates.append(pred)
            elif isinstance(pred, Join):
                self.joins.append(pred)
        return tuple(predicates)

    def _predicate(self, atom: list[Token]) -> Predicate | Join | None:
        upper = [t.upper for t in atom]
        if "BETWEEN" in upper:
            at = upper.index("BETWEEN")
            col = self._column(atom[:at])
            rest = atom[at + 1 :]
            if col and len(rest) == 3 and rest[1].upper == "AND" and _values(rest[::2]):
                return Predicate(col, "BETWEEN")
            return None
        if "IN" in upper:
            at = upper.index("IN")
            col = self._column(atom[:at])
            rest = atom[at + 1 :]
            if (
                col
                and len(rest) >= 3
                and rest[0].text == "("
                and rest[-1].text == ")"
                and _values([t for t in rest[1:-1] if t.text != ","])
            ):
                return Predicate(col, "IN")
            return None
        op = _top_op(atom)
        if op is None or atom[op].text not in CMP_OPS:
            return None
        col = self._column(atom[:op])
        if col is None:
            return None
        value = atom[op + 1 :]
        other = self._column(value)
        if other is not None:
            if atom[op].text == "=" and other.alias != col.alias:
                return Join(col, other)
            return None
        if _values(value[:1]) and _cast_only(value[1:]):
            return Predicate(col, atom[op].text)
        return None

    def _order(self, toks: list[Token]) -> tuple[Order, ...]:
        if not toks:
            return ()
        items = _split(toks, ",")
        order: list[Order] = []
        for item in items:
            descending = False
            words = [t.upper for t in item]
            while (
                item
                and item[-1].kind == "word"
                and words[-1]
                in (
                    "ASC",
                    "DESC",
                    "NULLS",
                    "FIRST",
                    "LAST",
                )
            ):
                if words[-1] == "DESC":
                    descending = True
                if words[-1] in ("FIRST", "LAST"):
                    return ()  # NULLS FIRST / LAST: an index built so serves it, not judged
                item, words = item[:-1], words[:-1]
            col = self._column(item)
            if col is None:
                return ()  # ordered by an expression or a select alias: not judged
            order.append(Order(col, descending))
        return tuple(order)


def _matching(toks: list[Token], open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(toks)):
        if toks[i].text == "(":
            depth += 1
        elif toks[i].text == ")":
            depth -= 1
            if depth == 0:
                return i
    raise _Unsure("unbalanced parentheses")


def _split(toks: list[Token], sep: str) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for tok in toks:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        if depth == 0 and tok.text == sep:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def _top_op(atom: list[Token]) -> int | None:
    """Index of the one comparison operator at depth 0, else None."""
    depth = 0
    found: int | None = None
    for i, tok in enumerate(atom):
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif (
            depth == 0 and tok.kind == "op" and tok.text in ("=", "<", ">", "<=", ">=", "<>", "!=")
        ):
            if found is not None:
                return None
            found = i
    return found


def _values(toks: list[Token]) -> bool:
    return bool(toks) and all(t.kind in ("param", "number", "string") for t in toks)


def _cast_only(toks: list[Token]) -> bool:
    """Nothing, or a ``::type`` cast of the value (PostgreSQL)."""
    if not toks:
        return True
    return toks[0].text == "::" and all(t.kind in ("word", "qident") for t in toks[1:])


# A condition tree: ("and", [...]) | ("or", [...]) | ("not", x) | ("atom", tokens)
Node = tuple[str, object]


def _condition(toks: list[Token]) -> Node:
    groups = _split_word(toks, "OR")
    if len(groups) > 1:
        return ("or", [_conjunction(g) for g in groups])
    return _conjunction(toks)


def _conjunction(toks: list[Token]) -> Node:
    parts = _split_word(toks, "AND")
    if len(parts) == 1:
        return _primary(parts[0])
    return ("and", [_primary(p) for p in parts])


def _primary(toks: list[Token]) -> Node:
    if not toks:
        raise _Unsure("empty condition")
    if toks[0].upper == "NOT":
        return ("not", _primary(toks[1:]))
    if toks[0].text == "(" and _matching(toks, 0) == len(toks) - 1:
        return _condition(toks[1:-1])
    return ("atom", toks)


def _split_word(toks: list[Token], word: str) -> list[list[Token]]:
    """Split on ``word`` at depth 0; the AND of ``BETWEEN x AND y`` stays in its atom."""
    parts: list[list[Token]] = [[]]
    depth = 0
    between = False
    for tok in toks:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif depth == 0 and tok.upper == "BETWEEN":
            between = True
        elif depth == 0 and tok.upper == word and tok.kind == "word":
            if word == "AND" and between:
                between = False
            else:
                parts.append([])
                continue
        parts[-1].append(tok)
    return parts


def _and_atoms(node: Node) -> list[list[Token]]:
    """The atoms on the AND path from the top (not under OR or NOT)."""
    kind, value = node
    if kind == "atom":
        assert isinstance(value, list)
        return [value]
    if kind == "and":
        assert isinstance(value, list)
        return [atom for child in value for atom in _and_atoms(child)]
    return []
