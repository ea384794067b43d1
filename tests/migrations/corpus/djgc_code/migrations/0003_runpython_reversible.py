from django.db import migrations


def forwards(apps, schema_editor):
    Ticket = apps.get_model("djgc_code", "Ticket")
    Ticket.objects.filter(status="").update(status="open")


class Migration(migrations.Migration):
    """Safe: historical models, and a reverse."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_code", "0002_runpython_without_reverse")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
