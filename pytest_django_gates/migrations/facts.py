"""Facts about models and fields read straight from migration states.

Nothing is rendered (no ``StateApps``) and nothing touches a database: tables,
columns and column types are computed from ``ModelState`` objects and the type
mappings of a ``DatabaseWrapper`` class. Django is imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_django_gates.migrations.base import Env, ModelKey

if TYPE_CHECKING:
    from django.db.migrations.state import ModelState

Lookup = Callable[[ModelKey], "ModelSnap | None"]


@dataclass(eq=False)
class ModelSnap:
    """A model as a migration state sees it, frozen at one point of the walk."""

    app_label: str
    name: str
    fields: dict[str, Any]
    options: dict[str, Any]

    @property
    def key(self) -> ModelKey:
        return (self.app_label, self.name.lower())

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}"

    @classmethod
    def of(cls, state: ModelState, *, copy: bool) -> ModelSnap:
        """``copy`` keeps this snapshot unchanged when the state is mutated later.

        ``ProjectState`` replaces field objects and option lists rather than
        mutating them, so shallow copies of the two dicts are enough.
        """
        fields = dict(state.fields) if copy else state.fields
        options = dict(state.options) if copy else state.options
        return cls(state.app_label, state.name, fields, options)


def kinds(obj: object) -> frozenset[str]:
    """Names of the class of ``obj`` and its bases (operations are matched by name,
    so that ``django.contrib.postgres`` is never imported just to check a type)."""
    cls = type(obj)
    found = _KINDS.get(cls)
    if found is None:
        found = _KINDS[cls] = frozenset(c.__name__ for c in cls.__mro__)
    return found


_KINDS: dict[type, frozenset[str]] = {}


def db_backed(snap: ModelSnap) -> bool:
    """Whether the model has a table of its own (not proxy, managed, not swapped out)."""
    options = snap.options
    if options.get("proxy") or not options.get("managed", True):
        return False
    swappable = options.get("swappable")
    if swappable:
        from django.conf import settings

        target = getattr(settings, swappable, None)
        if target and str(target).lower() != snap.label.lower():
            return False
    return True


def table_name(snap: ModelSnap, env: Env) -> str:
    from django.db.backends.utils import truncate_name

    explicit = snap.options.get("db_table")
    if explicit:
        return str(explicit)
    max_length = env.connection.ops.max_name_length()
    return str(truncate_name(f"{snap.app_label}_{snap.name.lower()}", max_length))


def bound(field: Any, name: str) -> Any:
    """A copy of an unbound state field with ``name``/``attname``/``column`` set.

    Cached: state fields are never mutated in ways that change their column (the
    cache keeps the field alive, so its id is not reused).
    """
    key = (id(field), name)
    cached = _BOUND.get(key)
    if cached is not None and cached[0] is field:
        return cached[1]
    copy = field.clone()
    copy.set_attributes_from_name(name)
    _BOUND[key] = (field, copy)
    return copy


_BOUND: dict[tuple[int, str], tuple[Any, Any]] = {}


def clear_caches() -> None:
    """Forget cached copies of state fields (called at the start of every run)."""
    _BOUND.clear()


def is_m2m(field: Any) -> bool:
    return bool(getattr(field, "many_to_many", False))


def is_generated(field: Any) -> bool:
    return bool(getattr(field, "generated", False))


def column_name(field: Any, name: str) -> str | None:
    if is_m2m(field):
        return None
    return str(bound(field, name).column)


def is_foreign_key(field: Any) -> bool:
    """A many-to-one or one-to-one relation (it has a column, and maybe a constraint)."""
    return bool(
        getattr(field, "remote_field", None) is not None
        and (getattr(field, "many_to_one", False) or getattr(field, "one_to_one", False))
    )


def has_fk_constraint(field: Any) -> bool:
    return is_foreign_key(field) and bool(getattr(field, "db_constraint", True))


def related_key(field: Any, app_label: str) -> ModelKey | None:
    """The model key a relation points to (``"self"`` and unqualified names resolved)."""
    target = getattr(field.remote_field, "model", None)
    if target is None:
        return None
    if not isinstance(target, str):
        meta = target._meta
        return (meta.app_label, meta.model_name)
    if target == "self":
        return None
    if "." in target:
        label, model = target.split(".", 1)
        return (label, model.lower())
    return (app_label, target.lower())


def pk_name(snap: ModelSnap) -> str | None:
    for name, field in snap.fields.items():
        if getattr(field, "primary_key", False):
            return name
    return None


def column_type(
    field: Any,
    name: str,
    snap: ModelSnap,
    lookup: Lookup,
    env: Env,
    _depth: int = 0,
) -> str | None:
    """The database column type of ``snap``'s field ``name`` (``None``: no column).

    Relations take the type of the column they point to, resolved in the state.
    """
    if is_m2m(field):
        return None
    if is_foreign_key(field):
        if _depth > 10:
            return None
        key = related_key(field, snap.app_label)
        target = snap if key is None or key == snap.key else lookup(key)
        if target is None:
            return None
        to_fields = getattr(field, "to_fields", None) or [None]
        to_name = to_fields[0] or pk_name(target)
        if to_name is None or to_name not in target.fields:
            return None
        target_field = target.fields[to_name]
        if is_foreign_key(target_field):
            return column_type(target_field, to_name, target, lookup, env, _depth + 1)
        value = bound(target_field, to_name).rel_db_type(env.connection)
        return None if value is None else str(value)
    value = bound(field, name).db_type(env.connection)
    return None if value is None else str(value)


def db_check(field: Any, name: str, env: Env) -> str | None:
    value = bound(field, name).db_check(env.connection)
    return None if value is None else str(value)


def has_db_default(field: Any) -> bool:
    """A real database default (``db_default``, Django >= 5.0); ``None`` is no default."""
    from django.db.models import NOT_PROVIDED

    value = getattr(field, "db_default", NOT_PROVIDED)
    if value is NOT_PROVIDED or value is None:
        return False
    return not (type(value).__name__ == "Value" and getattr(value, "value", 0) is None)


def db_default(field: Any) -> Any:
    from django.db.models import NOT_PROVIDED

    value = getattr(field, "db_default", NOT_PROVIDED)
    return None if value is NOT_PROVIDED else value


def has_transient_default(field: Any) -> bool:
    """Whether Django's schema editor fills existing rows with a default while adding
    the column (and then drops it): Django's "effective default" is not None."""
    if field.has_default():
        # ``field.default`` rather than ``get_default()``: a state relation's target
        # is a string, which ``ForeignKey.get_default`` cannot handle.
        default = field.default
        return callable(default) or default is not None
    if is_generated(field):
        return False
    if not field.null and field.blank and field.empty_strings_allowed:
        return True
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def walk_expression(expression: Any) -> Iterator[Any]:
    yield expression
    get_sources = getattr(expression, "get_source_expressions", None)
    if get_sources is None:
        return
    for source in get_sources():
        if source is not None:
            yield from walk_expression(source)


