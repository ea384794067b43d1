"""``queries.fetch_mode = "raise"``: Django 6.1's ``FETCH_RAISE`` as the default during tests.

Django 6.1 gives every queryset a fetch mode (``QuerySet.fetch_mode()``); a
queryset made without one takes ``django.db.models.query.DEFAULT_FETCH_MODE``
(``FETCH_ONE``) when it is created. With ``raise`` that default is
``FETCH_RAISE`` while each test body runs (the same span the query gate
records), so any lazy load of a forward or reverse one-to-one relation, a
deferred field or a generic foreign key raises ``FieldFetchBlocked`` at its
own line, whatever the row count. Querysets built in fixtures, raw querysets
(their default is bound when Django defines them) and instances made in code
keep ``FETCH_ONE``; related managers (``author.books.all()``) are not lazy
loads and are not affected. A queryset that asks for a mode explicitly keeps it.

Patch point: the module attribute ``django.db.models.query.DEFAULT_FETCH_MODE``
(Django 6.1; absent before, where this option is a usage error).
"""

from __future__ import annotations

from collections.abc import Callable

from pytest_django_gates.config import ConfigError


def check_available() -> None:
    """Raise :class:`ConfigError` unless the running Django has fetch modes (6.1+)."""
    import django

    if django.VERSION < (6, 1):
        raise ConfigError(
            f"queries.fetch_mode = 'raise' needs Django 6.1 or newer (fetch modes); this is "
            f"Django {django.get_version()}: remove --gates-fetch-mode / fetch_mode from "
            "[tool.django-gates.queries], or upgrade Django"
        )


def set_raise() -> Callable[[], None]:
    """Make ``FETCH_RAISE`` the default fetch mode; return the function that restores it."""
    from django.db.models import FETCH_RAISE, query  # type: ignore[attr-defined,unused-ignore]

    previous = query.DEFAULT_FETCH_MODE  # type: ignore[attr-defined,unused-ignore]
    query.DEFAULT_FETCH_MODE = FETCH_RAISE  # type: ignore[attr-defined,unused-ignore]

    def restore() -> None:
        query.DEFAULT_FETCH_MODE = previous  # type: ignore[attr-defined,unused-ignore]

    return restore
