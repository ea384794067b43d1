from django.db import migrations, models


def stamp_each(apps, schema_editor):
    Ticket = apps.get_model("djgc_code", "Ticket")
    for ticket in Ticket.objects.only("id"):
        ticket.source = "web"
        ticket.save(update_fields=["source"])


class Migration(migrations.Migration):
    """Unsafe: a save() per row of the existing ticket table under AddField's lock
    (DJG216 error)."""

    expected_codes = {"DJG216"}

    dependencies = [("djgc_code", "0014_schema_then_sql_backfill")]

    operations = [
        migrations.AddField("ticket", "source", models.CharField(max_length=10, null=True)),
        migrations.RunPython(stamp_each, migrations.RunPython.noop),
    ]