VOLATILE_FUNCTIONS = frozenset(
    {
        "RANDOM",
        "RANDOM_NORMAL",
        "GEN_RANDOM_UUID",
        "GEN_RANDOM_BYTES",
        "UUID_GENERATE_V1",
        "UUID_GENERATE_V1MC",
        "UUID_GENERATE_V4",
        "UUIDV4",
        "UUIDV7",
        "CLOCK_TIMESTAMP",
        "TIMEOFDAY",
        "NEXTVAL",
        "SETSEED",
    }
)
VOLATILE_CLASSES = frozenset({"Random", "RandomUUID", "UUID4", "UUID7"})


def volatile_part(expression: Any) -> str | None:
    """The name of a volatile function in a database default expression, if any.

    Django's own functions are known; ``Func(function=...)`` and ``RawSQL`` are
    checked against PostgreSQL's volatile built-ins. Custom SQL functions are
    assumed not to be volatile.
    """
    import re

    for node in walk_expression(expression):
        cls_name = type(node).__name__
        if cls_name in VOLATILE_CLASSES:
            return f"{cls_name}()"
        function = (getattr(node, "extra", None) or {}).get("function") or getattr(
            node, "function", None
        )
        if isinstance(function, str) and function.upper() in VOLATILE_FUNCTIONS:
            return f"{function.lower()}()"
        if cls_name == "RawSQL":
            sql = str(getattr(node, "sql", ""))
            for word in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", sql):
                if word.upper() in VOLATILE_FUNCTIONS:
                    return f"{word.lower()}()"
    return None


