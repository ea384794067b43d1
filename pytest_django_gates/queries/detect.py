"""N+1 detection over the queries one test ran.

Two rules, both reported as ``DJG101``:

* **repeated** — at least ``threshold`` SELECTs of the same shape, on the same
  database alias, from the same user-code call path (every user frame's file
  and line, plus the template line when rendering), within the same HTTP
  request (or outside any request). Two fetches of the same shape from
  different lines have different call paths and are not an N+1; a test that
  requests the same page three times has three requests and is not one either.
* **latent** — a relation (or deferred field) lazily loaded once, on an
  instance that came from a multi-row queryset, from a line that a loop
  repeats (a ``for``/``while`` body or a comprehension in the innermost two
  user frames, or a ``{% for %}`` in a template). With one row of test data
  there is one query; with a hundred rows in production there are a hundred.

Queries whose call path passes through a module in ``queries.ignore_callers``
(factory_boy, model_bakery…) never count: building test data is not the code
under test.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pytest_django_gates.queries import loops, sql
from pytest_django_gates.queries.capture import QueryEvent, Relation
from pytest_django_gates.queries.stack import Site, relative

CODE = "DJG101"

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

    def location(self, root: Path) -> tuple[str | None, int | None]:
        """The template line when a template ran the query, else the innermost user line.

        Views returning a ``TemplateResponse`` render after the view returned,
        so the template is the only place that names the loop.
        """
        if self.site.template:
            name, line = self.site.template
            return relative(name, root), line
        frame = self.site.innermost
        if frame is None:
            return None, None
        return relative(frame[0], root), frame[1]

    def headline(self, root: Path) -> str:
        path, line = self.location(root)
        where = f"{path}:{line}" if path else "an unknown location"
        func = self.site.innermost[2] if self.site.innermost else "?"
        if self.site.template:
            func = "template"
        if self.latent:
            lead = f"latent N+1: 1 x {sql.short(self.shape)} at {where} (in {func})"
        else:
            lead = f"N+1: {self.count} x {sql.short(self.shape)} at {where} (in {func})"
        return lead

    def message(self, root: Path) -> str:
        lines = [self.headline(root)]
        rel = self.relation
        if rel is not None:
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
        if self.site.template and self.site.innermost:
            frame = self.site.innermost
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
        return fix_for(self.relation, self.site)


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
        if relation.prefetched:
            return (
                f"filter inside the prefetch instead of on the cached relation: "
                f"{model}.objects.prefetch_related(Prefetch('{name}', "
                f"queryset=<filtered queryset>, to_attr='<name>'))"
            )
        peers = _peers_fix(model) if relation.kind in _PEERS_KINDS else ""
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
    groups: dict[tuple[object, ...], list[QueryEvent]] = {}
    for event in events:
        if event.site.ignored or not event.site.frames or not sql.is_select(event.sql):
            continue
        key = (event.alias, sql.shape(event.sql), event.site.key, event.request)
        groups.setdefault(key, []).append(event)

    found: list[NPlusOne] = []
    latent_seen: set[tuple[object, ...]] = set()
    latent_key: tuple[object, ...]
    for (alias, shape, _site, _request), group in groups.items():
        first = group[0]
        relation = _relation_of(group)
        if len(group) >= threshold:
            found.append(
                NPlusOne(
                    count=len(group),
                    shape=str(shape),
                    alias=str(alias),
                    site=first.site,
                    relation=relation,
                    latent=False,
                )
            )
            continue
        rel = first.relation
        if rel is None or rel.batched or not rel.from_multi or not _looped(first.site):
            continue
        latent_key = (rel.model, rel.name, first.site.key)
        if latent_key in latent_seen:
            continue
        latent_seen.add(latent_key)
        found.append(
            NPlusOne(
                count=len(group),
                shape=str(shape),
                alias=str(alias),
                site=first.site,
                relation=rel,
                latent=True,
            )
        )
    return found


def _relation_of(group: list[QueryEvent]) -> Relation | None:
    for event in group:
        if event.relation is not None:
            return event.relation
    return None


def _looped(site: Site) -> bool:
    if site.template_loop:
        return True
    return any(loops.in_loop(filename, line) for filename, line, _ in site.frames[:2])
