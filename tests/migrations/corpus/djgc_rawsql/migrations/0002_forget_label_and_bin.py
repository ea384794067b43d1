from django.db import migrations


class Migration(migrations.Migration):
    """Safe: step one of a two-deploy removal, from the state only."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_rawsql", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField("shelf", "label"), migrations.DeleteModel("Bin")]
        )
    ]
