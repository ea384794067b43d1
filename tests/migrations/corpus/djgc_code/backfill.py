"""A data-migration step shared by the corpus migrations.

When ``DJGC_BACKFILL_LOCK`` is set (PostgreSQL only), the step first waits for
that advisory lock: the lock tests hold it to keep the migration's
transaction open at this point and look at what it blocks.
"""

from __future__ import annotations

import os
from typing import Any


def wait_for_test_lock(schema_editor: Any) -> None:
    key = os.environ.get("DJGC_BACKFILL_LOCK")
    if key and schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SELECT pg_advisory_xact_lock(%s)", [int(key)])
