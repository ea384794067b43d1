from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: db_column pins the column, so the rename is state-only."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_columns", "0006_rename_name")]

    operations = [
        migrations.AlterField(
            "customer", "status", models.CharField(default="new", max_length=20, db_column="status")
        ),
        migrations.RenameField("customer", "status", "state"),
    ]
