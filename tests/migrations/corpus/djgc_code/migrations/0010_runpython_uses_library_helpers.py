from django.db import migrations


def tag_tickets(apps, schema_editor):
    # A library's helpers and a library app's models: not the project's own models,
    # which are taken from apps.get_model() as they should be.
    from django.contrib.auth.models import Group
    from django.utils.text import slugify

    Ticket = apps.get_model("djgc_code", "Ticket")
    Group.objects.filter(name=slugify("support")).exists()
    Ticket.objects.count()


class Migration(migrations.Migration):
    """Safe: DJG222 counts only imports of the project's own models."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_code", "0009_runsql_create_index")]

    operations = [migrations.RunPython(tag_tickets, migrations.RunPython.noop)]
