from django.db import migrations


class Migration(migrations.Migration):
    """Safe: the field leaves the state; the column stays until a later release."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_columns", "0004_remove_nickname")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField("customer", "legacy")],
            database_operations=[],
        ),
    ]
