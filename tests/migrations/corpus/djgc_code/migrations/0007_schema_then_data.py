from django.db import migrations, models

from djgc_code.backfill import wait_for_test_lock


def backfill(apps, schema_editor):
    wait_for_test_lock(schema_editor)
    Ticket = apps.get_model("djgc_code", "Ticket")
    Ticket.objects.filter(priority__isnull=True).update(priority=1)


class Migration(migrations.Migration):
    """Risky: the ACCESS EXCLUSIVE lock of AddField is held while the data step runs."""

    expected_codes = {"DJG216"}

    dependencies = [("djgc_code", "0006_runsql_reversible")]

    operations = [
        migrations.AddField("ticket", "priority", models.IntegerField(null=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
