r"""N+1 detection over the queries one test ran.

*Code under test* is user code that is not test code (test modules,
``conftest.py``, files under a ``tests``/``test`` directory; see
:mod:`pytest_django_gates.queries.stack`). Three rules, all reported as
``DJG101``; each needs a loop that the code under test (or its template, or a
library it called) drives, never the test's own loop:

* **repeated** — at least ``threshold`` SELECTs of the same shape, on the same
  database alias, from the same call path through the code under test (plus the
  template line when rendering), within the same HTTP request (or outside any
  request) (test frames included: two calls from two lines of a test are two
  calls), loading the same thing (two relations that reach one table,
  ``loan.book.author == loan.borrower``, or two ``prefetch_related`` lookups that
  do, ``prefetch_related("lender", "borrower")``, are different statements), that

  - do not all carry the same parameters, or lazily load one relation of
    ``threshold`` or more distinct rows of multi-row querysets (:func:`per_row`):
    rows that share one related object (three books by one author) run the
    same ``SELECT ... WHERE id = 1`` once per row, and that is still one query
    per row. Only the same statement with the same values on no row or on one
    row is a constant duplicate (``{{ user.orders.count }}`` twice on one line,
    the two session reads of ``client.login()``, the admin's two counts), not
    one per row; it is still tried by the latent rule (one row's relation read
    twice in a loop over rows that holds one row);
  - are repeated by a loop of the code under test or a template
    ``{% for %}``; or by library code it called, when no test frame on the path
    is in a loop (a test that calls the code three times in its own ``for``,
    over rows or over a collection written in the test, repeats the call, not a
    query per row, also with library frames between the test and the code:
    ``for email in ("alice@…", "bob@…"): client.login(...)`` reaching the
    project's authentication backend), no frame is in a loop over a collection
    written in the code (``for typ in Authenticator.Type``), and ``threshold`` of
    them came from one call site (every frame at the same instruction: a
    library's loop goes through the same instructions for each row, while
    ``has_group(user, "admin") or has_group(user, "user")``, or a create that
    looks up two nested foreign keys on one line, is two call sites of one line
    run once each: a fixed number of queries). Inside an HTTP request the
    test's loop is not looked at: each request is its own unit (its queries are
    never grouped with another request's), so a test that POSTs or GETs in a
    ``for`` / ``while`` repeats the request, and the repetition inside one
    request is the code's, as when the request is made once;
  - are not the pages of a batched walk (``WHERE pk > ? ORDER BY pk LIMIT n``,
    or one query at successive ``OFFSET``\s).

* **latent** — a relation (or deferred field) lazily loaded once, on an
  instance that came from a multi-row queryset, from code that a loop repeats:
  any frame of the code under test whose running statement a ``for``/``while``
  body or a comprehension repeats on every iteration (not the branch that
  ``return``\s or ``break``\s out, not a comprehension's first iterable, see
  :mod:`pytest_django_gates.queries.loops`), or a ``{% for %}`` in the template
  that called it (also through a model method, ``{{ shop }}`` → ``__str__``),
  or a library's loop over rows it fetched itself (:func:`walked_by_library`):
  a library's view that fetches its queryset and reads each row's relation in
  the same call (a REST framework's list view, whose only project frame may
  be a middleware's ``get_response`` line; the admin's change list calling a
  ``list_display`` method per row). The rows are the view's queryset, the rows
  of a loop. A template that fetched the rows and read one of them
  (``{% if books %}{{ books.0.author }}``) loops only with its own
  ``{% for %}``. With one row of test data there is one query; in production,
  one per row. Not latent: rows a prefetch returns when the outer query fixes the
  prefetched relation's key (``filter(object_id=pk).prefetch_related("target")``,
  at most one row; see ``capture._key_pinned``), and one row the test fetched on a
  line of its own and handed to code whose loops walk no rows
  (:func:`_one_row_handed_on`).

* **rows** — the same relation loaded lazily on ``threshold`` or more rows of
  one queryset evaluation by library code the test called, with no code under
  test on the way (a nested serializer, the admin's change list), with
  different parameters or on distinct rows (:func:`per_row`); with one row, the
  latent rule when the library fetched the rows itself in the same call. A
  relation read by the test's own line (``book.author`` written in the test) is
  not one.

A *repeated* finding whose loop walks items of the input rather than rows of a query
(:func:`input_loop`, judged by :mod:`pytest_django_gates.queries.items`: the lines of
a file, the items of a request body, a ``while`` prompt) is ``DJG110`` instead, with a
batched-lookup hint (:func:`input_fix`). Latent and rows findings always walk rows.

Django 6.1's ``FETCH_PEERS`` loads are one query for all rows and never count.
Queries whose call path passes through a module in ``queries.ignore_callers``
(factory_boy, model_bakery…) never count: building test data is not the code
under test.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pytest_django_gates.queries import capture, loops, sql
from pytest_django_gates.queries.capture import QueryEvent, Relation
from pytest_django_gates.queries.items import WHILE_LOOP, LoopItems
from pytest_django_gates.queries.stack import Site, relative

CODE = "DJG101"
# A repetition once per item of the input, not per row (queries.input_loops).
INPUT_CODE = "DJG110"

_KIND_TEXT = {
    "forward": "foreign key",
    "reverse_one_to_one": "reverse one-to-one",
    "reverse_many": "reverse foreign key",
    "many_to_many": "many-to-many",
    "generic": "generic foreign key",
    "deferred": "deferred field",
}


@dataclass(frozen=True)
class NPlusOne:
    count: int
    shape: str
    alias: str
    site: Site
    relation: Relation | None
    latent: bool
    # The loop walked items of the input, not rows of a query (DJG110): which, and where.
    input: LoopItems | None = None

    @property
    def code(self) -> str:
        return INPUT_CODE if self.input is not None else CODE

    @property
    def _template_first(self) -> bool:
        """The template itself ran the query (no user frame between them)."""
        return self.site.template is not None and self.site.template_depth == 0

    def location(self, root: Path) -> tuple[str | None, int | None]:
        """The template line when a template ran the query, else the innermost line of
        the code under test (else of the test).

        Views returning a ``TemplateResponse`` render after the view returned,
        so the template is the only place that names the loop.
        """
        if self._template_first and self.site.template:
            name, line = self.site.template
            return relative(name, root), line
        frame = self.site.shown
        if frame is None:
            return None, None
        return relative(frame[0], root), frame[1]

    def headline(self, root: Path) -> str:
        path, line = self.location(root)
        where = f"{path}:{line}" if path else "an unknown location"
        frame = self.site.shown
        func = frame[2] if frame else "?"
        if self._template_first:
            func = "template"
        if self.latent:
            lead = f"latent N+1: 1 x {sql.short(self.shape)} at {where} (in {func})"
        elif self.input is not None:
            lead = (
                f"query per input item: {self.count} x {sql.short(self.shape)} at {where} "
                f"(in {func})"
            )
        else:
            lead = f"N+1: {self.count} x {sql.short(self.shape)} at {where} (in {func})"
        return lead

    def message(self, root: Path) -> str:
        lines = [self.headline(root)]
        rel = self.relation
        if self.input is not None:
            loop = f"{_shown(self.input.path, root)}:{self.input.line}"
            if self.input.what == WHILE_LOOP:
                lines.append(
                    f"the while loop at {loop} repeats it once per item it reads (a prompt's "
                    "answers, a stream's messages), not per row of a query: it grows with "
                    "that input, not with the table"
                )
            else:
                lines.append(
                    f"the loop at {loop} walks {self.input.what}, not rows of a query: it "
                    "runs once per item of one request, file or message, and grows with "
                    "its size, not with the table"
                )
        elif rel is not None:
            kind = _KIND_TEXT.get(rel.kind, rel.kind)
            if rel.prefetched:
                lines.append(
                    f"relation: {rel.model}.{rel.name} ({kind}) was prefetched, but the "
                    "prefetch cache is bypassed by filtering it again"
                )
            elif rel.kind == "deferred":
                lines.append(
                    f"field: {rel.model}.{rel.name} was deferred (.only()/.defer()) "
                    "and is loaded once per row"
                )
            else:
                lines.append(f"relation: {rel.model}.{rel.name} ({kind}) loaded once per row")
        if self.latent:
            lines.append(
                "the test data has one row, so it ran once; it runs once per row in production"
            )
        origin = capture.source(rel)
        if origin is not None and origin.site is not None:
            built = origin.site.shown
            if built is not None:
                lines.append(
                    f"rows: the {origin.model} queryset evaluated at "
                    f"{relative(built[0], root)}:{built[1]} (in {built[2]})"
                )
        if self.site.template and not self._template_first:
            name, line = self.site.template
            lines.append(f"called from template {relative(name, root)}:{line}")
        elif self.site.template and (frame := self.site.shown) is not None:
            lines.append(f"rendered for {relative(frame[0], root)}:{frame[1]} (in {frame[2]})")
        if len(self.site.frames) > 1:
            chain: list[str] = []
            for f in self.site.frames[:5]:
                text = f"{relative(f[0], root)}:{f[1]}"
                if not chain or chain[-1] != text:
                    chain.append(text)
            if len(chain) > 1:
                lines.append(f"call path: {' <- '.join(chain)}")
        if self.alias != "default":
            lines.append(f"database: {self.alias}")
        return "\n".join(lines)

    def hint(self) -> str:
        if self.input is not None:
            return input_fix(self.shape, self.site, self.input.what)
        return fix_for(self.relation, self.site)


def _shown(path: str, root: Path) -> str:
    """A loop's file as a finding shows it: relative to the project, else from its
    package (the part after ``site-packages/``)."""
    shown = relative(path, root)
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in shown:
            return shown.rsplit(marker, 1)[1]
    return shown


_WHERE_COLUMN = re.compile(
    r'\bWHERE\s+(?:"(?P<table>[^"]+)"\.)?"(?P<column>[^"]+)"\s*(?:=|IN\b)', re.I
)
_FROM_TABLE = re.compile(r'\bFROM\s+"(?P<table>[^"]+)"', re.I)


def _model_of(table: str) -> str:
    """The model name of a database table (``shop_tag`` -> ``Tag``), else ``<Model>``."""
    from django.apps import apps

    if not apps.ready:  # pragma: no cover - findings are made inside Django tests
        return "<Model>"
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model._meta.object_name or "<Model>"
    return "<Model>"


def input_fix(shape: str, site: Site, what: str = "") -> str:
    """The batched lookup for a statement run once per input item (``DJG110``): one
    query for all the items before the loop, a dict to read in it. Items read one at a
    time (a ``while`` loop: a prompt, a stream) cannot all be looked up first."""
    entry = site.entry[1] if site.entry else ""
    if what == WHILE_LOOP:
        return (
            "items read one at a time (a prompt's answers, a stream's messages) cannot be "
            "looked up before the loop: one query each is expected; when they can be read "
            "first, collect them and look them all up with one filter(<field>__in=...) "
            "query. Allow it with a queries.allow entry (code DJG110) or "
            'queries.input_loops = "off" if it is meant'
        )
    where = _WHERE_COLUMN.search(shape)
    table = _FROM_TABLE.search(shape)
    model = _model_of(table["table"]) if table else "<Model>"
    column = where["column"] if where else "<field>"
    field = "pk" if column == "id" else column.removesuffix("_id")
    values = f"<the items' {field} values>"
    if entry in ("exists", "aexists"):
        return (
            f"test every item with one query before the loop: known = set({model}.objects."
            f"filter({field}__in={values}).values_list('{field}', flat=True)), then "
            f"'value in known' in the loop"
        )
    if field == "pk":
        lookup = f"{model}.objects.in_bulk({values})"
    else:
        lookup = (
            f"{{obj.{field}: obj for obj in {model}.objects.filter({field}__in={values})}} "
            f"(or {model}.objects.in_bulk({values}, field_name='{field}') when {field} is "
            "unique)"
        )
    text = (
        f"look every item up with one query before the loop: rows = {lookup}, then read "
        "rows.get(value) in the loop"
    )
    if entry in ("get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"):
        text += f"; create the missing ones at once with {model}.objects.bulk_create([...])"
    return text


# Relations Django 6.1's fetch modes batch (forward FK / one-to-one, reverse
# one-to-one, deferred fields, generic FK); related managers are not batched.
_PEERS_KINDS = frozenset({"forward", "reverse_one_to_one", "deferred", "generic"})


@functools.cache
def fetch_modes_available() -> bool:
    """Django 6.1+ (``QuerySet.fetch_mode()``); imports Django, so only call it in tests."""
    from pytest_django_gates.queries.capture import has_fetch_modes

    try:
        return has_fetch_modes()
    except ImportError:  # pragma: no cover - Django is a dependency
        return False


def _peers_fix(model: str) -> str:
    if not fetch_modes_available():
        return ""
    return f"; or, on Django 6.1+, {model}.objects.fetch_mode(models.FETCH_PEERS)"


def fix_for(relation: Relation | None, site: Site) -> str:
    """The fix, in Django terms, for an N+1 of this relation / call."""
    entry = site.entry[1] if site.entry else ""
    module = site.entry[0] if site.entry else ""
    if relation is not None and not relation.prefetched and entry in ("count", "acount"):
        model = relation.model.rsplit(".", 1)[-1]
        return (
            f"{model}.objects.annotate({relation.name}_count=Count('{relation.name}')) "
            "and read the annotation in the loop"
        )
    if relation is not None and not relation.prefetched and entry in ("exists", "aexists"):
        model = relation.model.rsplit(".", 1)[-1]
        return (
            f"{model}.objects.annotate(has_{relation.name}=Exists(<{relation.name} subquery>)), "
            f"or prefetch_related('{relation.name}') and test the cached list"
        )
    if relation is not None:
        model = relation.model.rsplit(".", 1)[-1]
        name = relation.name
        peers = _peers_fix(model) if relation.kind in _PEERS_KINDS else ""
        origin = capture.source(relation)
        only = origin.only if origin is not None else None
        if only is not None and relation.kind in ("forward", "reverse_one_to_one", "deferred"):
            # select_related() of a field left out of .only() raises FieldError: keep it.
            fields = ", ".join(repr(f) for f in sorted({*only, name}))
            if relation.kind == "deferred":
                return f"{model}.objects.only({fields}){peers}"
            return f"{model}.objects.only({fields}).select_related('{name}'){peers}"
        if relation.filtered and relation.kind in ("reverse_many", "many_to_many"):
            target = relation.target or "<Related>"
            return (
                f"the loop narrows {name} per row (filter / order / first / last / earliest): "
                f"fetch only those rows for all at once, {model}.objects.prefetch_related("
                f"Prefetch('{name}', queryset={target}.objects.filter(...).order_by(...), "
                f"to_attr='{name}_selected')), or annotate the value per row with "
                f"Subquery({target}.objects.filter(<outer ref>=OuterRef('pk'))...[:1]); "
                f"prefetch_related('{name}') would load every related row"
            )
        if relation.prefetched:
            return (
                f"filter inside the prefetch instead of on the cached relation: "
                f"{model}.objects.prefetch_related(Prefetch('{name}', "
                f"queryset=<filtered queryset>, to_attr='<name>'))"
            )
        if relation.kind in ("forward", "reverse_one_to_one"):
            return f"{model}.objects.select_related('{name}'){peers}"
        if relation.kind in ("reverse_many", "many_to_many", "generic"):
            return f"{model}.objects.prefetch_related('{name}'){peers}"
        if relation.kind == "deferred":
            return (
                f"load '{name}' with the rows: add it to .only(...) or remove it from "
                f".defer(...){peers}"
            )
    if entry in ("count", "acount"):
        return "compute the counts in the outer query: .annotate(n=Count('<relation>'))"
    if entry in ("exists", "aexists"):
        return "annotate the outer query: .annotate(has_x=Exists(<subquery>))"
    if entry in ("get", "aget", "first", "afirst", "last", "alast", "get_or_create"):
        return "fetch all rows at once before the loop: .in_bulk(ids) or .filter(pk__in=ids)"
    if entry in ("prefetch_related_objects", "aprefetch_related_objects"):
        return "call prefetch_related_objects() once on the whole list, not once per instance"
    if entry in ("execute", "executemany") or module.startswith("django.db.backends"):
        return "run one SELECT for all rows (WHERE id = ANY(%s) / IN (...)) instead of one per row"
    return (
        "fetch the related rows once, before the loop: select_related() for foreign keys, "
        "prefetch_related() for reverse and many-to-many relations"
    )


def find(events: Iterable[QueryEvent], threshold: int) -> list[NPlusOne]:
    """The N+1s among one test's queries (see the module docstring for the rules)."""
    groups: dict[tuple[object, ...], list[QueryEvent]] = {}
    # Rule 3's candidates: one relation loaded row by row from one queryset by library
    # code the test called (a serializer, the admin), with no code under test on the way.
    rows: dict[tuple[object, ...], list[QueryEvent]] = {}
    for event in events:
        site = event.site
        if site.ignored or not sql.is_select(event.sql):
            continue
        if site.innermost_code is not None or site.template:
            # The whole call path, test frames included: two calls from two lines of
            # a test are two calls, not a repetition. Two relations (or prefetch
            # lookups) that reach one table are two statements.
            key = (event.alias, sql.shape(event.sql), site.key, event.request, statement(event))
            groups.setdefault(key, []).append(event)
            continue
        rel = event.relation
        if rel is None or rel.batched or not rel.from_multi or site.direct_test:
            continue
        row_key = (event.alias, rel.model, rel.name, rel.source, event.request)
        rows.setdefault(row_key, []).append(event)

    found: list[NPlusOne] = []
    latent_seen: set[tuple[object, ...]] = set()

    def latent(group: list[QueryEvent], shape: str, alias: str) -> None:
        """The latent rule: one row's relation, loaded where a loop repeats it."""
        first = group[0]
        rel = first.relation
        if rel is None or rel.batched or not rel.from_multi:
            return
        if not (looped(first.site) or walked_by_library(first)):
            return
        if _one_row_handed_on(first):
            return
        latent_key = (rel.model, rel.name, first.site.key)
        if latent_key not in latent_seen:
            latent_seen.add(latent_key)
            found.append(_finding(group, shape, alias, latent=True))

    for (alias, shape, _site, _request, _statement), group in groups.items():
        if len(group) >= threshold:
            if _pages(group):
                continue
            if repeated_by_loop(group, threshold) and (varies(group) or per_row(group, threshold)):
                found.append(
                    _finding(group, str(shape), str(alias), latent=False, items=input_loop(group))
                )
                continue
            if varies(group):
                continue
            # A constant duplicate: one row's relation read again, maybe by a loop over
            # the rows that holds one row (the latent rule below).
        latent(group, str(shape), str(alias))

    for (alias, *_rest), group in rows.items():
        shape = str(sql.shape(group[0].sql))
        if len(group) >= threshold and (varies(group) or per_row(group, threshold)):
            found.append(_finding(group, shape, str(alias), latent=False))
        else:
            latent(group, shape, str(alias))
    return found


