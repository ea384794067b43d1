from django.db import migrations, models


def backfill(apps, schema_editor):
    apps.get_model("djgc_columns", "Customer").objects.filter(region__isnull=True).update(
        region="eu"
    )


class Migration(migrations.Migration):
    """Unsafe: add a nullable column, backfill it and make it NOT NULL in one migration on
    an existing table: SET NOT NULL scans it under ACCESS EXCLUSIVE, old code's INSERTs
    fail (DJG210); the backfill runs while the schema change holds its lock (DJG216)."""

    expected_codes = {"DJG210", "DJG216"}

    dependencies = [("djgc_columns", "0007_rename_keeping_column")]

    operations = [
        migrations.AddField("customer", "region", models.CharField(max_length=2, null=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField("customer", "region", models.CharField(max_length=2)),
    ]
