import django.db.models.functions.math
from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: random() is evaluated for every existing row: a table rewrite."""

    expected_codes = {"DJG202"}

    dependencies = [("djgc_dbdefault", "0003_db_default_none")]

    operations = [
        migrations.AddField(
            "flag", "rnd", models.FloatField(db_default=django.db.models.functions.math.Random())
        ),
    ]
