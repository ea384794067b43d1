from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: nullable columns."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_columns", "0002_add_status_not_null")]

    operations = [
        migrations.AddField("customer", "nickname", models.CharField(max_length=50, null=True)),
        migrations.AddField("customer", "legacy", models.CharField(max_length=50, null=True)),
    ]
