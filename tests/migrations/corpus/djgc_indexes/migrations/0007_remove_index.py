from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: DROP INDEX takes an ACCESS EXCLUSIVE lock."""

    expected_codes = {"DJG212"}

    dependencies = [("djgc_indexes", "0006_unique_constraint")]

    operations = [migrations.RemoveIndex("event", "djgc_event_at")]
