import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: now() is stable: evaluated once, no rewrite."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_dbdefault", "0004_volatile_default")]

    operations = [
        migrations.AddField(
            "flag", "created", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())
        ),
    ]
