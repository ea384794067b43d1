"""Ctrl-C and SIGTERM: stop cleanly, with the exit codes shells use (130 and 143).

Long steps (the lock tracer's scratch database, the gates run by ``django-gates
run``) clean up in ``finally`` blocks; :func:`terminate_as_interrupt` makes
SIGTERM unwind the same way Ctrl-C does (a :class:`Terminated`, a
``KeyboardInterrupt``), and the CLI turns either into one line and its exit code.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program was, so that ``finally`` blocks run."""


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside: SIGTERM raises :class:`Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_code(exc: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
