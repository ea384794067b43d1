"""The clock probe's patch of django.utils.timezone.now (queries/clock.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.helpers import clean_env

# In a process of its own: the patch is for a whole run.
SCRIPT = textwrap.dedent(
    """
    from datetime import timedelta

    from django.conf import settings

    settings.configure(USE_TZ=True)
    from django.utils import timezone

    from pytest_django_gates.config import ConfigError
    from pytest_django_gates.queries import clock

    taken = timezone.now  # as default=timezone.now takes it at import
    before = timezone.now()
    undo = clock.shift(12)
    assert timezone.now is taken  # the same object: a field's default still deconstructs equal
    for moved in (taken(), timezone.now(), timezone.localtime()):
        assert timedelta(hours=12) <= moved - before < timedelta(hours=12, minutes=1), moved
    try:
        clock.shift(1)
    except ConfigError as exc:
        assert "moved already" in str(exc), exc
    else:
        raise AssertionError("a second shift was installed")
    undo()
    assert timezone.now() - before < timedelta(minutes=1)
    print("ok")
    """
)


def test_the_clock_moves_every_reference_to_djangos_now_and_undoes() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=clean_env(), timeout=60
    )
    assert proc.stdout.strip() == "ok", proc.stdout + proc.stderr
