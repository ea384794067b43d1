from django.db import migrations


def backfill(apps, schema_editor):
    # Data only, through the editor's connection: DML and a temporary table.
    Ticket = apps.get_model("djgc_code", "Ticket")
    Ticket.objects.using(schema_editor.connection.alias).filter(score__isnull=True).update(score=0)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("UPDATE djgc_code_ticket SET status = 'open' WHERE status = ''")
        cursor.execute("CREATE TEMPORARY TABLE djgc_scratch (id integer)")
        cursor.execute("DROP TABLE djgc_scratch")


class Migration(migrations.Migration):
    """Safe: DJG218 is about schema changes, not a data migration that uses the
    schema editor's connection."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_code", "0011_runpython_changes_schema")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