def _one_row_handed_on(event: QueryEvent) -> bool:
    """The test fetched the rows on a line of its own and handed one row to the code,
    whose every loop around the load walks something other than rows (its recorders,
    names, dicts): the code repeats its work for that one row, which does not change,
    and never sees the rest (``row = Model.objects.last()`` then ``row.save()``, whose
    log recorders each read ``row.shift``). Rows fetched on the load's own call path
    (``Book.objects.all().delete()`` from the test, the deletion collector calling a
    receiver per row) and a template ``{% for %}`` stay latent."""
    items = event.items
    if items is None or items.rows or event.site.template_loop:
        return False
    origin = capture.source(event.relation)
    if origin is None or origin.site is None or not capture.fetched_by_test(origin):
        return False
    file, line, _func = origin.site.frames[0]
    return all((f[0], f[1]) != (file, line) for f in event.site.frames)


def _finding(
    group: list[QueryEvent], shape: str, alias: str, *, latent: bool, items: LoopItems | None = None
) -> NPlusOne:
    return NPlusOne(
        count=len(group),
        shape=shape,
        alias=alias,
        site=group[0].site,
        relation=_relation_of(group),
        latent=latent,
        input=items,
    )


def input_loop(group: list[QueryEvent]) -> LoopItems | None:
    """The loop of input items that repeated the group, or None when it walked rows of a
    query or nothing tells (see :mod:`pytest_django_gates.queries.items`).

    Rows: a template ``{% for %}`` repeated it, or it loaded a relation of rows of a
    multi-row queryset, or a judged repetition found a loop of rows. Input: a judged
    repetition found only loops of input (the first such verdict is the one shown)."""
    if group[0].site.template_loop:
        return None
    found: LoopItems | None = None
    for event in group:
        if event.relation is not None and event.relation.from_multi:
            return None
        items = event.items
        if items is None:
            continue
        if items.rows:
            return None
        if found is None:
            found = items
    return found


