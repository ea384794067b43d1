from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: a stored generated column is computed for every row: a rewrite."""

    expected_codes = {"DJG202"}

    dependencies = [("djgc_dbdefault", "0005_stable_default")]

    operations = [
        migrations.AddField(
            "flag",
            "double",
            models.GeneratedField(
                expression=models.F("id") * 2, output_field=models.BigIntegerField(), db_persist=True
            ),
        ),
    ]
