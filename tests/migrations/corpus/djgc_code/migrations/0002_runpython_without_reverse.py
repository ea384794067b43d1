from django.db import migrations


def forwards(apps, schema_editor):
    Ticket = apps.get_model("djgc_code", "Ticket")
    Ticket.objects.filter(score__isnull=True).update(score=0)


class Migration(migrations.Migration):
    """Irreversible: no reverse_code."""

    expected_codes = {"DJG220"}

    dependencies = [("djgc_code", "0001_initial")]

    operations = [migrations.RunPython(forwards)]