def _pages(group: list[QueryEvent]) -> bool:
    """The repetition walks a queryset page by page, by design (batched processing):
    every statement reads the next keyset page (``WHERE pk > ? ORDER BY pk LIMIT n``), or
    the same query at another ``OFFSET`` with the same parameters. A page holds many
    rows; an N+1 reads one row, or one row's relation, per query."""
    kinds = {sql.page_kind(e.sql) for e in group}
    if kinds == {"keyset"}:
        return True
    return kinds == {"offset"} and len({e.args for e in group}) == 1


def statement(event: QueryEvent) -> tuple[object, ...]:
    """What the query loads, beyond its SQL shape: the relation a lazy load reads
    (``Book.author`` and ``Loan.borrower`` both select one ``shop_author`` row, and are
    two statements of the code), and the ``prefetch_related`` lookup a batched query
    runs for (``"lender"`` and ``"borrower"`` each prefetch ``shop_author`` once)."""
    rel = event.relation
    return (rel.model, rel.name) if rel is not None else (), event.prefetch


def call_sites(group: list[QueryEvent]) -> int:
    """How many of the group's queries came from the one call site (every frame of the
    path at the same instruction) that ran the most of them.

    A loop inside a library runs its queries from one call site: each row goes through
    the same instructions of every user frame. Two calls written on one line
    (``has_group(user, "admin") or has_group(user, "user")``, ``create(a=get(x),
    b=get(y))``) are two call sites on the same line, each run once: a fixed repetition
    written in the code."""
    counts: dict[tuple[int, ...], int] = {}
    for event in group:
        sites = tuple(lasti for _code, lasti in event.site.spots)
        counts[sites] = counts.get(sites, 0) + 1
    return max(counts.values())


