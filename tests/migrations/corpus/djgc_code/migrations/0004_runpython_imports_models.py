from django.db import migrations


def count_tickets(apps, schema_editor):
    from djgc_code.models import Ticket  # the current model, not the historical one

    Ticket.objects.count()


class Migration(migrations.Migration):
    """Unsafe: imports the app's models instead of apps.get_model()."""

    expected_codes = {"DJG222"}

    dependencies = [("djgc_code", "0003_runpython_reversible")]

    operations = [migrations.RunPython(count_tickets, migrations.RunPython.noop)]
