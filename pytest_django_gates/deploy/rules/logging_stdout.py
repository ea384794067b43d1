"""DJG314: no logging to stdout/stderr.

Inspects the logging configuration Django set up (``LOGGING``, or your own
``LOGGING_CONFIG``): an ERROR logged to ``django.request`` must reach, through
the logger hierarchy, a ``StreamHandler`` (not a file handler) writing to
``sys.stdout`` or ``sys.stderr``, whose level and filters let it through with
the production ``DEBUG``. Django's default (no ``LOGGING``) only mails admins
when ``DEBUG`` is off, so it is reported. Python's "last resort" handler does
not count.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule


def _reaches_console() -> bool:
    streams = [sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__]
    logger: logging.Logger | None = logging.getLogger("django.request")
    if logger is None or not logger.isEnabledFor(logging.ERROR):
        return False
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 0, "probe", None, None)
    while logger is not None:
        for handler in logger.handlers:
            if (
                isinstance(handler, logging.StreamHandler)
                and not isinstance(handler, logging.FileHandler)
                and any(handler.stream is stream for stream in streams)
                and handler.level <= logging.ERROR
                and handler.filter(record)
            ):
                return True
        if not logger.propagate:
            break
        logger = logger.parent
    return False


def check(ctx: SettingsContext) -> Iterator[Issue]:
    if _reaches_console():
        return
    if not ctx.settings.LOGGING and ctx.settings.LOGGING_CONFIG == "logging.config.dictConfig":
        why = (
            "LOGGING is not set: with DEBUG off, Django's default logging only e-mails "
            "ADMINS, and nothing reaches stdout"
        )
    else:
        why = (
            "errors logged to django.request reach no handler writing to stdout or stderr "
            "(only files, mail, or handlers filtered out when DEBUG is off)"
        )
    yield RULE.issue(why + ": in a container or PaaS those errors are lost.")


RULE = SettingsRule(
    code="DJG314",
    setting="LOGGING",
    level="warning",
    title="no LOGGING to stdout",
    fix='add a handler {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"} '
    'and attach it to "root" (level INFO)',
    check=check,
)
