from django.db import migrations

SCORE_INDEX = "CREATE INDEX djgc_ticket_score ON djgc_code_ticket (score)"


def _index_score(editor):
    editor.execute(SCORE_INDEX)


def drop_priority(apps, schema_editor):
    # Schema changes behind the state's back: the state keeps Ticket.priority, and
    # the index is built under a lock that blocks writes (on PostgreSQL).
    _index_score(schema_editor)
    schema_editor.execute("ALTER TABLE djgc_code_ticket DROP COLUMN priority")


class Migration(migrations.Migration):
    """Unsafe: DJG218, a RunPython that drops a column the state still has (every
    database) and builds an index without CONCURRENTLY through a helper (PostgreSQL)."""

    expected_codes = {"DJG218"}

    dependencies = [("djgc_code", "0010_runpython_uses_library_helpers")]

    operations = [migrations.RunPython(drop_priority, migrations.RunPython.noop)]
