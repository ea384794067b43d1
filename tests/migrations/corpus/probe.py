"""Apply corpus migrations for real, one command at a time (used by the tests).

Run from the corpus directory with the corpus settings. Reads JSON commands
from stdin, answers one JSON line per command on stdout::

    {"cmd": "migrate", "app": "djgc_types", "target": "0005_qty_bigint", "notices": true}
    -> {"ok": true, "notices": ["rewriting table \"djgc_types_product\"", ...]}
    {"cmd": "quit"}

``notices`` collects PostgreSQL's DEBUG1 messages during the migration
(``rewriting table``, ``verifying table``, ``building index``): evidence of
what the database really did.
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "corpus_settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    print(json.dumps({"ready": True, "vendor": connection.vendor}), flush=True)
    for line in sys.stdin:
        command: dict[str, Any] = json.loads(line)
        if command["cmd"] == "quit":
            break
        notices: list[str] = []
        handler = None
        try:
            if command.get("notices") and connection.vendor == "postgresql":
                connection.ensure_connection()

                def handler(diagnostic: Any) -> None:
                    notices.append(str(diagnostic.message_primary))

                connection.connection.add_notice_handler(handler)
                with connection.cursor() as cursor:
                    cursor.execute("SET client_min_messages TO debug1")
            args = [command["app"]] if command.get("app") else []
            if command.get("app") and command.get("target"):
                args.append(command["target"])  # no target: the app's latest migration
            call_command(
                "migrate", *args, fake=bool(command.get("fake")), verbosity=0, stdout=io.StringIO()
            )
            answer: dict[str, Any] = {"ok": True}
        except Exception as exc:  # reported to the test, which asserts on it
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        finally:
            if handler is not None:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SET client_min_messages TO notice")
                    connection.connection.remove_notice_handler(handler)
                except Exception:
                    pass
        answer["notices"] = notices
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
