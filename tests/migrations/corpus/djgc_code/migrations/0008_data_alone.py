from django.db import migrations

from djgc_code.backfill import wait_for_test_lock


def backfill(apps, schema_editor):
    wait_for_test_lock(schema_editor)
    Ticket = apps.get_model("djgc_code", "Ticket")
    Ticket.objects.filter(priority__isnull=True).update(priority=2)


class Migration(migrations.Migration):
    """Safe: the data step in its own migration holds no schema lock."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_code", "0007_schema_then_data")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
