"""Apply every migration to a new, empty test database of one alias, then drop it.

Run by :func:`pytest_django_gates.fix.proof.apply_migrations` as
``python -m pytest_django_gates.fix.apply_worker ALIAS`` with the project's
``DJANGO_SETTINGS_MODULE``: the proof that an edited migration still applies, on
the database the project tests on (an ``AddIndexConcurrently`` cannot run on SQLite,
and that is a reason not to keep the fix). The test database gets a name of its own
(``test_djgfix_<pid>``; SQLite: in memory), so a test database of a suite running
at the same time is not touched. Exit 0 when it applied; 1 with the error on stderr.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m pytest_django_gates.fix.apply_worker ALIAS", file=sys.stderr)
        return 2
    alias = args[0]
    import django

    django.setup()
    from django.db import connections

    connection = connections[alias]
    test = connection.settings_dict.setdefault("TEST", {})
    test["NAME"] = None if connection.vendor == "sqlite" else f"test_djgfix_{os.getpid()}"
    try:
        old_name = connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=False
        )
    except Exception as exc:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        print(f"migrate on a new {connection.vendor} test database failed: {last}", file=sys.stderr)
        return 1
    connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    print(connection.vendor)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