def per_row(group: list[QueryEvent], threshold: int) -> bool:
    """The group's queries lazily load one relation of ``threshold`` or more distinct rows
    of multi-row querysets: one query per row, also when every row points at the same
    related object (``book.author`` of three books by one author: the same ``SELECT ...
    WHERE id = 1`` three times)."""
    rows = {
        e.relation.row
        for e in group
        if e.relation is not None
        and e.relation.row
        and e.relation.from_multi
        and not e.relation.batched
    }
    return len(rows) >= threshold


def walked_by_library(event: QueryEvent) -> bool:
    """Library code fetched the rows of this lazy load and, in the same call, loaded the
    relation on one of them: a library's view walks its queryset row by row (a REST
    framework's list view, the admin's change list calling a ``list_display`` method per
    row). The rows are the view's queryset, so they are the rows of a loop.

    Told by the call paths: every user frame of the fetch is also on the load's path, the
    outermost ones, each at the same instruction (the call into the library that fetched
    the rows is still running), in the same HTTP request. Rows the code under test fetched
    itself and then handed on (``books = list(qs)``, then ``render(books[0])``) were
    fetched from another instruction. A template that fetched the rows and read one of
    them (``{% if books %}{{ books.0.author }}``) is the project's code: only its own
    ``{% for %}`` makes a loop there (:func:`looped`)."""
    origin = capture.source(event.relation)
    if origin is None or origin.site is None or origin.request != event.request:
        return False
    fetched, site = origin.site, event.site
    if site.template and fetched.template and site.template[0] == fetched.template[0]:
        return False
    n = len(fetched.frames)
    if not n or len(site.frames) < n:
        return False
    if len(fetched.spots) != n or len(site.spots) != len(site.frames):
        return False
    start = len(site.frames) - n
    frames = zip(site.frames[start:], fetched.frames, strict=True)
    spots = zip(site.spots[start:], fetched.spots, strict=True)
    return all(outer[:2] == inner[:2] for outer, inner in frames) and all(
        a[0] is b[0] and a[1] == b[1] for a, b in spots
    )


