from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: renames the column."""

    expected_codes = {"DJG205"}

    dependencies = [("djgc_columns", "0005_remove_legacy_from_state")]

    operations = [
        migrations.RenameField("customer", "name", "full_name"),
    ]
