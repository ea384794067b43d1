"""The clock probe: run the suite with Django's clock moved, to find tests whose query
count follows the time of day.

A test that makes its rows up to "now" (babybuddy's ``fake`` command spreads a week of
entries up to ``timezone.localtime()``; a dashboard lists today's entries) runs more or
fewer queries depending on when it runs. Its query count cannot be held by a baseline:
the run after the baseline's fails or passes with the hour. ``django-gates init
--baselines`` runs the suite a second time with ``--gates-clock-shift=HOURS``, and the
tests whose counts differ between the two runs are written to the baseline's
``clock`` list; their growth is a ``DJG103`` warning that says so (baseline.py).

What moves: ``django.utils.timezone.now`` (Django 4.2, 5.2, 6.0 and 6.1 define it as a
module function of no arguments and no closure). Its code is swapped in place, so every
reference to it moves: ``localtime()``, ``localdate()``, code calling ``timezone.now()``,
and a ``default=timezone.now`` taken at import. The function object stays the same, so a
field's default still equals the one its migration names (the migrations gate sees no
drift). ``datetime.now()`` and ``time.time()`` keep the real clock: the probe finds the
tests whose counts move with Django's clock.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import timedelta

from pytest_django_gates.config import ConfigError

_REAL = "_django_gates_clock_real_now"
_MOVED = "_django_gates_clock_moved"
_SHIFTED = "def now():\n    return _django_gates_clock_real_now() + _django_gates_clock_moved\n"


def shift(hours: float) -> Callable[[], None]:
    """Move ``django.utils.timezone.now`` by ``hours``; returns the undo. All or
    nothing: on a Django whose ``timezone.now`` is not that module function nothing
    is changed and a :class:`ConfigError` says so."""
    import django
    from django.utils import timezone

    now = timezone.now
    code = getattr(now, "__code__", None)
    if (
        not isinstance(now, types.FunctionType)
        or now.__module__ != "django.utils.timezone"
        or code is None
        or code.co_argcount
        or code.co_freevars
        or _REAL in vars(timezone)
    ):
        raise ConfigError(
            f"--gates-clock-shift: django.utils.timezone.now of Django {django.get_version()} "
            "is not the module function it moves (Django 4.2 to 6.1), or is moved already"
        )
    real = types.FunctionType(code, now.__globals__, "now", now.__defaults__, now.__closure__)
    scratch: dict[str, object] = {}
    exec(compile(_SHIFTED, "<django-gates clock>", "exec"), scratch)
    shifted = scratch["now"]
    assert isinstance(shifted, types.FunctionType)
    module = vars(timezone)
    module[_REAL] = real
    module[_MOVED] = timedelta(hours=hours)
    now.__code__ = shifted.__code__

    def undo() -> None:
        now.__code__ = code
        module.pop(_REAL, None)
        module.pop(_MOVED, None)

    return undo