def fields_differ_in_database(
    old: Any, new: Any, old_name: str, new_name: str, same_target_table: bool
) -> bool:
    """Mirror of Django's ``BaseDatabaseSchemaEditor._field_should_be_altered``.

    Its form in Django 5.0 to 6.1 (identical in 6.0 and 6.1): the ``to`` of a
    relation whose target table is unchanged and an equal ``db_default`` do not
    alter the column. Django 4.2 also alters in those two cases; the newer,
    narrower test is kept on 4.2 as well (a no-op ALTER there takes no lock worth
    reporting).
    """
    if bound(old, old_name).column != bound(new, new_name).column:
        return True
    _, old_path, old_args, old_kwargs = old.deconstruct()
    _, new_path, new_args, new_kwargs = new.deconstruct()
    for attr in getattr(old, "non_db_attrs", ()):
        old_kwargs.pop(attr, None)
    for attr in getattr(new, "non_db_attrs", ()):
        new_kwargs.pop(attr, None)
    if same_target_table:
        old_kwargs.pop("to", None)
        new_kwargs.pop("to", None)
    if (
        "db_default" in old_kwargs
        and "db_default" in new_kwargs
        and repr(old_kwargs["db_default"]) == repr(new_kwargs["db_default"])
    ):
        old_kwargs.pop("db_default")
        new_kwargs.pop("db_default")
    return bool((old_path, old_args, old_kwargs) != (new_path, new_args, new_kwargs))


def field_indexed(field: Any) -> bool:
    """Whether Django gives the column a plain (non-unique) index."""
    return bool(getattr(field, "db_index", False)) and not getattr(field, "unique", False)


def field_unique(field: Any) -> bool:
    return bool(getattr(field, "unique", False)) and not getattr(field, "primary_key", False)


def constraint_condition(constraint: Any) -> Any:
    """``CheckConstraint.condition`` (Django >= 5.1) or ``.check`` (older)."""
    attrs = vars(constraint)
    if "condition" in attrs:
        return attrs["condition"]
    return attrs.get("check")


def proves_not_null(constraint: Any, names: set[str]) -> bool:
    """Whether a check constraint's condition is ``<name> IS NOT NULL`` (alone or ANDed)."""
    if type(constraint).__name__ != "CheckConstraint":
        return False
    return _q_proves_not_null(constraint_condition(constraint), names, negated=False)


def _q_proves_not_null(node: Any, names: set[str], negated: bool) -> bool:
    if isinstance(node, tuple) and len(node) == 2:
        lookup, value = node
        if not isinstance(lookup, str):
            return False
        if negated:
            return (lookup in {f"{n}__isnull" for n in names} and value is True) or (
                lookup in names | {f"{n}__exact" for n in names} and value is None
            )
        return lookup in {f"{n}__isnull" for n in names} and value is False
    children = getattr(node, "children", None)
    if children is None:
        return False
    node_negated = negated != bool(getattr(node, "negated", False))
    connector = getattr(node, "connector", "AND")
    if len(children) == 1:
        return _q_proves_not_null(children[0], names, node_negated)
    if connector == "AND" and not node_negated:
        return any(_q_proves_not_null(child, names, False) for child in children)
    if connector == "OR" and node_negated:
        return any(_q_proves_not_null(child, names, True) for child in children)
    return False


def check_reads(constraint: Any, names: set[str]) -> bool:
    """Whether a check constraint's condition reads one of the fields ``names``: a
    lookup on it (``total__gte``, ``code``), or an ``F("total")`` among the values."""
    if type(constraint).__name__ != "CheckConstraint":
        return False
    return _q_reads(constraint_condition(constraint), names)


def _q_reads(node: Any, names: set[str]) -> bool:
    if isinstance(node, tuple) and len(node) == 2:
        lookup, value = node
        if isinstance(lookup, str) and lookup.split("__", 1)[0] in names:
            return True
        return _expression_reads(value, names)
    children = getattr(node, "children", None)
    if children is not None:
        return any(_q_reads(child, names) for child in children)
    return _expression_reads(node, names)


def _expression_reads(value: Any, names: set[str]) -> bool:
    name = getattr(value, "name", None)
    if type(value).__name__ == "F" and isinstance(name, str):
        return name.split("__", 1)[0] in names
    sources = getattr(value, "get_source_expressions", None)
    if callable(sources):
        return any(_expression_reads(v, names) for v in sources())
    return False


def field_names_in_constraints(snap: ModelSnap) -> set[str]:
    """Fields that appear in the model's indexes, unique/index_together and unique constraints."""
    names: set[str] = set()
    for index in snap.options.get("indexes", []) or []:
        names.update(f.lstrip("-") for f in getattr(index, "fields", []) or [])
    for constraint in snap.options.get("constraints", []) or []:
        names.update(getattr(constraint, "fields", []) or [])
    for option in ("unique_together", "index_together"):
        for group in normalize_together(snap.options.get(option)):
            names.update(group)
    return names


def normalize_together(value: Any) -> set[tuple[str, ...]]:
    if not value:
        return set()
    items = list(value)
    if items and isinstance(items[0], str):
        return {tuple(items)}
    return {tuple(group) for group in items}
