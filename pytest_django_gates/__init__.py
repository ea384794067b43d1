"""pytest-django-gates: quality gates that stop a Django pull request from breaking production."""

import sys

__version__ = "0.1.0"


def _leave_assertions_alone() -> None:
    """Import this package's modules as Python does, not through pytest's assertion
    rewriting.

    pytest rewrites the ``assert`` statements of every module of a plugin's distribution
    (it marks the package in ``AssertionRewritingHook._must_rewrite``, pytest 8.x and
    9.x). The package asserts nothing a test reads, and the rewritten code is cached only
    where bytecode may be written: with ``PYTHONDONTWRITEBYTECODE`` set (common in CI
    images) pytest parses and compiles every module of the package again on every run,
    about 0.2 s of start-up. The package is unmarked here, when pytest first imports it
    (its entry point); where the private attributes are missing (another pytest), the
    modules are rewritten as before: slower, not wrong."""
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        cache = getattr(finder, "_marked_for_rewrite_cache", None)
        if isinstance(marked, set) and __name__ in marked:
            marked.discard(__name__)
            if isinstance(cache, dict):
                cache.clear()


_leave_assertions_alone()