def varies(group: list[QueryEvent]) -> bool:
    """Not the same statement with the same parameters every time (a constant duplicate,
    ``{{ user.orders.count }}`` twice on a line): an N+1 reads a different row each time."""
    first = group[0].values
    return any(e.values != first for e in group[1:])


def _relation_of(group: list[QueryEvent]) -> Relation | None:
    for event in group:
        if event.relation is not None:
            return event.relation
    return None


def looped(site: Site) -> bool:
    """A loop of the code under test (any frame of its call path) or a template
    ``{% for %}`` repeats the line that ran this query."""
    if site.template_loop:
        return True
    return any(loops.repeats(f[0], f[1], code, lasti) for f, code, lasti in site.code_spots())


def driven_by_loop(site: Site, *, in_request: bool = False) -> bool:
    """Whether a repetition of this call path comes from the code under test.

    A loop of the code under test or a template repeats it: yes. Otherwise, when a
    test frame on the path lies in a loop, the test repeated its call (the test's
    own loop, over rows or over a collection written in the test, ``for email in
    ("alice@…", "bob@…")``, also with library frames such as ``client.login()``
    between the test and the code): no. Otherwise the repetition happens inside
    libraries the code under test called once per row (a serializer with
    ``many=True``): yes, unless a frame of the code under test lies in a loop over a
    collection written in the code (``for typ in Authenticator.Type``): that repeats
    a fixed number of times.

    ``in_request``: the repetition happened inside one HTTP request of the test client.
    Each request is its own unit (the queries of two requests are never one group), so
    the test's loop around the request repeats the request, never a query inside it:
    test frames are not looked at.
    """
    if looped(site):
        return True
    for frame, is_test, code, lasti in site.all_spots():
        if is_test and in_request:
            continue
        if is_test and (
            loops.repeats(frame[0], frame[1], code, lasti) or loops.constant(frame[0], frame[1])
        ):
            return False  # the test's own loop repeats its call
        if not is_test and loops.constant(frame[0], frame[1]):
            return False  # a loop over a fixed collection of the code: constant
    return True


