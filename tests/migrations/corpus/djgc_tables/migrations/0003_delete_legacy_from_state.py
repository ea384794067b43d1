from django.db import migrations


class Migration(migrations.Migration):
    """Safe: the model leaves the state; the table is dropped in a later release."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_tables", "0002_delete_draft")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel("Legacy")]),
    ]
