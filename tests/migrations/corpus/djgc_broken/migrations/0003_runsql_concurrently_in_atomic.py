from django.db import migrations


class Migration(migrations.Migration):
    """Cannot run: CREATE INDEX CONCURRENTLY inside the migration's transaction."""

    expected_codes = {"DJG223"}

    dependencies = [("djgc_broken", "0002_concurrently_in_atomic")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY djgc_gadget_name2 ON djgc_broken_gadget (name)",
            reverse_sql="DROP INDEX djgc_gadget_name2",
        ),
    ]