def repeated_by_loop(group: list[QueryEvent], threshold: int) -> bool:
    """Whether a loop repeated the group's queries (``threshold`` or more, one call path):
    a loop of the code under test or a template, or (:func:`driven_by_loop`) a library
    the code called, which then ran ``threshold`` of them from one call site
    (:func:`call_sites`). With no loop on the path, calls from distinct call sites
    of one line are a fixed number of queries, not one per row."""
    site = group[0].site
    if looped(site):
        return True
    in_request = bool(group[0].request)
    return driven_by_loop(site, in_request=in_request) and call_sites(group) >= threshold


_HEADLINE = re.compile(
    r"^(?:latent N\+1|N\+1|query per input item): \d+ x (?P<sql>.+?) at "
    r"(?:\S+:\d+|an unknown location) \(in "
)
# DJG107's headline, and the first listed write of DJG108 (queries/writes.py).
_WRITE_LOOP = re.compile(r"^write in a loop: \d+ x (?P<sql>.+?) at (?:\S+:\d+|an unknown location)")
_FIRST_WRITE = re.compile(r"^\d+ writes outside a transaction[^\n]*\n  (?P<sql>.+?) at \S+")


def shape_in_message(message: str) -> str | None:
    """The query shape of an N+1 (``DJG101``), write-loop (``DJG107``) or non-atomic
    writes (``DJG108``, its first write) finding's message, as a substring of the full
    shape (a shortened one loses its ellipsis), or None.

    ``django-gates init --baselines`` allows today's problems by file and shape, so
    that lines moving in the file do not bring them back.
    """
    for pattern in (_HEADLINE, _WRITE_LOOP, _FIRST_WRITE):
        match = pattern.match(message)
        if match:
            return match["sql"].removesuffix("…")
    return None
